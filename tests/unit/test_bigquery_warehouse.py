"""The BigQuery warehouse against a stub of google-cloud-bigquery's Client (tests/unit/bigquery_stub.py): the
calls it makes, with which SQL and parameters. Every SQL statement it sends is also parsed as BigQuery."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import CodeType
from typing import Any

import pyarrow as pa
import pytest
from google.cloud import bigquery

from cloudcost.config import load_billing_config, load_org_by_slug
from cloudcost.core.run_context import RunContext
from cloudcost.pipeline.delivery_guards import DeliveryRules
from cloudcost.pipeline.land_raw import land_raw
from cloudcost.schemas import load_table_schema
from cloudcost.sources.base import Delivery, DeliveryFile, ExportStatus
from cloudcost.sources.normalize import BadValue
from cloudcost.warehouse import open_warehouse
from cloudcost.warehouse.base import SliceKey
from cloudcost.warehouse.bigquery import BigQueryWarehouse
from cloudcost.warehouse.bigquery_sql import parse_bigquery
from cloudcost.warehouse.duckdb import SchemaMigrationNeeded
from tests.unit.bigquery_stub import StubClient, StubJob

DAY = date(2026, 11, 2)
GCP = load_billing_config("gcp").formats["detailed"]
RULES = DeliveryRules.of(load_billing_config("gcp"), "detailed")
RUN = RunContext(
    "demo",
    "gcp",
    DAY,
    "manual__secret-free-run",
    "cloud_gcp_cost_billing",
    DAY,
    "gcp-demo-local",
    datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
)


def _warehouse(client: StubClient) -> BigQueryWarehouse:
    return BigQueryWarehouse("my-project", "EU", client_factory=lambda: client)


def _all_parse(client: StubClient) -> None:
    for query in client.queries:
        parse_bigquery(query.sql)


def test_open_warehouse_follows_configuration(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert open_warehouse().name == "duckdb"
    (config_dir / "warehouse.yml").write_text(
        "warehouse: bigquery\nbigquery: {project: my-project, location: EU}\nduckdb: {threads: 1}\n"
    )
    warehouse = open_warehouse()
    assert (warehouse.name, warehouse.project, warehouse.location) == ("bigquery", "my-project", "EU")
    assert warehouse.worker.threads == 1, "the worker's typing DuckDB keeps the configured bounds"
    monkeypatch.setenv("CLOUDCOST_WAREHOUSE_BACKEND", "duckdb")
    assert open_warehouse().name == "duckdb"


def test_ensure_table_creates_dataset_and_partitioned_table_once() -> None:
    client = StubClient()
    warehouse, schema = _warehouse(client), load_table_schema(GCP.schema_file)
    with warehouse.session("demo_prod") as session:
        warehouse.ensure_table(session, "demo_prod", schema)
        warehouse.ensure_table(session, "demo_prod", schema)
    sqls = [q.sql for q in client.queries]
    assert sqls[0] == "CREATE SCHEMA IF NOT EXISTS `my-project`.`demo_prod` OPTIONS (location = 'EU')"
    assert sqls[1].startswith("CREATE TABLE IF NOT EXISTS `my-project`.`demo_prod`.`cloud_gcp_billing_raw_daily`")
    assert len(sqls) == 2
    _all_parse(client)


def test_ensure_table_adds_nullable_columns_and_refuses_not_null_ones() -> None:
    schema = load_table_schema(GCP.schema_file)
    ref = "my-project.demo_prod.cloud_gcp_billing_raw_daily"
    fields = [bigquery.SchemaField(c.name, "STRING") for c in schema.columns if c.name != "seller_name"]
    client = StubClient(tables={ref: fields})
    with _warehouse(client).session("demo_prod") as session:
        _warehouse(client).ensure_table(session, "demo_prod", schema)
    assert client.queries[-1].sql == (
        "ALTER TABLE `my-project`.`demo_prod`.`cloud_gcp_billing_raw_daily` "
        "ADD COLUMN IF NOT EXISTS `seller_name` STRING"
    )
    client = StubClient(tables={ref: [f for f in fields if f.name != "cost"]})
    with pytest.raises(SchemaMigrationNeeded, match="cost"), _warehouse(client).session("demo_prod") as session:
        _warehouse(client).ensure_table(session, "demo_prod", schema)


def test_transaction_spans_one_session_and_rolls_back_on_error() -> None:
    client = StubClient(lambda sql, config: StubJob(num_dml_affected_rows=7))
    warehouse = _warehouse(client)
    with warehouse.session("demo_prod") as session:
        with warehouse.transaction(session):
            deleted = warehouse.delete_slice(
                session, SliceKey.of("demo_prod", "load_state", provider="gcp", billing_day=DAY)
            )
        with pytest.raises(RuntimeError), warehouse.transaction(session):
            raise RuntimeError("boom")
    sqls = [q.sql for q in client.queries]
    assert deleted == 7
    assert sqls == [
        "BEGIN TRANSACTION",
        "DELETE FROM `my-project`.`demo_prod`.`load_state` WHERE `billing_day` = @w0 AND `provider` = @w1",
        "COMMIT TRANSACTION",
        "BEGIN TRANSACTION",
        "ROLLBACK TRANSACTION",
        "CALL BQ.ABORT_SESSION()",
    ]
    assert client.queries[0].config.create_session
    assert all(q.session == "session-1" for q in client.queries[1:])
    assert client.queries[1].params == {"w0": DAY, "w1": "gcp"}
    _all_parse(client)


def test_session_translates_the_stages_duckdb_sql_and_binds_values() -> None:
    client = StubClient(lambda sql, config: StubJob(rows=[(3,)]))
    with _warehouse(client).session("demo_prod") as session:
        rows = session.fetchall(
            'select count(*) from "demo_prod"."load_state" where provider = ? and billing_day = $day', None
        )
        session.fetchall(
            "select 1 from information_schema.tables where table_schema = ? and table_name = 'load_state'",
            ["demo_prod"],
        )
    assert rows == [(3,)]
    assert client.queries[0].sql == (
        "SELECT COUNT(*) FROM `demo_prod`.`load_state` WHERE provider = ? AND billing_day = @day"
    )
    assert "`my-project`.`region-eu`.INFORMATION_SCHEMA.TABLES" in client.queries[1].sql
    assert client.queries[1].params == {None: "demo_prod"}


def test_catalog_reads_tables_and_columns_of_one_dataset_with_bound_names() -> None:
    def answer(sql: str, config) -> StubJob:
        if "COLUMNS" in sql:
            return StubJob(rows=[("provider",), ("billing_day",)])
        return StubJob(rows=[("Load_State",), ("landed_deliveries",)])

    client = StubClient(answer)
    warehouse = _warehouse(client)
    with warehouse.session("demo_prod") as session:
        tables = warehouse.tables(session, "demo_prod")
        exists = (
            warehouse.table_exists(session, "demo_prod", "load_state"),
            warehouse.table_exists(session, "demo_prod", "x"),
        )
        columns = warehouse.columns(session, "demo_prod", "load_state")
    assert tables == {"load_state", "landed_deliveries"}
    assert exists == (True, False)
    assert columns == ["provider", "billing_day"]
    catalog = client.queries[0].sql
    assert catalog.startswith("SELECT table_name FROM `my-project`.`region-eu`.INFORMATION_SCHEMA.TABLES")
    assert client.queries[0].params == {"dataset": "demo_prod"}
    assert client.queries[-1].params == {"dataset": "demo_prod", "table": "load_state"}
    assert "ORDER BY ordinal_position" in client.queries[-1].sql
    for query in client.queries:  # names travel as parameters, never inside the SQL text
        assert "demo_prod" not in query.sql
    _all_parse(client)


class _Export:
    """A BillingExport of one usage day: one CSV file of the detailed export (flattened headers, text values)."""

    format = "detailed"

    def __init__(self, folder: Path, cost: str = "1.23456789012") -> None:
        row = {
            "billing_account_id": "01A2B3-C4D5E6-F7A8B9",
            "service.id": "6F81-5844-456A",
            "service.description": "Compute Engine",
            "usage_start_time": "2026-11-02T10:00:00Z",
            "usage_end_time": "2026-11-02T11:00:00Z",
            "export_time": "2026-11-03T08:00:00Z",
            "cost": cost,
            "currency": "USD",
            "invoice.month": "202611",
            "cost_type": "regular",
            "labels": '[{""key"": ""team"", ""value"": ""ml""}]',
        }
        self.path = folder / "rows.csv"
        self.path.write_text(",".join(row) + "\n" + ",".join(f'"{v}"' for v in row.values()) + "\n")

    def status(self, day: date) -> ExportStatus:
        return ExportStatus(True, "ok", "2026-11-03T08:00:00+00:00", ("bigquery://p.d.t",), "1 rows")

    def deliveries(self, day: date) -> list[Delivery]:
        rows = DeliveryFile("bigquery://billing-project.billing.gcp_billing_export_resource_v1_X?usage_day=2026-11-02")
        return [
            Delivery("bigquery://billing-project.billing.gcp_billing_export_resource_v1_X", "w1", (rows,), (day, day))
        ]

    def local_path(self, file: DeliveryFile, directory: Path) -> Path:
        return self.path


def _answer(sql: str, config) -> StubJob:
    """What BigQuery answers the stage's queries: one row landed, billed 1.2345678901, version w1; no repeated
    line item, no account in two currencies."""
    if "HAVING" in sql:
        return StubJob(rows=[])
    if "SUM(" in sql:
        return StubJob(rows=[(DAY, 1, Decimal("1.2345678901"))])
    if "SELECT version" in sql:
        return StubJob(rows=[("w1",)])
    if "SELECT delivery_key" in sql:
        return StubJob(rows=[])
    return StubJob(rows=[(1,)])


def test_land_raw_loads_typed_parquet_then_replaces_the_delivery_days_in_one_merge(tmp_path: Path) -> None:
    client = StubClient(_answer)
    schema = load_table_schema(GCP.schema_file)
    result = land_raw(_warehouse(client), _Export(tmp_path), schema, "demo_prod", RUN, RULES, "detailed")
    assert (result.rows, result.billed_cost, result.objects, result.source_version) == (1, "1.2345678901", 1, "w1")
    assert (result.landed_deliveries, result.landed_rows) == (1, 1)

    ((destination, config, _),) = client.loads
    assert destination.startswith("my-project.demo_prod._staging_cloud_gcp_billing_raw_daily_20261102_")
    assert config.source_format == "PARQUET" and config.write_disposition == "WRITE_TRUNCATE"
    staged = client.loaded_table()
    assert staged.schema.field("cost").type == pa.decimal128(38, 10)
    assert staged.schema.field("usage_start_time").type == pa.timestamp("us", tz="UTC")
    row = staged.to_pylist()[0]
    assert row["cost"] == Decimal("1.2345678901")  # from the file's text, rounded at the 10th decimal as in DuckDB
    assert row["ingestion_date"] == DAY and row["x_run_id"] == RUN.run_id and row["x_source_version"] == "w1"
    assert json.loads(row["labels"]) == [{"key": "team", "value": "ml"}]

    merge = next(q for q in client.queries if q.sql.startswith("MERGE"))
    assert "WHEN NOT MATCHED BY SOURCE AND T.ingestion_date BETWEEN @first_day AND @last_day THEN DELETE" in merge.sql
    assert "PARSE_JSON(`labels`, wide_number_mode => 'round')" in merge.sql
    assert merge.params == {"first_day": DAY, "last_day": DAY}
    recorded = next(q for q in client.queries if q.sql.startswith("INSERT INTO `demo_prod`.`landed_deliveries`"))
    assert "w1" in [p.value for p in recorded.config.query_parameters]
    assert client.deleted == [destination]
    sqls = [q.sql for q in client.queries]
    begin, commit = sqls.index("BEGIN TRANSACTION"), sqls.index("COMMIT TRANSACTION")
    in_transaction = sqls[begin:commit]
    assert merge.sql in in_transaction and recorded.sql in in_transaction, "rows and ledger commit together"
    assert any(q.startswith("INSERT INTO `demo_prod`.`load_state`") for q in in_transaction), "and the day's state"
    expire = next(q for q in client.queries if q.sql.startswith("ALTER TABLE"))
    assert expire.session is None, "DDL on the staging table runs outside the transaction"
    assert all(q.session == "session-1" for q in client.queries[begin + 1 : commit + 1] if q is not expire)
    for query in client.queries:  # values travel as parameters, never inside the SQL text
        assert "2026-11-02" not in query.sql and RUN.run_id not in query.sql
    _all_parse(client)


def test_land_raw_names_the_bad_value_and_loads_nothing(tmp_path: Path) -> None:
    client = StubClient(_answer)
    with pytest.raises(
        BadValue, match=r"resource_v1_X\?usage_day=2026-11-02: data row 1, column 'cost': value 'twelve'"
    ):
        land_raw(
            _warehouse(client),
            _Export(tmp_path, cost="twelve"),
            load_table_schema(GCP.schema_file),
            "demo_prod",
            RUN,
            RULES,
            "detailed",
        )
    assert client.loads == [] and not any(q.sql.startswith("MERGE") for q in client.queries)


def _catalog(tables: tuple[str, ...]) -> Callable[[str, Any], StubJob]:
    """Answers the catalog read with ``tables`` and every other query with a converted slice's figures."""

    def answer(sql: str, config: Any) -> StubJob:
        if "INFORMATION_SCHEMA.TABLES" in sql:
            return StubJob(rows=[(table,) for table in tables])
        return StubJob(rows=[(4, Decimal("10.5"), Decimal("9.5"))])

    return answer


UPGRADED = ("cost_data_standard_1_3", "cost_data_standard_1_4", "focus_billing_period_1_4")  # 1.4 already built
CATCH_UP_ROUTINE = "my-project.demo_prod.sp_cloud_1_focus_1_4_catch_up"  # its presence marks the catch-up done


def _caught_up(client: StubClient) -> StubClient:
    """An org whose FOCUS 1.4 catch-up has run: its procedure exists."""
    client.routines[CATCH_UP_ROUTINE] = ""
    return client


def test_convert_creates_the_procedure_loads_lookups_and_calls_it(config_dir: Path) -> None:
    client = _caught_up(StubClient(_catalog(UPGRADED)))
    result = _warehouse(client).convert_to_focus(load_org_by_slug("demo"), "detailed", GCP, RUN)
    assert (result.rows, result.billed_cost, result.effective_cost) == (4, "10.5", "9.5")
    create = next(q for q in client.queries if q.sql.startswith("CREATE OR REPLACE PROCEDURE"))
    assert "`my-project`.`demo_prod`.`sp_cloud_1_convert_to_focus`" in create.sql
    call = next(q for q in client.queries if q.sql.startswith("CALL"))
    assert call.sql == (
        "CALL `my-project`.`demo_prod`.`sp_cloud_1_convert_to_focus`(@provider, @source_format, @billing_day)"
    )
    assert call.params == {"provider": "gcp", "billing_day": DAY, "source_format": "detailed"}
    loaded = sorted(destination for destination, _, _ in client.loads)
    assert loaded == [
        f"my-project.cloudcost_ref.{n}"
        for n in (
            "aws_pricing_units",
            "aws_regions",
            "aws_services",
            "azure_pricing_units",
            "azure_regions",
            "azure_services",
            "gcp_pricing_units",
            "gcp_regions",
            "gcp_services",
            "oci_pricing_units",
            "oci_regions",
            "oci_services",
        )
    ]
    _all_parse(client)

    # the stored procedure carries the same digest: not replaced again
    client.routines["my-project.demo_prod.sp_cloud_1_convert_to_focus"] = create.sql.split("description = '")[1].split(
        "'"
    )[0]
    client.queries.clear()
    _warehouse(client).convert_to_focus(load_org_by_slug("demo"), "detailed", GCP, RUN)
    assert not any(q.sql.startswith("CREATE OR REPLACE PROCEDURE") for q in client.queries)


def _names(code: CodeType) -> set[str]:
    """The global names a function uses, its nested functions' included (a stage retries its work as a closure)."""
    nested = [c for c in code.co_consts if isinstance(c, CodeType)]
    return set(code.co_names).union(*(_names(c) for c in nested))


def test_the_recheck_and_land_raw_land_on_the_configured_warehouse(tmp_path: Path) -> None:
    """Both stages that land deliveries go through ``land_guarded`` (the recheck once used DuckDB's way on
    BigQuery): on a BigQuery warehouse it stages typed rows, MERGEs them and records the ledger, in the session's
    transaction."""
    from cloudcost.pipeline import land_raw as land_raw_module
    from cloudcost.pipeline import stages
    from cloudcost.pipeline.land_raw import ensure_tables, land_guarded

    for stage in (land_raw_module.land_raw, stages.land_window):
        assert "land_guarded" in _names(stage.__code__), stage.__name__
    client = StubClient(_answer)
    warehouse, schema, export = _warehouse(client), load_table_schema(GCP.schema_file), _Export(tmp_path)
    with warehouse.session("demo_prod") as session:
        ensure_tables(warehouse, session, "demo_prod", schema)
        with warehouse.transaction(session):
            landed = land_guarded(warehouse, session, export, export.deliveries(DAY), schema, "demo_prod", RUN, RULES)
    assert (landed.deliveries, landed.rows) == (1, 1)
    assert len(client.loads) == 1
    sqls = [q.sql for q in client.queries]
    begin, commit = sqls.index("BEGIN TRANSACTION"), sqls.index("COMMIT TRANSACTION")
    assert any(q.startswith("MERGE") for q in sqls[begin:commit])
    assert any(q.startswith("INSERT INTO `demo_prod`.`landed_deliveries`") for q in sqls[begin:commit])


def test_convert_creates_the_focus_1_4_tables_and_runs_1_4_in_the_procedure(config_dir: Path) -> None:
    """The FOCUS 1.4 tables exist before the CALL, and the procedure writes them in the 1.3 slice's transaction."""
    from cloudcost.warehouse.bigquery_ddl import focus_1_4_statements

    client = StubClient(_catalog(UPGRADED))
    _warehouse(client).convert_to_focus(load_org_by_slug("demo"), "detailed", GCP, RUN)
    sqls = [q.sql for q in client.queries]
    call = next(i for i, sql in enumerate(sqls) if sql.startswith("CALL"))
    for table in ("cost_data_standard_1_4", "focus_billing_period_1_4"):
        created = next(
            i
            for i, sql in enumerate(sqls)
            if sql.startswith(f"CREATE TABLE IF NOT EXISTS `my-project`.`demo_prod`.`{table}`")
        )
        assert created < call
    create = next(sql for sql in sqls if sql.startswith("CREATE OR REPLACE PROCEDURE"))
    for statement in focus_1_4_statements("my-project", "demo_prod"):
        assert statement.splitlines()[0] in create
    _all_parse(client)


def test_the_first_convert_with_1_4_catches_up_once_and_marks_it_with_the_procedure(config_dir: Path) -> None:
    """An org upgraded from a build without 1.4 (or whose 1.4 tables came from a build without the catch-up): the
    convert that finds no catch-up procedure creates it and CALLs it (every day 1.3 held, one transaction), after
    creating the tables and before its own CALL; a convert that finds the procedure sends neither."""
    from cloudcost.warehouse.bigquery_ddl import focus_1_4_catch_up_procedure

    for tables in (("cost_data_standard_1_3",), UPGRADED):
        client = StubClient(_catalog(tables))
        _warehouse(client).convert_to_focus(load_org_by_slug("demo"), "detailed", GCP, RUN)
        sqls = [q.sql for q in client.queries]
        catch_up = "CALL `my-project`.`demo_prod`.`sp_cloud_1_focus_1_4_catch_up`()"
        assert sqls.count(focus_1_4_catch_up_procedure("my-project", "demo_prod")) == 1 and sqls.count(catch_up) == 1
        created = sqls.index(focus_1_4_catch_up_procedure("my-project", "demo_prod"))
        table = next(
            i
            for i, sql in enumerate(sqls)
            if "CREATE TABLE IF NOT EXISTS `my-project`.`demo_prod`.`cost_data_standard_1_4`" in sql
        )
        convert = next(i for i, sql in enumerate(sqls) if "sp_cloud_1_convert_to_focus`(@provider" in sql)
        assert table < created < sqls.index(catch_up) < convert
        _all_parse(client)

    client = _caught_up(StubClient(_catalog(UPGRADED)))
    _warehouse(client).convert_to_focus(load_org_by_slug("demo"), "detailed", GCP, RUN)
    assert not any("sp_cloud_1_focus_1_4_catch_up" in q.sql for q in client.queries)


def test_a_failed_catch_up_drops_its_procedure_not_the_1_4_tables(config_dir: Path) -> None:
    """When the catch-up CALL fails (BigQuery rolled it back), its procedure (the mark that it ran) is dropped, so
    the next convert catches up again; the 1.4 tables stay, since other providers' converts may have written them."""
    answer = _catalog(UPGRADED)

    def failing(sql: str, config: Any) -> StubJob:
        if sql.startswith("CALL `my-project`.`demo_prod`.`sp_cloud_1_focus_1_4_catch_up`"):
            raise RuntimeError("Query exceeded resource limits")
        return answer(sql, config)

    client = StubClient(failing)
    with pytest.raises(RuntimeError, match="resource limits"):
        _warehouse(client).convert_to_focus(load_org_by_slug("demo"), "detailed", GCP, RUN)
    sqls = [q.sql for q in client.queries]
    assert [sql for sql in sqls if sql.startswith("DROP")] == [
        "DROP PROCEDURE IF EXISTS `my-project`.`demo_prod`.`sp_cloud_1_focus_1_4_catch_up`"
    ]
    assert not any("sp_cloud_1_convert_to_focus`(@provider" in sql for sql in sqls)
    _all_parse(client)


def test_the_1_4_reconciliation_runs_on_bigquery_and_names_the_gap() -> None:
    """``check``'s 1.3 vs 1.4 comparison is one DuckDB-dialect query: on BigQuery it parses as GoogleSQL with the
    day and provider bound, and a row count or cost that differs fails naming the account and the column."""
    from cloudcost.pipeline.reconcile import ReconciliationFailed, reconcile_focus_1_4

    equal = ("A", 3, 3, *(Decimal("1.5"),) * 8)
    client = StubClient(lambda sql, config: StubJob(rows=[equal]))
    assert reconcile_focus_1_4(_warehouse(client), "demo_prod", RUN) == 1
    (query,) = [q for q in client.queries if "cost_data_standard_1_4" in q.sql]
    parse_bigquery(query.sql)
    assert "FROM `demo_prod`.`cost_data_standard_1_3`" in query.sql and "FULL OUTER JOIN" in query.sql
    assert query.params == {"provider": RUN.provider, "day": DAY}

    gap = ("A", 3, 2, Decimal("1.5"), Decimal("1.5"), Decimal("2"), Decimal("1"), *(Decimal("0"),) * 4)
    client = StubClient(lambda sql, config: StubJob(rows=[gap]))
    with pytest.raises(ReconciliationFailed, match=r"A: rows 3 vs 2, EffectiveCost 2 vs 1$"):
        reconcile_focus_1_4(_warehouse(client), "demo_prod", RUN)


def test_the_1_4_readers_guard_runs_on_bigquery_with_the_range_bound() -> None:
    """The export's and referee's check that 1.4 holds every day 1.3 holds is one DuckDB-dialect query: on BigQuery
    it parses as GoogleSQL with the days and providers bound, and a missing slice fails naming org, provider, day."""
    from cloudcost.validate.export import ExportError, require_every_day

    client = StubClient(lambda sql, config: StubJob(rows=[("gcp", DAY)]))
    warehouse = _warehouse(client)
    with warehouse.session("demo_prod") as session, pytest.raises(ExportError) as raised:
        require_every_day(session, "demo", "demo_prod", "1.4", first_day=DAY, last_day=DAY, providers=["gcp"])
    assert str(raised.value).startswith(
        "org demo: demo_prod.cost_data_standard_1_4 has no gcp rows for 2026-11-02, which FOCUS 1.3 holds"
    )
    guard = next(q for q in client.queries if "cost_data_standard_1_4" in q.sql)
    assert "FROM `demo_prod`.`cost_data_standard_1_3`" in guard.sql and "LIMIT 1" in guard.sql
    assert guard.config is not None and [p.value for p in guard.config.query_parameters] == [DAY, DAY, "gcp"]
    _all_parse(client)

    client = StubClient(lambda sql, config: StubJob(rows=[]))
    with _warehouse(client).session("demo_prod") as session:
        require_every_day(session, "demo", "demo_prod", "1.4", first_day=DAY, last_day=DAY)
        require_every_day(session, "demo", "demo_prod", "1.3", first_day=DAY, last_day=DAY)
    assert sum("cost_data_standard_1_4" in q.sql for q in client.queries) == 1  # 1.3 reads nothing
