"""A task resolves its run once: ``make_run_context`` reads the org file and the provider's billing.yml, and the
stages after it read no configuration file again (they are handed the resolved values)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import cloudcost.config as config
from cloudcost.cli import main

DAY = date(2026, 11, 2)


@pytest.mark.parametrize("provider", ["aws", "azure"])
def test_the_stages_read_no_configuration_after_the_run_is_resolved(
    data_dir: Path, demo_credentials: list[str], monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    from cloudcost.pipeline.stages import make_run_context, run_checks, run_convert_to_focus, run_land_raw, run_record

    assert main(["demo", "generate", "--org", "demo", "--from", str(DAY), "--to", str(DAY)]) == 0
    reads: Counter[str] = Counter()
    real = config._read_yaml

    def counted(path: Path) -> object:
        reads[Path(path).relative_to(config.config_dir()).as_posix()] += 1
        return real(path)

    monkeypatch.setattr(config, "_read_yaml", counted)
    run = make_run_context("demo", provider, DAY, "t", f"cloud_{provider}_cost_billing", DAY, datetime.now(UTC))
    resolved = dict(reads)
    assert resolved.get("orgs/demo.yml") == 1
    assert resolved.get(f"cloud/{provider}/cost/billing.yml") == 1

    landed = run_land_raw(run)
    converted = run_convert_to_focus(run)
    recorded = run_record(run, landed, run_checks(run))
    assert reads == Counter(resolved), "a stage read a configuration file the run had already resolved"
    assert landed["rows"] > 0 and converted["rows"] > 0 and recorded["status"] == "succeeded"
