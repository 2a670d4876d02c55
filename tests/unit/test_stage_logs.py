"""Each billing stage logs one sentence a person can read: the slice, its rows, its amounts to the cent and,
where the stage knows it, the source version; never a dataclass repr or 10-decimal amounts."""

from __future__ import annotations

import logging
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from cloudcost.cli import main
from tests.helpers import stage_run

DAY = date(2026, 11, 2)


def _cents(value: object) -> str:
    return f"{Decimal(str(value)).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"


@pytest.mark.parametrize("provider", ["aws", "gcp"])
def test_every_stage_logs_one_sentence(
    data_dir: Path, demo_credentials: list[str], caplog: pytest.LogCaptureFixture, provider: str
) -> None:
    from cloudcost.pipeline.stages import run_checks, run_convert_to_focus, run_land_raw, run_record

    assert main(["demo", "generate", "--org", "demo", "--from", str(DAY), "--to", str(DAY)]) == 0
    run = stage_run(provider, DAY)
    with caplog.at_level(logging.INFO, logger="cloudcost.pipeline"):
        landed = run_land_raw(run)
        converted = run_convert_to_focus(run)
        checked = run_checks(run)
        recorded = run_record(run, landed, checked)
    lines = {
        stage: [r.getMessage() for r in caplog.records if r.getMessage().startswith(stage)]
        for stage in ("land_raw", "convert_to_focus", "reconcile", "record")
    }
    assert all(len(found) == 1 for found in lines.values()), lines
    [land], [convert], [check], [record] = lines.values()
    prefix = f"demo/{provider} {DAY}: "
    assert land.startswith(f"land_raw {prefix}")
    assert f"holds {landed['rows']:,} raw rows" in land and f"billed {_cents(landed['billed_cost'])} " in land
    assert f"source version {landed['source_version']}." in land
    assert convert.startswith(f"convert_to_focus {prefix}wrote {converted['rows']:,} FOCUS rows")
    assert f"BilledCost {_cents(converted['billed_cost'])}, EffectiveCost {_cents(converted['effective_cost'])}" in (
        convert
    )
    assert check.startswith(f"reconcile {prefix}raw and FOCUS BilledCost agree exactly")
    assert f"{checked['focus_rows']:,} FOCUS rows, BilledCost {_cents(checked['billed_cost'])}" in check
    assert record == (
        f"record {provider} {DAY}: load_state is succeeded for run {run.run.run_id}: {recorded['raw_rows']:,} raw "
        f"rows, {recorded['focus_rows']:,} FOCUS rows, BilledCost {_cents(recorded['billed_cost'])} (billing currency, "
        f"to the cent), source version {recorded['source_version']}."
    )
    for line in (land, convert, check, record):
        assert line.endswith(".") and "Result(" not in line
        assert not re.search(r"\d\.\d{3,}", line), line  # amounts to the cent only
