"""land_raw: exact decimals, lineage on every row, slice replacement, and bad input that changes nothing."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from cloudcost.config import load_billing_config, load_org_by_slug
from cloudcost.demo.aws_cur2 import expected_billed_cost, write_delivery
from cloudcost.paths import landing_dir, warehouse_file
from cloudcost.pipeline.delivery_guards import DeliveryRefused, DeliveryRules
from cloudcost.pipeline.land_raw import land_raw
from cloudcost.pipeline.shrink_permits import grant
from cloudcost.schemas import load_table_schema
from cloudcost.sources.aws import AwsDataExport
from cloudcost.sources.base import ExportNotReady
from cloudcost.sources.export_file import UnreadableExportFile
from cloudcost.sources.normalize import BadValue, MissingColumn
from cloudcost.sources.object_store import LocalObjectStore
from cloudcost.sources.registry import open_export
from cloudcost.warehouse import open_warehouse
from tests.helpers import query_warehouse, run_context, write_cur2_delivery

DAY = date(2026, 11, 5)
SCHEMA = "raw/aws_cur2.yml"
RUN_AT = datetime(2026, 11, 8, 9, 0, tzinfo=UTC)


def _row(line_id: str, cost: str, account: str = "111122223333", start: str = "2026-11-05T10:00:00Z") -> dict:
    return {
        "identity_line_item_id": line_id,
        "bill_payer_account_id": account,
        "bill_billing_period_start_date": "2026-11-01T00:00:00Z",
        "bill_billing_period_end_date": "2026-12-01T00:00:00Z",
        "line_item_usage_account_id": "444455556666",
        "line_item_currency_code": "USD",
        "line_item_line_item_type": "Usage",
        "line_item_usage_start_date": start,
        "line_item_usage_end_date": start.replace("T10", "T11"),
        "line_item_product_code": "AmazonS3",
        "line_item_unblended_cost": cost,
        "resource_tags": '{"user:team": "search"}',
    }


def _land(day: date = DAY, run_id: str = "test__run"):
    org = load_org_by_slug("demo")
    return land_raw(
        open_warehouse(),
        open_export(org, "aws"),
        load_table_schema(SCHEMA),
        "demo_prod",
        run_context(day, run_id=run_id),
        DeliveryRules.of(load_billing_config("aws"), "cur2"),
        "cur2",
    )


def _raw_rows() -> list[tuple]:
    connection = duckdb.connect(str(warehouse_file("demo_prod")), read_only=True)
    try:
        return connection.execute(
            "select identity_line_item_id, line_item_unblended_cost, x_run_id, x_source_object, x_source_version, "
            "ingestion_date from demo_prod.cloud_aws_billing_raw_daily order by 1"
        ).fetchall()
    finally:
        connection.close()


@pytest.fixture
def delivery(data_dir: Path) -> Path:
    rows = [
        _row("a", "0.0000000001"),
        _row("b", "12.3456789012"),
        _row("c", "-3.5", account="999988887777"),
        _row("d", "1.00", start="2026-11-06T10:00:00Z"),
    ]
    return write_cur2_delivery(landing_dir("demo", "aws"), rows, "2026-11", chunks=2)


def test_lands_the_whole_delivery_once_with_exact_decimals_and_lineage(delivery: Path) -> None:
    result = _land()
    assert result.rows == 3, "the run's day holds its three rows"
    assert Decimal(result.billed_cost) == Decimal("0.0000000001") + Decimal("12.3456789012") - Decimal("3.5")
    assert result.objects == 2
    assert result.source_version == "exec-1"
    assert (result.landed_deliveries, result.landed_rows) == (1, 4), "the delivery lands whole, every day it covers"
    rows = _raw_rows()
    assert [r[0] for r in rows] == ["a", "b", "c", "d"]
    assert rows[0][1] == Decimal("0.0000000001")
    assert {r[2] for r in rows} == {"test__run"}
    assert all(r[3].startswith("cur/demo-cur2/data/BILLING_PERIOD=2026-11/") for r in rows)
    assert {r[4] for r in rows} == {"exec-1"}
    assert [r[5] for r in rows] == [DAY, DAY, DAY, date(2026, 11, 6)], "each row lands on its own billing day"


def test_rerun_reads_nothing_and_changes_nothing(delivery: Path) -> None:
    first = _land(run_id="first")
    before = _raw_rows()
    second = _land(run_id="second")
    assert (second.landed_deliveries, second.landed_rows) == (0, 0), "landed at this version already"
    assert second.rows == first.rows == 3
    assert second.replaced_rows == 3
    assert (second.billed_cost, second.source_version) == (first.billed_cost, first.source_version)
    assert _raw_rows() == before


def test_next_day_of_the_same_delivery_reads_nothing(delivery: Path) -> None:
    _land(DAY)
    before = _raw_rows()
    next_day = _land(date(2026, 11, 6), run_id="next")
    assert (next_day.landed_deliveries, next_day.rows, next_day.billed_cost) == (0, 1, "1.0000000000")
    assert _raw_rows() == before


def _restate_smaller() -> None:
    """A new execution of the month: 11-05 drops from 3 rows to 1, 11-06 to none, 11-07 appears."""
    write_cur2_delivery(
        landing_dir("demo", "aws"),
        [_row("e", "5.00"), _row("f", "7.00", start="2026-11-07T10:00:00Z")],
        "2026-11",
        execution_id="exec-2",
    )


def test_new_execution_that_shrinks_days_is_refused_and_keeps_them(delivery: Path) -> None:
    _land(DAY)
    before = _raw_rows()
    _restate_smaller()
    with pytest.raises(
        DeliveryRefused,
        match=r"Manifest.json: would shrink billing day 2026-11-05: 3 rows, billed "
        r"8.8456789013 -> 1 rows, billed 5 \(and 1 more day\(s\) up to 2026-11-06\).*permit-shrink --org demo "
        r"--provider aws --day 2026-11-05 --to 2026-11-06 --reason",
    ):
        _land(DAY, run_id="restated")
    assert _raw_rows() == before, "refused: every day keeps its rows, to the row and the cent"


def test_new_execution_replaces_every_day_of_the_period_with_permits(delivery: Path) -> None:
    _land(DAY)
    _restate_smaller()
    warehouse = open_warehouse()
    granted = grant(warehouse, "demo_prod", "aws", [DAY, date(2026, 11, 6)], "AWS restated November", RUN_AT)
    assert granted == [DAY, date(2026, 11, 6)]
    result = _land(DAY, run_id="restated")
    assert (result.landed_deliveries, result.rows, result.source_version) == (1, 1, "exec-2")
    rows = _raw_rows()
    assert sorted((r[0], r[4], r[5]) for r in rows) == [("e", "exec-2", DAY), ("f", "exec-2", date(2026, 11, 7))]
    used = query_warehouse("select billing_day, used_by_run, used_for from demo_prod.shrink_permits order by 1")
    assert used == [
        (DAY, "restated", "billing day 2026-11-05: 3 rows, billed 8.8456789013 -> 1 rows, billed 5"),
        (date(2026, 11, 6), "restated", "billing day 2026-11-06: 1 rows, billed 1 -> 0 rows, billed 0"),
    ]


def _corrupt_and_expect(delivery_root: Path, rows: list[dict], error: type[Exception], *words: str) -> None:
    _land(run_id="good")
    before = _raw_rows()
    write_cur2_delivery(delivery_root, rows, "2026-11", execution_id="exec-2")
    with pytest.raises(error) as caught:
        _land(run_id="bad")
    for word in words:
        assert word in str(caught.value)
    assert _raw_rows() == before, "a failed load must leave the previous slice untouched"


def test_non_numeric_cost_names_file_row_and_column(delivery: Path) -> None:
    rows = [_row("a", "1.0"), _row("b", "2.0"), _row("x", "twelve dollars")]
    _corrupt_and_expect(
        landing_dir("demo", "aws"),
        rows,
        BadValue,
        "demo-cur2-00001.csv.gz",
        "data row 3",
        "line_item_unblended_cost",
        "'twelve dollars'",
    )


def test_unparseable_date_names_column(delivery: Path) -> None:
    rows = [_row("a", "1.0"), {**_row("b", "2.0"), "bill_billing_period_end_date": "first of December"}]
    _corrupt_and_expect(landing_dir("demo", "aws"), rows, BadValue, "bill_billing_period_end_date", "data row 2")


def test_tag_blob_that_is_not_json_names_column(delivery: Path) -> None:
    rows = [_row("a", "1.0"), {**_row("b", "2.0"), "resource_tags": "team=search"}]
    _corrupt_and_expect(landing_dir("demo", "aws"), rows, BadValue, "resource_tags", "data row 2", "'team=search'")


def test_missing_required_column_names_file_and_column(delivery: Path) -> None:
    row = _row("a", "1.0")
    del row["line_item_unblended_cost"]
    _corrupt_and_expect(
        landing_dir("demo", "aws"), [row], MissingColumn, "demo-cur2-00001.csv.gz", "line_item_unblended_cost"
    )


def test_truncated_gzip_names_file(delivery: Path) -> None:
    _land(run_id="good")
    before = _raw_rows()
    data_file = next((landing_dir("demo", "aws") / "cur/demo-cur2/data/BILLING_PERIOD=2026-11").glob("*00001.csv.gz"))
    data_file.write_bytes(data_file.read_bytes()[:30])
    with pytest.raises(UnreadableExportFile, match=r"demo-cur2-00001\.csv\.gz"):
        _land(run_id="bad")
    assert _raw_rows() == before


def test_manifest_listing_a_missing_file_is_not_ready(delivery: Path) -> None:
    next((landing_dir("demo", "aws") / "cur/demo-cur2/data/BILLING_PERIOD=2026-11").glob("*00002.csv.gz")).unlink()
    status = open_export(load_org_by_slug("demo"), "aws").status(DAY)
    assert not status.complete
    assert "demo-cur2-00002.csv.gz" in status.reason
    with pytest.raises(ExportNotReady, match="not present yet"):
        _land()


def test_no_manifest_means_not_ready(data_dir: Path) -> None:
    status = open_export(load_org_by_slug("demo"), "aws").status(DAY)
    assert not status.complete and "manifest not delivered yet" in status.reason


def test_parquet_demo_delivery_reconciles_to_the_cent(data_dir: Path) -> None:
    days = [date(2026, 11, 1), date(2026, 11, 2)]
    write_delivery(landing_dir("demo", "aws"), days)
    expected = expected_billed_cost(days)
    for day in days:
        result = _land(day)
        assert Decimal(result.billed_cost) == expected[("111111111111", day)]


def test_empty_data_file_names_file(delivery: Path) -> None:
    _land(run_id="good")
    before = _raw_rows()
    data_file = next((landing_dir("demo", "aws") / "cur/demo-cur2/data/BILLING_PERIOD=2026-11").glob("*00001.csv.gz"))
    data_file.write_bytes(b"")
    with pytest.raises(UnreadableExportFile, match=r"(?i)demo-cur2-00001\.csv\.gz.*empty"):
        _land(run_id="bad")
    assert _raw_rows() == before


def test_unknown_currency_names_file_row_and_column(delivery: Path) -> None:
    rows = [_row("a", "1.0"), {**_row("b", "2.0"), "line_item_currency_code": "DOLLARS"}]
    _corrupt_and_expect(
        landing_dir("demo", "aws"),
        rows,
        BadValue,
        "demo-cur2-00001.csv.gz",
        "data row 2",
        "line_item_currency_code",
        "'DOLLARS' is not a valid ISO 4217 currency code",
    )


def test_duplicated_header_names_file_and_column(delivery: Path) -> None:
    _land(run_id="good")
    before = _raw_rows()
    folder = landing_dir("demo", "aws") / "cur/demo-cur2/data/BILLING_PERIOD=2026-11"
    header = "identity_line_item_id,line_item_unblended_cost,line_item_unblended_cost\n"
    (folder / "demo-cur2-00001.csv.gz").write_bytes(gzip.compress((header + "a,1.0,2.0\n").encode()))
    with pytest.raises(BadValue, match=r"demo-cur2-00001\.csv\.gz: duplicated column.*line_item_unblended_cost"):
        _land(run_id="bad")
    assert _raw_rows() == before


def test_wrong_encoding_names_file(delivery: Path) -> None:
    """A Latin-1 export (AWS and Azure write UTF-8) is refused, not loaded as mojibake."""
    _land(run_id="good")
    before = _raw_rows()
    folder = landing_dir("demo", "aws") / "cur/demo-cur2/data/BILLING_PERIOD=2026-11"
    row = _row("a", "1.0") | {"line_item_usage_account_id": "Société Générale"}
    header = ",".join(row)
    body = ",".join(f'"{v}"' for v in row.values())
    (folder / "demo-cur2-00001.csv.gz").write_bytes(gzip.compress(f"{header}\n{body}\n".encode("latin-1")))
    with pytest.raises(UnreadableExportFile, match=r"demo-cur2-00001\.csv\.gz.*invalid UTF-?8"):
        _land(run_id="bad")
    assert _raw_rows() == before


def test_export_that_declares_itself_incomplete_is_not_ready(data_dir: Path) -> None:
    """A FOCUS data generator's completion-status column other than 'Complete' keeps the sensor waiting."""
    rows = [_row("a", "1.0") | {"x_DatasetCompletionStatus": "Complete"}]
    rows.append(_row("b", "2.0") | {"x_DatasetCompletionStatus": "Incomplete"})
    landing = landing_dir("demo", "aws")
    focus_export = AwsDataExport(LocalObjectStore(landing), "cur", "demo-cur2", "focus_1_2")  # AWS's FOCUS export
    write_cur2_delivery(landing, rows, "2026-11")
    status = focus_export.status(DAY)
    assert not status.complete
    assert "column x_DatasetCompletionStatus says 'Incomplete', not 'Complete'" in status.reason
    write_cur2_delivery(landing, [rows[0], rows[0] | {"identity_line_item_id": "b"}], "2026-11")
    assert focus_export.status(DAY).complete
