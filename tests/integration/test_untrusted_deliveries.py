"""Deliveries we must not trust: each fault is written over an org whose days are loaded, and the warehouse is
compared before and after (every row of the raw tables, the FOCUS table, the ledger and the load state).

A refused delivery raises ``DeliveryRefused`` with one line naming the delivery or file and the figures, and
changes nothing; an operator's permit lets one shrink through, once; the rows and the state of a day commit
together, so no failure can leave them disagreeing.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cloudcost.cli import main
from cloudcost.config import load_org_by_slug
from cloudcost.demo import aws_cur2, azure_cost_details, gcp_detailed, oci_cost_reports
from cloudcost.paths import landing_dir
from cloudcost.pipeline import land_raw as land_raw_module
from cloudcost.pipeline.delivery_guards import DeliveryRefused
from cloudcost.pipeline.stages import (
    run_checks,
    run_convert_to_focus,
    run_land_raw,
    run_recheck,
    run_record,
)
from cloudcost.rollups.gate import missing_loads
from cloudcost.sources.base import ExportNotReady
from cloudcost.warehouse import open_warehouse
from tests.helpers import load_day, query_warehouse, recheck_and_reload, stage_run

DAYS = [date(2026, 11, 1), date(2026, 11, 2)]
TABLES = {
    "aws": "cloud_aws_billing_raw_daily",
    "gcp": "cloud_gcp_billing_raw_daily",
    "oci": "cloud_oci_billing_raw_daily",
    "azure": "cloud_azure_billing_raw_daily",
}


def _snapshot(provider: str) -> dict[str, list[tuple]]:
    """Every row of the provider's raw table, its FOCUS rows, the ledger and the load state."""
    return {
        "raw": query_warehouse(f"select * from demo_prod.{TABLES[provider]} order by all"),
        "focus": query_warehouse(
            "select * from demo_prod.cost_data_standard_1_3 where x_cloud_provider = ? order by all", [provider]
        ),
        "ledger": query_warehouse("select * from demo_prod.landed_deliveries order by all"),
        "state": query_warehouse("select * from demo_prod.load_state order by all"),
    }


def _billed(provider: str, day: date) -> Decimal:
    return query_warehouse(
        "select sum(BilledCost) from demo_prod.cost_data_standard_1_3 where x_cloud_provider = ? "
        "and x_ingestion_date = ?",
        [provider, day],
    )[0][0]


def _status(provider: str, day: date) -> str:
    return query_warehouse(
        "select status from demo_prod.load_state where provider = ? and billing_day = ?", [provider, day]
    )[0][0]


@pytest.fixture
def aws_loaded(data_dir: Path, demo_credentials: list[str]) -> Path:
    """Both days of the demo's AWS month delivery loaded and checked; returns the manifest."""
    (manifest,) = aws_cur2.write_delivery(landing_dir("demo", "aws"), DAYS)
    for day in DAYS:
        load_day("aws", day)
    return manifest


def _aws_data_file(manifest: Path) -> Path:
    document = json.loads(manifest.read_text())
    (uri,) = document["dataFiles"]
    return landing_dir("demo", "aws") / uri.split("/", 3)[3]


def test_empty_aws_manifest_with_a_new_execution_is_refused_by_land_raw_and_the_recheck(aws_loaded: Path) -> None:
    before = _snapshot("aws")
    document = json.loads(aws_loaded.read_text())
    aws_loaded.write_text(json.dumps(document | {"executionId": "exec-empty", "dataFiles": []}))
    with pytest.raises(DeliveryRefused, match=r"Manifest.json: would shrink billing day 2026-11-01: \d+ rows, billed "):
        run_land_raw(stage_run("aws", DAYS[1], "rerun"))
    with pytest.raises(DeliveryRefused, match=r"permit-shrink --org demo --provider aws --day 2026-11-01"):
        run_recheck(stage_run("aws", date(2026, 11, 3), "next-night"))
    assert _snapshot("aws") == before, "refused: nothing stored, every day keeps its rows to the row and the cent"


def test_empty_delivery_for_a_day_never_loaded_is_refused(data_dir: Path, demo_credentials: list[str]) -> None:
    (manifest,) = aws_cur2.write_delivery(landing_dir("demo", "aws"), DAYS)
    document = json.loads(manifest.read_text())
    manifest.write_text(json.dumps(document | {"dataFiles": []}))
    with pytest.raises(
        DeliveryRefused, match=r"Manifest.json \(version [0-9a-f]+\): holds no rows in 0 file\(s\) but would be the "
    ):
        run_land_raw(stage_run("aws", DAYS[0]))
    assert query_warehouse("select count(*) from demo_prod.landed_deliveries") == [(0,)]
    assert query_warehouse("select count(*) from demo_prod.load_state") == [(0,)]


def test_zero_row_gcp_parquet_is_waited_for_not_loaded(data_dir: Path, demo_credentials: list[str]) -> None:
    """GCP writes rows as it exports them: a day folder whose file holds none shows nothing exported yet."""
    (path,) = gcp_detailed.write_export(landing_dir("demo", "gcp"), DAYS[:1])
    load_day("gcp", DAYS[0])
    before = _snapshot("gcp")
    pq.write_table(pq.read_schema(path).empty_table(), path)
    with pytest.raises(ExportNotReady, match=r"usage_date=2026-11-01/: no export_time in the day's rows"):
        run_land_raw(stage_run("gcp", DAYS[0], "rerun"))
    assert _snapshot("gcp") == before


def test_zero_row_aws_parquet_is_refused(aws_loaded: Path) -> None:
    before = _snapshot("aws")
    data = _aws_data_file(aws_loaded)
    pq.write_table(pq.read_schema(data).empty_table(), data)
    with pytest.raises(DeliveryRefused, match=r"Manifest.json: would shrink billing day 2026-11-01: \d+ rows"):
        run_land_raw(stage_run("aws", DAYS[0], "rerun"))
    assert _snapshot("aws") == before


def test_repeated_aws_line_items_are_refused_naming_the_key_and_file(aws_loaded: Path) -> None:
    before = _snapshot("aws")
    data = _aws_data_file(aws_loaded)
    table = pq.read_table(data)
    pq.write_table(pa.concat_tables([table, table.slice(0, 3)]), data)
    with pytest.raises(
        DeliveryRefused,
        match=r"line item identity_line_item_id='[^']+', identity_time_interval='[^']+' appears 2 times in "
        r"cur/demo-cur2/data/BILLING_PERIOD=2026-11/demo-cur2-00001.snappy.parquet: a repeated line item",
    ):
        run_land_raw(stage_run("aws", DAYS[0], "rerun"))
    assert _snapshot("aws") == before


def test_second_copy_of_a_gcp_file_in_the_day_folder_is_refused(data_dir: Path, demo_credentials: list[str]) -> None:
    (path,) = gcp_detailed.write_export(landing_dir("demo", "gcp"), DAYS[:1])
    load_day("gcp", DAYS[0])
    before = _snapshot("gcp")
    shutil.copy2(path, path.with_name("export-000 (1).parquet"))
    with pytest.raises(
        DeliveryRefused,
        match=r"export-000.*parquet and .*export-000.*parquet of delivery .* are "
        r"identical \(\d+ bytes\): one is a copy",
    ):
        run_land_raw(stage_run("gcp", DAYS[0], "rerun"))
    assert _snapshot("gcp") == before


def test_oci_report_in_another_currency_for_the_same_tenancy_is_refused(
    data_dir: Path, demo_credentials: list[str]
) -> None:
    oci_cost_reports.write_reports(landing_dir("demo", "oci"), DAYS[:1])
    load_day("oci", DAYS[0])
    before = _snapshot("oci")
    rows = oci_cost_reports.rows_for_window(7, datetime(2026, 11, 1, 18, tzinfo=UTC))
    late = [r | {"lineItem/referenceNo": r["lineItem/referenceNo"] + "-eur", "cost/currencyCode": "EUR"} for r in rows]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=oci_cost_reports.HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(late)
    folder = landing_dir("demo", "oci") / "reports" / "cost-csv"
    (folder / "reports_cost-csv_9999999999999999.csv.gz").write_bytes(gzip.compress(buffer.getvalue().encode()))
    with pytest.raises(
        DeliveryRefused,
        match=r"billing account '[^']+' is billed in 2 currencies \(column 'currency_code': EUR in "
        r"reports/cost-csv/reports_cost-csv_9999999999999999.csv.gz; USD in reports/cost-csv/",
    ):
        run_land_raw(stage_run("oci", DAYS[0], "rerun"))
    assert _snapshot("oci") == before


def test_oci_report_repeating_another_reports_line_items_is_refused(
    data_dir: Path, demo_credentials: list[str]
) -> None:
    (first, *_) = oci_cost_reports.write_reports(landing_dir("demo", "oci"), DAYS[:1])
    load_day("oci", DAYS[0])
    before = _snapshot("oci")
    shutil.copy2(first, first.with_name("reports_cost-csv_9999999999999999.csv.gz"))
    with pytest.raises(DeliveryRefused, match=r"line item reference_no='[^']+' appears 2 times in reports/cost-csv/"):
        run_land_raw(stage_run("oci", DAYS[0], "rerun"))
    assert _snapshot("oci") == before


def test_shrunk_restatement_needs_a_permit_which_lets_one_load_through(
    aws_loaded: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _snapshot("aws")
    data = _aws_data_file(aws_loaded)
    table = pq.read_table(data)
    pq.write_table(table.take(list(range(0, table.num_rows, 3))), data)  # restated: two line items in three gone
    document = json.loads(aws_loaded.read_text())
    aws_loaded.write_text(json.dumps(document | {"executionId": "exec-restated"}))
    with pytest.raises(DeliveryRefused, match=r"would shrink billing day 2026-11-01"):
        run_recheck(stage_run("aws", date(2026, 11, 3), "night-1"))
    assert _snapshot("aws") == before

    permit = ["permit-shrink", "--org", "demo", "--provider", "aws", "--day", "2026-11-01", "--to", "2026-11-02"]
    assert main([*permit, "--reason", "AWS removed account X from the payer"]) == 0
    assert main([*permit, "--reason", "asked twice"]) == 0, "a day with an unused permit keeps that one"
    assert "permit granted: the next load of demo/aws 2026-11-01..2026-11-02 (2 days)" in capsys.readouterr().out
    reloaded = recheck_and_reload(stage_run("aws", date(2026, 11, 3), "night-2"))
    assert [r["billing_day"] for r in reloaded] == [str(d) for d in DAYS]
    expected = query_warehouse(
        "select ingestion_date, sum(line_item_unblended_cost) from demo_prod.cloud_aws_billing_raw_daily "
        "group by 1 order by 1"
    )
    assert [(d, _billed("aws", d)) for d in DAYS] == expected, "FOCUS follows the restated raw rows to the cent"
    used = query_warehouse("select billing_day, used_by_run, reason from demo_prod.shrink_permits order by 1")
    reason = "AWS removed account X from the payer"
    assert used == [(DAYS[0], "night-2", reason), (DAYS[1], "night-2", reason)]
    assert "operator's permit used by run night-2: billing day 2026-11-01" in caplog.text
    assert main(["permits", "--org", "demo"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in listing] == [["aws", "2026-11-01"], ["aws", "2026-11-02"]]
    assert all(f"({reason}); used by run night-2 at " in line for line in listing)
    assert "billing day 2026-11-01: " in listing[0] and " -> " in listing[0]

    pq.write_table(table.slice(0, 10), data)  # shrinks again: the permits are spent
    aws_loaded.write_text(json.dumps(document | {"executionId": "exec-restated-again"}))
    with pytest.raises(DeliveryRefused, match=r"would shrink billing day 2026-11-01"):
        run_recheck(stage_run("aws", date(2026, 11, 3), "night-3"))


def test_rows_and_the_days_state_commit_together(aws_loaded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure after the rows are in (here: writing the day's state) leaves neither the rows nor the state."""
    before = _snapshot("aws")
    aws_cur2.write_delivery(landing_dir("demo", "aws"), DAYS, seed=8)  # AWS restates the month

    def fail(*args: object) -> None:
        raise OSError("worker lost")

    monkeypatch.setattr(land_raw_module, "write_state", fail)
    with pytest.raises(OSError, match="worker lost"):
        run_land_raw(stage_run("aws", DAYS[1], "rerun"))
    assert _snapshot("aws") == before


def test_a_delivery_that_changes_an_earlier_day_marks_it_stale_until_the_recheck(aws_loaded: Path) -> None:
    aws_cur2.write_delivery(landing_dir("demo", "aws"), [*DAYS, date(2026, 11, 3)], seed=8)  # restated, one more day
    run = stage_run("aws", date(2026, 11, 3), "night")
    landed = run_land_raw(run)
    assert [_status("aws", d) for d in DAYS] == ["stale", "stale"], "changed with the rows, in their transaction"
    warehouse = open_warehouse()
    with warehouse.session("demo_prod") as session:
        refused = missing_loads(warehouse, session, load_org_by_slug("demo"), DAYS)
    assert {(m.provider, m.day) for m in refused} >= {("aws", DAYS[0]), ("aws", DAYS[1])}
    run_convert_to_focus(run)
    run_record(run, landed, run_checks(run))
    reloaded = recheck_and_reload(run)
    assert [r["billing_day"] for r in reloaded] == [str(d) for d in DAYS]
    assert [_status("aws", d) for d in DAYS] == ["succeeded", "succeeded"]
    expected = aws_cur2.expected_billed_cost([*DAYS, date(2026, 11, 3)], seed=8)
    for day in DAYS:
        assert _billed("aws", day) == sum(v for (_, d), v in expected.items() if d == day)


def test_azure_account_without_actual_rows_reconciles_as_zero(data_dir: Path, demo_credentials: list[str]) -> None:
    """An account whose only rows on a day are amortized reservation usage (paid by the purchase, so billed 0)
    has no actual row: the raw side has no sum for it, FOCUS sums 0, and the two agree."""
    azure_cost_details.write_exports(landing_dir("demo", "azure"), DAYS[:1])
    run = stage_run("azure", DAYS[0])
    run_land_raw(run)
    with open_warehouse().session("demo_prod") as session:  # the export as such an account's day would look
        moved = session.execute(
            "update demo_prod.cloud_azure_billing_raw_daily set billing_account_id = 'covered-by-reservations' "
            "where x_cost_dataset = 'amortized' and pricing_model = 'Reservation' and charge_type = 'Usage'"
        ).fetchall()
    assert moved[0][0] > 0
    run_convert_to_focus(run)
    focus = query_warehouse(
        "select count(*), sum(BilledCost) from demo_prod.cost_data_standard_1_3 "
        "where BillingAccountId = 'covered-by-reservations'"
    )
    assert focus[0][0] > 0 and focus[0][1] == 0, "the account has FOCUS rows, all billed 0"
    raw_side = query_warehouse(
        "select count(*) from demo_prod.cloud_azure_billing_raw_daily where x_cost_dataset = 'actual' "
        "and billing_account_id = 'covered-by-reservations'"
    )
    assert raw_side == [(0,)], "and no actual row"
    checked = run_checks(run)
    assert checked["mismatches"] == [] and checked["accounts"] == 2


def test_half_uploaded_gcp_file_makes_the_sensor_wait(data_dir: Path, demo_credentials: list[str]) -> None:
    from cloudcost.pipeline.stages import export_status

    (path,) = gcp_detailed.write_export(landing_dir("demo", "gcp"), DAYS[:1])
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])  # the upload is half way
    status = export_status("demo", "gcp", DAYS[0])
    assert not status.complete
    assert "not readable yet (still being written?)" in status.reason and "export-000.parquet" in status.reason
    with pytest.raises(ExportNotReady, match="not readable yet"):
        run_land_raw(stage_run("gcp", DAYS[0]))
    path.write_bytes(whole)  # the upload finished
    assert export_status("demo", "gcp", DAYS[0]).complete
    assert load_day("gcp", DAYS[0])["status"] == "succeeded"
