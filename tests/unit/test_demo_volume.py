"""The demo generator at volume (``--scale``) and its planted incomplete day, as the sensors see them."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from cloudcost.cli import main
from cloudcost.demo import aws_cur2, gcp_detailed
from cloudcost.pipeline.stages import export_status
from cloudcost.sources.azure import AzureCostExport
from cloudcost.sources.base import BadExport
from cloudcost.sources.object_store import LocalObjectStore

DAYS = [date(2026, 11, 1), date(2026, 11, 2)]


def _parquet(root: Path) -> pq.ParquetFile:
    (path,) = root.rglob("*.parquet")
    return pq.ParquetFile(path)


def test_aws_scale_repeats_the_estate_under_new_ids_with_exact_totals(tmp_path: Path) -> None:
    aws_cur2.write_delivery(tmp_path / "one", DAYS)
    aws_cur2.write_delivery(tmp_path / "three", DAYS, scale=3)
    one, three = _parquet(tmp_path / "one").read(), _parquet(tmp_path / "three").read()
    assert three.num_rows == 3 * one.num_rows
    ids = three["identity_line_item_id"]
    assert pc.count_distinct(ids).as_py() == three.num_rows
    base_ids = set(one["identity_line_item_id"].to_pylist())
    assert base_ids <= set(ids.to_pylist())  # replica 0 is the unscaled estate
    assert {i.rsplit("-", 1)[-1] for i in ids.to_pylist() if i not in base_ids} == {"r1", "r2"}
    totals = aws_cur2.expected_billed_cost(DAYS, scale=3)
    assert totals == {k: v * 3 for k, v in aws_cur2.expected_billed_cost(DAYS).items()}
    written = sum(Decimal(repr(v)) for v in three["line_item_unblended_cost"].to_pylist())
    assert abs(written - sum(totals.values())) < Decimal("0.000001")  # doubles on disk, as AWS writes them


def test_aws_delivery_is_read_in_batches_not_whole(tmp_path: Path) -> None:
    """One row group per replica and day: the reader streams a large delivery instead of loading it."""
    aws_cur2.write_delivery(tmp_path, DAYS, scale=4)
    assert _parquet(tmp_path).metadata.num_row_groups >= 8


def test_gcp_scale_renames_resources_and_keeps_nulls(tmp_path: Path) -> None:
    gcp_detailed.write_export(tmp_path, DAYS[:1], scale=2)
    table = _parquet(tmp_path).read()
    names = [r["name"] for r in table["resource"].to_pylist()]
    half = len(names) // 2
    assert names[half:] == [None if n is None else f"{n}-r1" for n in names[:half]]
    assert any(n is None for n in names)


@pytest.mark.parametrize("option", [[], ["--incomplete-last-day"]])
def test_every_sensor_refuses_the_planted_incomplete_day(data_dir: Path, option: list[str]) -> None:
    assert main(["demo", "generate", "--org", "demo", "--from", "2026-11-01", "--to", "2026-11-02", *option]) == 0
    for provider in ("aws", "gcp", "azure", "oci"):
        assert export_status("demo", provider, DAYS[0]).complete, provider
        last = export_status("demo", provider, DAYS[1])
        assert last.complete is not bool(option), f"{provider}: {last.reason}"
        if option:
            assert any(word in last.reason for word in ("partial", "has not reached", "before")), last.reason


def test_status_command_exit_code_says_whether_a_day_is_incomplete(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["demo", "generate", "--org", "demo", "--from", "2026-11-01", "--to", "2026-11-02", "--incomplete-last-day"])
    assert main(["status", "--org", "demo", "--from", "2026-11-01", "--to", "2026-11-01"]) == 0
    assert main(["status", "--org", "demo", "--from", "2026-11-01", "--to", "2026-11-02"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert sum("NOT READY" in line for line in lines) == 4
    assert all(line.startswith("2026-11-02") for line in lines if "NOT READY" in line)


def test_incomplete_day_must_be_the_last_one(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="the incomplete day 2026-11-01 must be the last day generated"):
        aws_cur2.write_delivery(tmp_path, DAYS, incomplete_day=DAYS[0])


def test_azure_run_time_that_is_not_a_time_names_the_manifest(tmp_path: Path) -> None:
    run = tmp_path / "exports" / "amortized" / "20261101-20261130" / "run-1"
    run.mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps({"runInfo": {"submittedTime": "yesterday"}, "blobs": []}))
    export = AzureCostExport(LocalObjectStore(tmp_path), "exports", "amortized", "actual", "cost_details", 8)
    with pytest.raises(BadExport, match=r"run-1/manifest.json: key 'runInfo.submittedTime': 'yesterday'"):
        export.status(DAYS[0])


def test_azure_submitted_time_with_seven_fraction_digits_is_read(tmp_path: Path) -> None:
    """.NET writes 100-ns ticks; a run submitted before the day's end + lag leaves the day incomplete."""
    for dataset in ("amortized", "actual"):
        run = tmp_path / "exports" / dataset / "20261101-20261130" / "run-1"
        run.mkdir(parents=True)
        (run / "part.csv").write_text("a\n1\n")
        manifest = {
            "runInfo": {"runId": "run-1", "submittedTime": "2026-11-02T07:59:59.9999999Z"},
            "blobs": [{"blobName": f"exports/{dataset}/20261101-20261130/run-1/part.csv", "dataRowCount": 1}],
        }
        (run / "manifest.json").write_text(json.dumps(manifest))
    store = LocalObjectStore(tmp_path)
    eight_hours = AzureCostExport(store, "exports", "amortized", "actual", "cost_details", 8).status(DAYS[0])
    assert not eight_hours.complete
    assert "submitted at 2026-11-02T07:59:59.999999+00:00, before 2026-11-02T08:00:00+00:00" in eight_hours.reason
    assert AzureCostExport(store, "exports", "amortized", "actual", "cost_details", 7).status(DAYS[0]).complete
