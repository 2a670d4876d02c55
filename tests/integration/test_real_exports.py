"""Every reader on exports shaped like the provider's real ones, at real size (``tests/real_exports.py``).

Each large file is generated once per test session and shared. It must land verbatim (ids, tags and text byte for
byte; money exact to the 10th decimal, from the file's text), convert to FOCUS and, where its rows reconcile,
pass ``check``. A bad value fails in one line that names the file, the data row and the column by its header,
and leaves what was stored before untouched.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cloudcost.paths import landing_dir, warehouse_file
from cloudcost.pipeline.stages import make_run_context, run_checks, run_convert_to_focus, run_land_raw
from cloudcost.schemas import load_table_schema
from cloudcost.sources.normalize import BadValue
from tests.conftest import SHARED_REFERENCE
from tests.helpers import query_warehouse as _query
from tests.helpers import write_azure_run, write_cur2_delivery
from tests.real_exports import (
    AWS_ACCOUNT,
    AZURE_ODD_ROWS,
    GCP_ACCOUNT,
    OCI_ODD_ROWS,
    OCI_TAG,
    ODD_COSTS,
    LargeExport,
    aws_cur2_rows,
    azure_ea_amortized,
    azure_mca_amortized,
    gcp_bigquery_extract,
    money,
    oci_cost_report,
    place_azure_export,
)
from tests.verbatim import assert_every_value_verbatim

pytestmark = pytest.mark.usefixtures("demo_credentials")
MB = 1 << 20


def _run(provider: str, day: date, *, check: bool = True) -> dict:
    run = make_run_context(
        "demo", provider, day, f"real__{day}", f"cloud_{provider}_cost_billing", day, datetime.now(UTC)
    )
    landed = run_land_raw(run)
    run_convert_to_focus(run)
    if check:
        assert run_checks(run)["mismatches"] == []
    return landed


def _landed_rows(table: str, key: str, where: str) -> dict[str, dict[str, object]]:
    """Every raw row of ``table`` (those ``where`` selects), by the value of column ``key``, as DuckDB returns it."""
    connection = duckdb.connect(str(warehouse_file("demo_prod")), read_only=True)
    try:
        connection.execute("SET TimeZone = 'UTC'")
        cursor = connection.execute(f"select * from demo_prod.{table} where {where}")
        names = [d[0] for d in cursor.description]
        rows = {}
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            rows[row[key]] = row
        return rows
    finally:
        connection.close()


@pytest.fixture(scope="session")
def exports_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not SHARED_REFERENCE.is_dir():
        pytest.fail(f"reference data not found at {SHARED_REFERENCE} (../shared must sit beside the repo)")
    return tmp_path_factory.mktemp("real-exports")


# --------------------------------------------------------------------------------------------------- Azure


@pytest.fixture(scope="session")
def azure_ea(exports_dir: Path) -> LargeExport:
    export = azure_ea_amortized(exports_dir / "ea-amortized.csv", SHARED_REFERENCE)
    assert export.path.stat().st_size >= 100 * MB, "an EA month-to-date export of real size"
    return export


@pytest.fixture(scope="session")
def azure_mca(exports_dir: Path) -> LargeExport:
    export = azure_mca_amortized(exports_dir / "mca-amortized.csv", SHARED_REFERENCE)
    assert export.path.stat().st_size >= 100 * MB, "an MCA month-to-date export of real size"
    return export


def _azure_costs_by_day() -> dict[date, Decimal]:
    rows = _query(
        "select cast(date as date), sum(cost_in_billing_currency) from demo_prod.cloud_azure_billing_raw_daily "
        "where x_cost_dataset = 'amortized' group by 1"
    )
    return dict(rows)


def test_azure_ea_cost_details_of_real_size_land_verbatim(data_dir: Path, azure_ea: LargeExport) -> None:
    actual = (SHARED_REFERENCE / "azure" / "EA_ActualCost_Small.csv").read_bytes()
    place_azure_export(landing_dir("demo", "azure"), azure_ea, actual, "20230901-20230930")
    actual_rows = len(list(csv.DictReader(io.StringIO(actual.decode("utf-8-sig")))))
    # the amortized rows here are not the actual export's, so BilledCost does not reconcile: no `check`
    landed = _run("azure", date(2023, 9, 22), check=False)
    assert (landed["landed_deliveries"], landed["landed_rows"]) == (1, azure_ea.rows + actual_rows)
    assert _azure_costs_by_day() == azure_ea.cost_by_day, "every day's cost, exact, from the file's text"
    compared = assert_every_value_verbatim(
        load_table_schema("raw/azure_cost_details.yml"),
        azure_ea.path,
        "ResourceId",
        _landed_rows("cloud_azure_billing_raw_daily", "resource_id", "x_cost_dataset = 'amortized'"),
    )
    assert compared > 200_000 * 50, "every value of every row"

    columns = "resource_id, tags, resource_name, service_info1, subscription_name, invoice_section_id, "
    columns += "additional_info, cost_center, cost_in_billing_currency, quantity"
    landed_rows = {
        row[0]: row
        for row in _query(f"select {columns} from demo_prod.cloud_azure_billing_raw_daily where resource_id like '/m%'")
    }
    assert set(landed_rows) == {f"/marker/{name}" for name in AZURE_ODD_ROWS}
    for name, written in azure_ea.markers.items():
        _, tags, resource_name, info1, subscription, section, additional, center, cost, quantity = landed_rows[
            f"/marker/{name}"
        ]
        assert json.loads(tags) == json.loads("{" + written["Tags"] + "}"), name  # NA, null, 007 stay text
        assert (resource_name, info1, subscription, section) == (
            written["ResourceName"],
            written["ServiceInfo1"] or None,
            written["SubscriptionName"],
            written["InvoiceSectionId"] or None,
        ), name
        assert json.loads(additional) == json.loads(written["AdditionalInfo"]), name
        assert center == (written["CostCenter"] or None), name
        assert cost == money(written["Cost"]) and quantity == Decimal(written["Quantity"]), name
    assert landed_rows["/marker/cost-18-decimals"][8] == Decimal("0.1234567890"), "rounded at the 10th decimal"
    assert landed_rows["/marker/cost-above-a-million"][8] == Decimal(ODD_COSTS["cost-above-a-million"])

    sparse = _query(
        "select count(*) filter (where reservation_id is not null or benefit_id is not null), "
        "list(distinct service_info2) filter (where service_info2 is not null) "
        "from demo_prod.cloud_azure_billing_raw_daily where x_cost_dataset = 'amortized'"
    )
    assert sparse == [(2, ["Canonical"])], "columns first filled after 200 k rows land"
    focus = dict(
        _query(
            "select ResourceId, Tags from demo_prod.cost_data_standard_1_3 where ResourceId like '/marker/tag%' "
            "and x_cloud_provider = 'azure'"
        )
    )
    assert json.loads(focus["/marker/tag-na"]) == {"team": "NA"}
    assert json.loads(focus["/marker/tag-007"]) == {"team": "007"}
    assert json.loads(focus["/marker/tag-timestamp"]) == {"created": "2023-09-22T10:00:00Z"}


def test_azure_mca_cost_details_of_real_size_land_verbatim(data_dir: Path, azure_mca: LargeExport) -> None:
    header_and_rows = azure_mca.path.read_bytes()[:20_000].split(b"\n")[:5]
    place_azure_export(
        landing_dir("demo", "azure"), azure_mca, b"\n".join(header_and_rows) + b"\n", "20230801-20230831"
    )
    landed = _run("azure", date(2023, 8, 15), check=False)
    assert landed["landed_rows"] == azure_mca.rows + 4
    assert _azure_costs_by_day() == azure_mca.cost_by_day
    (row,) = _query(
        "select tags, invoice_section_id, subscription_name, cost_in_billing_currency "
        "from demo_prod.cloud_azure_billing_raw_daily where resource_id = '/marker/mca-odd'"
    )
    assert json.loads(row[0]) == {"team": "007", "env": "NA"}
    assert row[1:] == ("0042", "null", Decimal("0.1234567890"))
    reservations = _query(
        "select count(*), count(distinct reservation_id) from demo_prod.cloud_azure_billing_raw_daily "
        "where reservation_id like '0000-reservation-%'"
    )
    assert reservations == [(100, 7)], "commitment ids first filled after 200 k rows land, leading zeros kept"


def test_azure_nan_cost_names_file_row_and_header_and_keeps_the_old_slice(data_dir: Path) -> None:
    folder = SHARED_REFERENCE / "azure"
    landing = landing_dir("demo", "azure")
    amortized, actual = (folder / "EA_AmortizedCost_Small.csv").read_bytes(), (folder / "EA_ActualCost_Small.csv")
    write_azure_run(landing, "costexports", "demo-amortized", "20230901-20230930", "run-1", amortized)
    write_azure_run(landing, "costexports", "demo-actual", "20230901-20230930", "run-1", actual.read_bytes())
    _run("azure", date(2023, 9, 4), check=False)
    before = _query("select count(*), sum(cost_in_billing_currency) from demo_prod.cloud_azure_billing_raw_daily")
    text = amortized.decode("utf-8-sig").splitlines()
    fields = next(csv.reader([text[3]]))
    fields[text[0].split(",").index("Cost")] = "NaN"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(fields)
    text[3] = buffer.getvalue().rstrip("\n")
    write_azure_run(landing, "costexports", "demo-amortized", "20230901-20230930", "run-2", "\n".join(text).encode())
    with pytest.raises(BadValue) as caught:
        _run("azure", date(2023, 9, 4), check=False)
    message = str(caught.value)
    assert "run-2/part_0_0001.csv: data row 3, column 'Cost': value 'NaN' is not a valid decimal" in message
    assert "\n" not in message
    assert (
        _query("select count(*), sum(cost_in_billing_currency) from demo_prod.cloud_azure_billing_raw_daily") == before
    )


# ----------------------------------------------------------------------------------------------------- OCI


@pytest.fixture(scope="session")
def oci_report(exports_dir: Path) -> LargeExport:
    return oci_cost_report(exports_dir / "reports_cost-csv_0000000030000270.csv.gz", SHARED_REFERENCE)


def test_oci_report_with_a_tag_column_numeric_then_text_lands_verbatim(data_dir: Path, oci_report: LargeExport) -> None:
    folder = landing_dir("demo", "oci") / "reports" / "cost-csv"
    folder.mkdir(parents=True)
    (folder / oci_report.path.name).hardlink_to(oci_report.path)
    landed = _run("oci", date(2023, 11, 13))
    assert landed["landed_rows"] == oci_report.rows
    by_day = dict(_query("select ingestion_date, sum(my_cost) from demo_prod.cloud_oci_billing_raw_daily group by 1"))
    assert by_day == oci_report.cost_by_day
    tag_key = OCI_TAG.removeprefix("tags/")
    values = dict(
        _query(
            "select reference_no, tags from demo_prod.cloud_oci_billing_raw_daily "
            "where reference_no in ('ref-0000000', 'ref-0000001', 'ref-0000003', 'ref-0059999')"
        )
    )
    assert json.loads(values["ref-0000000"])[tag_key] == "1000", "a numeric tag is text"
    assert json.loads(values["ref-0059999"])[tag_key] == "team-a", "and text after 50 k numeric rows still lands"
    # tag keys that differ in case only are two keys, each on its own rows
    assert {k: v for k, v in json.loads(values["ref-0000000"]).items() if k.startswith("free-form")} == {
        "free-form.team": "alpha",
        "free-form.Team": "Beta",
    }
    assert "free-form.team" not in json.loads(values["ref-0000003"])
    assert json.loads(values["ref-0000003"])["free-form.Team"] == "Beta"
    assert "free-form.Team" not in json.loads(values["ref-0000001"])
    assert _query("select distinct subscription_id from demo_prod.cloud_oci_billing_raw_daily") == [("015649487",)]
    markers = {
        row[0]: row[1:]
        for row in _query(
            "select reference_no, resource_id, compartment_name, tags, my_cost "
            "from demo_prod.cloud_oci_billing_raw_daily where reference_no like 'marker-%'"
        )
    }
    resource, compartment, tags, _ = markers["marker-resource-na"]
    assert (resource, compartment, json.loads(tags)[tag_key]) == ("NA", "null", "007")
    assert json.loads(markers["marker-tag-timestamp"][2])[tag_key] == "2023-11-13T10:00:00Z"
    assert json.loads(markers["marker-tag-timestamp"][2])["free-form.team"] == "N/A"
    assert markers["marker-cost-18-decimals"][3] == money(OCI_ODD_ROWS["cost-18-decimals"]["cost/myCost"])
    assert markers["marker-cost-above-a-million"][3] == Decimal(ODD_COSTS["cost-above-a-million"])


def test_oci_nan_cost_names_the_report_row_and_header(data_dir: Path) -> None:
    source = SHARED_REFERENCE / "oci" / "focus_converters_reports_cost-csv_0000000030000269.csv"
    rows = list(csv.DictReader(source.open(newline="")))
    rows[4]["cost/myCost"] = "NaN"
    later = rows[0] | {
        "lineItem/intervalUsageStart": "2023-11-14T00:00Z",
        "lineItem/intervalUsageEnd": "2023-11-14T01:00Z",
    }
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows([*rows, later])
    folder = landing_dir("demo", "oci") / "reports" / "cost-csv"
    folder.mkdir(parents=True)
    (folder / "reports_cost-csv_0000000030000271.csv.gz").write_bytes(gzip.compress(buffer.getvalue().encode()))
    with pytest.raises(BadValue) as caught:
        _run("oci", date(2023, 11, 13))
    assert str(caught.value) == (
        "reports/cost-csv/reports_cost-csv_0000000030000271.csv.gz: data row 5, column 'cost/myCost': "
        "value 'NaN' is not a valid decimal"
    )


# ----------------------------------------------------------------------------------------------------- AWS


def test_aws_cur2_csv_of_real_size_keeps_account_ids_and_tags(data_dir: Path) -> None:
    rows, export = aws_cur2_rows()
    write_cur2_delivery(landing_dir("demo", "aws"), rows, "2026-11", chunks=2)
    landed = _run("aws", date(2026, 11, 2))
    assert landed["landed_rows"] == export.rows
    by_day = dict(
        _query(
            "select ingestion_date, sum(line_item_unblended_cost) from demo_prod.cloud_aws_billing_raw_daily group by 1"
        )
    )
    assert by_day == export.cost_by_day
    accounts = _query(
        "select distinct bill_payer_account_id, line_item_usage_account_id from demo_prod.cloud_aws_billing_raw_daily"
    )
    assert accounts == [(AWS_ACCOUNT, "000123456789")]
    tags = dict(
        _query(
            "select json_extract_string(resource_tags, '$.\"user:team\"'), count(*) "
            "from demo_prod.cloud_aws_billing_raw_daily group by 1"
        )
    )
    assert set(tags) == {"007", "NA", "null", "2026-11-01T10:00:00Z"}
    assert _query(
        "select count(*) from demo_prod.cloud_aws_billing_raw_daily where savings_plan_savings_plan_a_r_n like 'arn:%'"
    ) == [(50,)]
    (billing_account,) = _query(
        "select distinct BillingAccountId from demo_prod.cost_data_standard_1_3 where x_cloud_provider = 'aws'"
    )
    assert billing_account == (AWS_ACCOUNT,)


def test_aws_parquet_doubles_become_the_decimals_they_print_as(data_dir: Path) -> None:
    """CUR 2.0 Parquet declares money as double: each lands as the decimal of its shortest round-trip text."""
    costs = [5656952.81, 1234567.123456789, 0.1, 1e-05, 2.675, 9999999.9999999]
    base = {
        "identity_line_item_id": "x",
        "bill_payer_account_id": AWS_ACCOUNT,
        "bill_billing_period_start_date": datetime(2026, 11, 1, tzinfo=UTC),
        "bill_billing_period_end_date": datetime(2026, 12, 1, tzinfo=UTC),
        "line_item_usage_account_id": AWS_ACCOUNT,
        "line_item_currency_code": "USD",
        "line_item_line_item_type": "Usage",
        "line_item_usage_start_date": datetime(2026, 11, 2, 10, tzinfo=UTC),
        "line_item_usage_end_date": datetime(2026, 11, 2, 11, tzinfo=UTC),
        "line_item_product_code": "AmazonEC2",
        "bill_invoicing_entity": "Amazon Web Services, Inc.",
        "bill_billing_entity": "AWS",
    }
    table = pa.Table.from_pylist(
        [base | {"identity_line_item_id": f"line-{i}", "line_item_unblended_cost": c} for i, c in enumerate(costs)]
    )
    manifest = write_cur2_delivery(landing_dir("demo", "aws"), [], "2026-11")
    data = manifest.parents[2] / "data" / "BILLING_PERIOD=2026-11"
    for old in data.iterdir():
        old.unlink()
    pq.write_table(table, data / "demo-cur2-00001.snappy.parquet")
    document = json.loads(manifest.read_text())
    document["dataFiles"] = [
        "s3://test-bucket/cur/demo-cur2/data/BILLING_PERIOD=2026-11/demo-cur2-00001.snappy.parquet"
    ]
    manifest.write_text(json.dumps(document))
    _run("aws", date(2026, 11, 2))
    landed = dict(
        _query("select identity_line_item_id, line_item_unblended_cost from demo_prod.cloud_aws_billing_raw_daily")
    )
    assert [landed[f"line-{i}"] for i in range(len(costs))] == [money(repr(c)) for c in costs]
    assert landed["line-0"] == Decimal("5656952.81")


# ----------------------------------------------------------------------------------------------------- GCP


@pytest.fixture(scope="session")
def gcp_day(exports_dir: Path) -> LargeExport:
    return gcp_bigquery_extract(exports_dir / "gcp", date(2026, 11, 2))


def test_gcp_bigquery_extract_of_real_size_lands_verbatim(data_dir: Path, gcp_day: LargeExport) -> None:
    folder = landing_dir("demo", "gcp") / "billing_export" / "gcp_billing_export_resource_v1_01A2B3_C4D5E6_F7A8B9"
    day_folder = folder / "usage_date=2026-11-02"
    day_folder.mkdir(parents=True)
    (day_folder / gcp_day.path.name).hardlink_to(gcp_day.path)
    landed = _run("gcp", date(2026, 11, 2))
    assert landed["landed_rows"] == gcp_day.rows
    assert dict(_query("select ingestion_date, sum(cost) from demo_prod.cloud_gcp_billing_raw_daily group by 1")) == (
        gcp_day.cost_by_day
    )
    assert _query("select distinct billing_account_id, project_number from demo_prod.cloud_gcp_billing_raw_daily") == [
        (GCP_ACCOUNT, "0123456789")
    ]
    labels = _query(
        "select distinct json_extract_string(labels, '$[0].value') as team "
        "from demo_prod.cloud_gcp_billing_raw_daily order by team"
    )
    assert labels == [("007",), ("2026-11-02T10:00:00Z",), ("NA",)]
    assert _query("select count(*) from demo_prod.cloud_gcp_billing_raw_daily where credits is not null") == [(50,)]
