"""Table schemas (FOCUS 1.3 has all 65 columns, money is DECIMAL) and the billing-day timetable."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pendulum

from cloudcost.airflow.timetable import BillingDayTimetable
from cloudcost.schemas import duckdb_create_table, focus_schema, load_table_schema

FOCUS_MANDATORY = {
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ContractedCost",
    "EffectiveCost",
    "HostProviderName",
    "InvoiceIssuerName",
    "ListCost",
    "PricingQuantity",
    "PricingUnit",
    "ServiceCategory",
    "ServiceName",
    "ServiceProviderName",
    "ProviderName",
    "PublisherName",
}


def test_focus_table_has_the_65_focus_columns_and_lineage() -> None:
    schema = focus_schema()
    focus_columns = [c for c in schema.columns if not c.name.startswith("x_")]
    assert len(focus_columns) == 65
    assert {c.name for c in focus_columns if c.focus == "mandatory"} == FOCUS_MANDATORY
    names = set(schema.column_names)
    assert {"x_pipeline_id", "x_credential_id", "x_run_id", "x_ingested_at", "x_pipeline_run_date"} <= names


def test_money_and_quantities_are_decimal_never_float() -> None:
    schema = focus_schema()
    for name in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "PricingQuantity", "ListUnitPrice"):
        assert schema.column(name).type == "decimal", name
    raw = load_table_schema("raw/aws_cur2.yml")
    assert raw.column("line_item_unblended_cost").type == "decimal"


def test_generated_ddl_creates_tables_with_decimal_38_10() -> None:
    connection = duckdb.connect()
    connection.execute("create schema demo_prod")
    for schema in (focus_schema(), load_table_schema("raw/aws_cur2.yml")):
        connection.execute(duckdb_create_table(schema, f'"demo_prod"."{schema.table}"'))
    types = dict(
        connection.execute(
            "select column_name, data_type from information_schema.columns where table_name = 'cost_data_standard_1_3'"
        ).fetchall()
    )
    assert types["BilledCost"] == "DECIMAL(38,10)"
    assert types["ChargePeriodStart"] == "TIMESTAMP WITH TIME ZONE"
    assert types["Tags"] == "JSON"


def test_raw_tables_carry_partition_key_and_lineage() -> None:
    raw = load_table_schema("raw/aws_cur2.yml")
    for name in (
        "ingestion_date",
        "x_pipeline_id",
        "x_credential_id",
        "x_run_id",
        "x_ingested_at",
        "x_pipeline_run_date",
    ):
        assert not raw.column(name).nullable, name


def test_timetable_manual_run_loads_the_day_of_its_logical_date() -> None:
    interval = BillingDayTimetable().infer_manual_data_interval(run_after=pendulum.datetime(2026, 11, 1, 15, 30))
    assert (interval.start, interval.end) == (pendulum.datetime(2026, 11, 1), pendulum.datetime(2026, 11, 2))


def test_timetable_schedules_each_day_after_it_ends() -> None:
    from airflow.timetables.base import TimeRestriction

    timetable = BillingDayTimetable()
    info = timetable.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(earliest=pendulum.datetime(2026, 11, 1), latest=None, catchup=True),
    )
    assert info.data_interval.start == datetime(2026, 11, 1, tzinfo=UTC)
    assert info.data_interval.end == datetime(2026, 11, 2, tzinfo=UTC)
    assert info.run_after >= info.data_interval.end
    assert BillingDayTimetable.deserialize(timetable.serialize()).summary == timetable.summary


def test_every_schema_file_loads() -> None:
    from cloudcost.paths import schemas_dir

    files = sorted(p.relative_to(schemas_dir()).as_posix() for p in schemas_dir().rglob("*.yml"))
    tables = [f for f in files if not f.endswith(("_lineage.yml", "allowed_values.yml"))]
    assert len(tables) >= 7
    for relative in tables:
        assert load_table_schema(relative).columns, relative
