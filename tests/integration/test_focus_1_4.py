"""FOCUS 1.4 beside 1.3: every provider's demo days give 1.4 rows equal to the 1.3 rows on every shared column, the
billing periods they hold, and both are replaced together (a restated day, a failed 1.4 write).

The demo deliveries of 2026-11-01..02 are generated, landed, converted and checked once (module fixture, without
Airflow); a test that changes the warehouse works on its own copy of that data folder.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from cloudcost.schemas import billing_period_1_4_schema, focus_1_4_schema, focus_schema
from tests.helpers import use_data_dir

DAYS = [date(2026, 11, 1), date(2026, 11, 2)]
PROVIDERS = ("aws", "azure", "gcp", "oci")
NEW_IN_1_4 = {"InvoiceDetailId", "CommitmentProgramEligibilityDetails"}
SHARED = [c for c in focus_1_4_schema().column_names if c not in NEW_IN_1_4]


def _run(provider: str, day: date):
    from cloudcost.pipeline.stages import make_run_context

    return make_run_context(
        "demo", provider, day, "manual__focus14", f"cloud_{provider}_cost_billing", day, datetime.now(UTC)
    )


def _convert_and_check(provider: str, day: date) -> None:
    from cloudcost.pipeline.stages import run_checks, run_convert_to_focus

    run = _run(provider, day)
    run_convert_to_focus(run)
    run_checks(run)  # raw vs 1.3, and 1.3 vs 1.4, exactly; raises on any gap


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data folder holding the demo org's four providers, 2026-11-01..02, landed, converted and checked."""
    data = tmp_path_factory.mktemp("focus14-data")
    with pytest.MonkeyPatch.context() as patch:
        use_data_dir(patch, data)
        from cloudcost.cli import main
        from cloudcost.demo.credentials import store_demo_credentials
        from cloudcost.pipeline.stages import run_land_raw

        assert main(["demo", "generate", "--org", "demo", "--from", str(DAYS[0]), "--to", str(DAYS[-1])]) == 0
        store_demo_credentials("demo")
        for provider in PROVIDERS:
            for day in DAYS:
                run_land_raw(_run(provider, day))
                _convert_and_check(provider, day)
        yield data


@pytest.fixture
def own_copy(loaded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the loaded data folder, free to change."""
    data = tmp_path / "data"
    shutil.copytree(loaded, data)
    use_data_dir(monkeypatch, data)
    return data


def _query(data: Path, sql: str, params: list | None = None) -> list[tuple]:
    connection = duckdb.connect(str(data / "warehouse" / "demo_prod" / "warehouse.duckdb"), read_only=True)
    try:
        connection.execute("SET TimeZone = 'UTC'")
        return connection.execute(sql, params or []).fetchall()
    finally:
        connection.close()


def _rows(data: Path, table: str, columns: list[str], provider: str, day: date | None = None) -> list[tuple]:
    """The provider's rows (of one billing day, or all) as tuples of ``columns``, in one canonical order."""
    names = ", ".join(f'"{c}"' for c in columns)
    where, params = "x_cloud_provider = ?", [provider]
    if day is not None:
        where, params = where + " and x_ingestion_date = ?", [provider, day]
    return sorted(_query(data, f"select {names} from demo_prod.{table} where {where}", params), key=repr)


def _periods(data: Path, provider: str | None = None) -> list[dict]:
    columns = billing_period_1_4_schema().column_names
    where, params = ("x_cloud_provider = ?", [provider]) if provider else ("true", [])
    rows = _query(
        data,
        f"select {', '.join(columns)} from demo_prod.focus_billing_period_1_4 where {where} order by all",
        params,
    )
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _expected_periods(data: Path, provider: str) -> list[dict]:
    """The billing periods worked out in Python from the provider's 1.4 rows: keys, end, status, landing times."""
    rows = _query(
        data,
        "select BillingAccountId, BillingCurrency, BillingPeriodStart, BillingPeriodEnd, InvoiceIssuerName, InvoiceId, "
        "x_ingested_at from demo_prod.cost_data_standard_1_4 where x_cloud_provider = ?",
        [provider],
    )
    groups: dict[tuple, list[tuple]] = {}
    for account, currency, start, end, issuer, invoice, landed in rows:
        groups.setdefault((account, currency, start, issuer), []).append((end, invoice, landed))
    return [
        {
            "x_BillingAccountId": account,
            "x_BillingCurrency": currency,
            "BillingPeriodStart": start,
            "InvoiceIssuerName": issuer,
            "BillingPeriodEnd": max(end for end, _, _ in group),
            "BillingPeriodStatus": "Closed" if all(invoice and invoice.strip() for _, invoice, _ in group) else "Open",
            "BillingPeriodCreated": min(landed for _, _, landed in group),
            "BillingPeriodLastUpdated": max(landed for _, _, landed in group),
        }
        for (account, currency, start, issuer), group in sorted(groups.items(), key=repr)
    ]


def _without_provider(period: dict) -> dict:
    return {k: v for k, v in period.items() if k != "x_cloud_provider"}


def test_the_1_4_columns_are_the_1_3_ones_without_provider_and_publisher_plus_the_new_ones() -> None:
    v13, v14 = set(focus_schema().column_names), set(focus_1_4_schema().column_names)
    assert v13 - v14 == {"ProviderName", "PublisherName"}
    assert v14 - v13 == NEW_IN_1_4
    for name in SHARED:
        assert focus_1_4_schema().column(name) == focus_schema().column(name)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_demo_day_gives_1_4_rows_equal_to_the_1_3_rows(loaded: Path, provider: str) -> None:
    for day in DAYS:
        v13 = _rows(loaded, "cost_data_standard_1_3", SHARED, provider, day)
        v14 = _rows(loaded, "cost_data_standard_1_4", SHARED, provider, day)
        assert v13, f"no {provider} rows on {day}"
        assert v14 == v13  # column by column, DECIMAL compared as Decimal, exactly
        assert any(isinstance(value, Decimal) for value in v14[0])
    new = _query(
        loaded,
        "select count(*) from demo_prod.cost_data_standard_1_4 where x_cloud_provider = ? "
        "and (InvoiceDetailId is not null or CommitmentProgramEligibilityDetails is not null)",
        [provider],
    )
    assert new == [(0,)]  # no provider's export carries them (configs/focus_conformance.yml, focus_1_4:)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_billing_periods_hold_every_account_period_and_issuer_of_the_rows(loaded: Path, provider: str) -> None:
    periods = _periods(loaded, provider)
    assert periods and {p["x_cloud_provider"] for p in periods} == {provider}
    assert [_without_provider(p) for p in periods] == _expected_periods(loaded, provider)
    landed = {
        at
        for (at,) in _query(
            loaded,
            "select landed_at from demo_prod.landed_deliveries where raw_table = ?",
            [f"cloud_{provider}_billing_raw_daily"],
        )
    }
    for period in periods:
        assert period["BillingPeriodLastUpdated"] >= period["BillingPeriodCreated"]
        assert period["BillingPeriodStart"] < period["BillingPeriodEnd"]
        # times of the provider's deliveries (landed_deliveries.landed_at), not of the convert
        assert {period["BillingPeriodCreated"], period["BillingPeriodLastUpdated"]} <= landed


def test_a_period_is_closed_only_once_every_row_carries_an_invoice_id(own_copy: Path) -> None:
    """AWS writes bill_invoice_id when the month is invoiced: while one loaded day still lacks it, the period stays
    Open; once every day is converted again with it, Closed."""
    connection = duckdb.connect(str(own_copy / "warehouse" / "demo_prod" / "warehouse.duckdb"))
    connection.execute("update demo_prod.cloud_aws_billing_raw_daily set bill_invoice_id = 'EUINGB26-000001'")
    connection.close()
    _convert_and_check("aws", DAYS[0])
    assert {p["BillingPeriodStatus"] for p in _periods(own_copy, "aws")} == {"Open"}
    _convert_and_check("aws", DAYS[1])
    assert {p["BillingPeriodStatus"] for p in _periods(own_copy, "aws")} == {"Closed"}
    assert [_without_provider(p) for p in _periods(own_copy, "aws")] == _expected_periods(own_copy, "aws")


def test_a_blank_invoice_id_does_not_close_a_period(own_copy: Path) -> None:
    """An empty or blank bill_invoice_id cell is no invoice: the period stays Open until every row has a real one."""
    connection = duckdb.connect(str(own_copy / "warehouse" / "demo_prod" / "warehouse.duckdb"))
    connection.execute(
        "update demo_prod.cloud_aws_billing_raw_daily set bill_invoice_id = "
        "case when ingestion_date = ? then ' ' else 'EUINGB26-000001' end",
        [DAYS[0]],
    )
    connection.close()
    for day in DAYS[:2]:
        _convert_and_check("aws", day)
    assert {p["BillingPeriodStatus"] for p in _periods(own_copy, "aws")} == {"Open"}
    assert [_without_provider(p) for p in _periods(own_copy, "aws")] == _expected_periods(own_copy, "aws")


def test_a_restated_day_replaces_both_slices_and_its_periods(own_copy: Path) -> None:
    """GCP restates 11-02 down to half its rows: the 1.3 and 1.4 slices both hold the new rows, the period keeps
    its first landing as Created; OCI's days restated to nothing leave no OCI billing period behind."""
    all_before = _periods(own_copy)
    before = {(p["x_cloud_provider"], p["x_BillingAccountId"]): p for p in all_before}
    connection = duckdb.connect(str(own_copy / "warehouse" / "demo_prod" / "warehouse.duckdb"))
    total = connection.execute(
        "select count(*) from demo_prod.cloud_gcp_billing_raw_daily where ingestion_date = ?", [DAYS[1]]
    ).fetchone()[0]
    connection.execute(
        "delete from demo_prod.cloud_gcp_billing_raw_daily where ingestion_date = ? and rowid % 2 = 0", [DAYS[1]]
    )
    connection.execute("delete from demo_prod.cloud_oci_billing_raw_daily")
    connection.close()
    _convert_and_check("gcp", DAYS[1])
    v13 = _rows(own_copy, "cost_data_standard_1_3", SHARED, "gcp", DAYS[1])
    assert 0 < len(v13) < total
    assert _rows(own_copy, "cost_data_standard_1_4", SHARED, "gcp", DAYS[1]) == v13
    assert [_without_provider(p) for p in _periods(own_copy, "gcp")] == _expected_periods(own_copy, "gcp")
    for period in _periods(own_copy, "gcp"):
        assert period["BillingPeriodCreated"] == before[("gcp", period["x_BillingAccountId"])]["BillingPeriodCreated"]

    from cloudcost.pipeline.stages import run_convert_to_focus

    for day in DAYS:
        run_convert_to_focus(_run("oci", day))
    assert _rows(own_copy, "cost_data_standard_1_4", SHARED, "oci") == []
    assert _periods(own_copy, "oci") == []
    untouched = [p for p in all_before if p["x_cloud_provider"] in ("aws", "azure")]
    assert untouched and sorted(_periods(own_copy, "aws") + _periods(own_copy, "azure"), key=repr) == sorted(
        untouched, key=repr
    )


def test_a_restated_day_checks_only_the_periods_its_slice_held(own_copy: Path) -> None:
    """AWS's October period lost its Cost and Usage rows behind the pipeline's back (deleted by hand): converting
    November's day again leaves that period row as it was, because only the keys the replaced November slice held
    can be orphaned; November's periods are rebuilt and still match their rows."""
    before = _periods(own_copy, "aws")
    assert before and all(p["BillingPeriodStart"].month == 11 for p in before)
    columns = billing_period_1_4_schema().column_names
    october = {**before[0], "BillingPeriodStart": datetime(2026, 10, 1, tzinfo=UTC)}
    october["BillingPeriodEnd"] = datetime(2026, 11, 1, tzinfo=UTC)
    connection = duckdb.connect(str(own_copy / "warehouse" / "demo_prod" / "warehouse.duckdb"))
    connection.execute(
        f"insert into demo_prod.focus_billing_period_1_4 ({', '.join(columns)}) "
        f"values ({', '.join('?' for _ in columns)})",
        [october[c] for c in columns],
    )
    connection.close()
    stored_october = [p for p in _periods(own_copy, "aws") if p["BillingPeriodStart"].month == 10]
    assert len(stored_october) == 1

    _convert_and_check("aws", DAYS[1])
    after = _periods(own_copy, "aws")
    assert [p for p in after if p["BillingPeriodStart"].month == 10] == stored_october
    november = [_without_provider(p) for p in after if p["BillingPeriodStart"].month == 11]
    assert november == _expected_periods(own_copy, "aws") and november == [_without_provider(p) for p in before]


def test_a_day_restated_to_nothing_rebuilds_the_periods_it_held(own_copy: Path) -> None:
    """AWS's 11-02 is invoiced, 11-01 not yet, so the period is Open; 11-01 is then restated to no rows at all: the
    new slice holds no period, but the replaced one held November's, so it is rebuilt from 11-02's rows alone and
    is Closed (not left Open from rows that are gone)."""
    connection = duckdb.connect(str(own_copy / "warehouse" / "demo_prod" / "warehouse.duckdb"))
    connection.execute(
        "update demo_prod.cloud_aws_billing_raw_daily set bill_invoice_id = 'EUINGB26-000001' where ingestion_date = ?",
        [DAYS[1]],
    )
    connection.close()
    _convert_and_check("aws", DAYS[1])
    assert {p["BillingPeriodStatus"] for p in _periods(own_copy, "aws")} == {"Open"}
    connection = duckdb.connect(str(own_copy / "warehouse" / "demo_prod" / "warehouse.duckdb"))
    connection.execute("delete from demo_prod.cloud_aws_billing_raw_daily where ingestion_date = ?", [DAYS[0]])
    connection.close()
    from cloudcost.pipeline.stages import run_convert_to_focus

    run_convert_to_focus(_run("aws", DAYS[0]))
    assert _rows(own_copy, "cost_data_standard_1_4", SHARED, "aws", DAYS[0]) == []
    periods = _periods(own_copy, "aws")
    assert periods and {p["BillingPeriodStatus"] for p in periods} == {"Closed"}
    assert [_without_provider(p) for p in periods] == _expected_periods(own_copy, "aws")


def test_a_failed_1_4_write_leaves_the_1_3_slice_and_the_periods_as_they_were(
    own_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The raw rows of Azure's 11-01 change, then the 1.4 insert fails: the convert raises and the 1.3 slice, the 1.4
    slice and the billing periods are all the ones before (one transaction)."""
    from cloudcost.warehouse import duckdb_convert, focus_1_4

    tables = {
        "cost_data_standard_1_3": focus_schema().column_names,
        "cost_data_standard_1_4": focus_1_4_schema().column_names,
    }
    before = {table: _rows(own_copy, table, columns, "azure") for table, columns in tables.items()}
    periods_before = _periods(own_copy)
    day_before = _rows(own_copy, "cost_data_standard_1_3", SHARED, "azure", DAYS[0])
    connection = duckdb.connect(str(own_copy / "warehouse" / "demo_prod" / "warehouse.duckdb"))
    connection.execute(
        "delete from demo_prod.cloud_azure_billing_raw_daily where ingestion_date = ? and rowid % 2 = 0", [DAYS[0]]
    )
    connection.close()
    real_render = focus_1_4.render

    def failing_render(relative_path: str, qualify):
        sql = real_render(relative_path, qualify)
        if relative_path == focus_1_4.COST_AND_USAGE:  # fails on the first row, not at the column check
            sql = sql.replace(
                "        BilledCost,", "        cast(error('1.4 insert fails') as decimal(38, 10)) as BilledCost,"
            )
        return sql

    monkeypatch.setattr(duckdb_convert.focus_1_4, "render", failing_render)
    from cloudcost.pipeline.stages import run_convert_to_focus

    with pytest.raises(duckdb.Error, match=r"1\.4 insert fails"):
        run_convert_to_focus(_run("azure", DAYS[0]))
    assert {table: _rows(own_copy, table, columns, "azure") for table, columns in tables.items()} == before
    assert _periods(own_copy) == periods_before
    monkeypatch.setattr(duckdb_convert.focus_1_4, "render", real_render)
    run_convert_to_focus(_run("azure", DAYS[0]))  # the same convert, unbroken, takes the changed raw rows
    after = _rows(own_copy, "cost_data_standard_1_3", SHARED, "azure", DAYS[0])
    assert 0 < len(after) < len(day_before)
    assert _rows(own_copy, "cost_data_standard_1_4", SHARED, "azure", DAYS[0]) == after


def test_the_day_check_fails_loudly_when_1_4_differs_from_1_3(own_copy: Path) -> None:
    from cloudcost.pipeline.reconcile import ReconciliationFailed, reconcile_focus_1_4

    connection = duckdb.connect(str(own_copy / "warehouse" / "demo_prod" / "warehouse.duckdb"))
    account = connection.execute(
        "select BillingAccountId from demo_prod.cost_data_standard_1_4 where x_cloud_provider = 'oci' limit 1"
    ).fetchone()[0]
    connection.execute(
        "update demo_prod.cost_data_standard_1_4 set ListCost = ListCost + 0.0000000001 "
        "where rowid = (select min(rowid) from demo_prod.cost_data_standard_1_4 "
        "where x_cloud_provider = 'oci' and x_ingestion_date = ?)",
        [DAYS[0]],
    )
    connection.close()
    run = _run("oci", DAYS[0])
    with pytest.raises(ReconciliationFailed, match=rf"differs from the 1.3 slice .* {account}: ListCost "):
        reconcile_focus_1_4(run.warehouse, run.dataset, run.run)
    assert reconcile_focus_1_4(run.warehouse, run.dataset, _run("oci", DAYS[1]).run) >= 1


_BAD_PERIODS = {  # a planted bad Billing Period row of aws, and the daily rule that must name it
    "BillingPeriodDataset-start-before-end": "update {t} set BillingPeriodEnd = BillingPeriodStart {aws}",
    "BillingPeriodDataset-status-allowed": "update {t} set BillingPeriodStatus = 'Invoiced' {aws}",
    "BillingPeriodDataset-created-not-after-updated": (
        "update {t} set BillingPeriodCreated = BillingPeriodLastUpdated + interval 1 second {aws}"
    ),
    "BillingPeriodDataset-one-row-per-period": "insert into {t} select * from {t} {aws}",
}


@pytest.mark.parametrize("rule_id", sorted(_BAD_PERIODS))
def test_the_day_check_fails_on_a_bad_billing_period_row_of_the_periods_it_touched(
    own_copy: Path, rule_id: str
) -> None:
    from cloudcost.pipeline.focus_rules import FocusRuleViolation, check_every_focus_version

    run = _run("aws", DAYS[0])
    assert check_every_focus_version(run.warehouse, run.dataset, run.run)["1.4"][rule_id] == 0
    connection = duckdb.connect(str(own_copy / "warehouse" / "demo_prod" / "warehouse.duckdb"))
    connection.execute(
        _BAD_PERIODS[rule_id].format(t="demo_prod.focus_billing_period_1_4", aws="where x_cloud_provider = 'aws'")
    )
    connection.close()
    with pytest.raises(FocusRuleViolation, match=rf"demo/aws 2026-11-01: FOCUS 1\.4 rules broken: .*{rule_id}: [1-9]"):
        check_every_focus_version(run.warehouse, run.dataset, run.run)
    other = _run("gcp", DAYS[0])  # another provider's periods are not the aws slice's to answer for
    assert check_every_focus_version(other.warehouse, other.dataset, other.run)["1.4"][rule_id] == 0


def test_the_day_check_fails_when_a_period_the_slice_holds_has_no_billing_period_row(own_copy: Path) -> None:
    from cloudcost.pipeline.focus_rules import FocusRuleViolation, check_focus_rules

    connection = duckdb.connect(str(own_copy / "warehouse" / "demo_prod" / "warehouse.duckdb"))
    connection.execute("delete from demo_prod.focus_billing_period_1_4 where x_cloud_provider = 'oci'")
    connection.close()
    run = _run("oci", DAYS[1])
    with pytest.raises(FocusRuleViolation, match=r"BillingPeriodDataset-one-row-per-period: [1-9]"):
        check_focus_rules(run.warehouse, run.dataset, run.run, "1.4")


def test_the_conformance_file_says_per_provider_what_1_4_cannot_give() -> None:
    """Each provider accounts for every column new in 1.4, the billing-period columns whose source is the
    provider's, and the two datasets we do not produce; a NULL column is stated as NULL with its reason."""
    from cloudcost.validate.conformance import load_conformance

    section = load_conformance(version="1.4").additions
    assert section is not None and sorted(section.providers) == sorted(PROVIDERS)
    for provider, notes in section.providers.items():
        assert set(notes.columns) == NEW_IN_1_4, provider
        assert all(reason.startswith("NULL: ") for reason in notes.columns.values()), provider
        assert set(notes.billing_period) == {"BillingPeriodStatus", "BillingPeriodCreated", "BillingPeriodLastUpdated"}
        assert set(notes.datasets) == {"InvoiceDetail", "ContractCommitment"}
        assert all(reason.startswith("not produced: ") for reason in notes.datasets.values()), provider


def _bigquery_back_to_duckdb(relative_path: str, provider: str, day: date) -> str:
    """The BigQuery path's SELECT (as the convert procedure runs it, with its variables ``provider`` and
    ``billing_day``), transpiled back to DuckDB with the variables as literals and the project as the warehouse
    file's catalog. This checks the translation, not BigQuery."""
    import sqlglot
    from sqlglot import exp

    from cloudcost.warehouse.bigquery_ddl import focus_1_4_select

    values = {"provider": exp.Literal.string(provider), "billing_day": exp.cast(exp.Literal.string(str(day)), "date")}

    def variables(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table and node.name in values:
            return values[node.name].copy()
        return node

    tree = sqlglot.parse_one(focus_1_4_select("warehouse", "demo_prod", relative_path), read="bigquery")
    return tree.transform(variables).sql("duckdb")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_bigquery_statements_transpiled_back_give_the_duckdb_rows(loaded: Path, provider: str) -> None:
    from cloudcost.warehouse import focus_1_4

    cau = _query(loaded, _bigquery_back_to_duckdb(focus_1_4.COST_AND_USAGE, provider, DAYS[1]))
    columns = focus_1_4_schema().column_names
    assert sorted(cau, key=repr) == _rows(loaded, "cost_data_standard_1_4", columns, provider, DAYS[1])
    # the procedure keeps the slice's period keys in a TEMP table before the MERGE; nothing changed, so they are
    # the keys the stored slice holds
    replaced = _bigquery_back_to_duckdb(focus_1_4.REPLACED_PERIODS, provider, DAYS[1])
    rebuild = _bigquery_back_to_duckdb(focus_1_4.BILLING_PERIOD, provider, DAYS[1])
    periods = _query(loaded, f"create temporary table {focus_1_4.REPLACED_PERIODS_TABLE} as {replaced}; {rebuild}")
    names = billing_period_1_4_schema().column_names
    stored = sorted((tuple(p[n] for n in names) for p in _periods(loaded, provider)), key=repr)
    assert periods and sorted(periods, key=repr) == stored


def _drop_1_4(data: Path) -> None:
    """What an org upgraded from a build without FOCUS 1.4 has: 1.3 history, no 1.4 tables."""
    connection = duckdb.connect(str(data / "warehouse" / "demo_prod" / "warehouse.duckdb"))
    connection.execute("drop table demo_prod.cost_data_standard_1_4")
    connection.execute("drop table demo_prod.focus_billing_period_1_4")
    connection.close()


def _tables(data: Path) -> set[str]:
    return {t for (t,) in _query(data, "select table_name from duckdb_tables() where schema_name = 'demo_prod'")}


def test_the_convert_that_creates_the_1_4_tables_fills_every_day_1_3_already_held(own_copy: Path) -> None:
    """An org upgraded from a build without 1.4: its 1.3 history has no 1.4 rows and no billing periods. The first
    convert after the upgrade (GCP's 11-03) writes the 1.4 slice of every (provider, day) 1.3 holds, equal to 1.3,
    and periods whose Created is still the first day's landing, not the upgrade's."""
    from cloudcost.cli import main
    from cloudcost.pipeline.stages import run_land_raw

    before = _periods(own_copy)
    _drop_1_4(own_copy)
    third = date(2026, 11, 3)
    assert main(["demo", "generate", "--org", "demo", "--from", str(third), "--to", str(third)]) == 0
    run_land_raw(_run("gcp", third))
    _convert_and_check("gcp", third)

    held = _query(own_copy, "select distinct x_cloud_provider, x_ingestion_date from demo_prod.cost_data_standard_1_3")
    assert sorted(held) == sorted([(p, d) for p in PROVIDERS for d in DAYS] + [("gcp", third)])
    for provider, day in held:
        v13 = _rows(own_copy, "cost_data_standard_1_3", SHARED, provider, day)
        assert v13 and _rows(own_copy, "cost_data_standard_1_4", SHARED, provider, day) == v13, (provider, day)
    billed = "select x_cloud_provider, x_ingestion_date, sum(BilledCost) from demo_prod.{} group by all order by all"
    totals = _query(own_copy, billed.format("cost_data_standard_1_4"))
    assert totals == _query(own_copy, billed.format("cost_data_standard_1_3"))
    assert all(isinstance(total, Decimal) for _, _, total in totals)

    for provider in PROVIDERS:
        assert [_without_provider(p) for p in _periods(own_copy, provider)] == _expected_periods(own_copy, provider)
    first = {(p["x_cloud_provider"], p["x_BillingAccountId"]): p["BillingPeriodCreated"] for p in before}
    day_1_landings = {
        at
        for (at,) in _query(
            own_copy,
            "select distinct x_ingested_at from demo_prod.cost_data_standard_1_3 where x_ingestion_date = ?",
            [DAYS[0]],
        )
    }
    for period in _periods(own_copy):
        assert period["BillingPeriodCreated"] == first[(period["x_cloud_provider"], period["x_BillingAccountId"])]
        assert period["BillingPeriodCreated"] in day_1_landings
    assert [p for p in _periods(own_copy) if p["x_cloud_provider"] != "gcp"] == [
        p for p in before if p["x_cloud_provider"] != "gcp"
    ]


def test_a_failed_first_1_4_convert_leaves_no_1_4_table_so_the_next_one_catches_up(
    own_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 1.4 tables are created in the convert's transaction: when the first convert after the upgrade fails,
    they are gone again (not left empty, which would read as 'already built' and skip the catch-up forever)."""
    from cloudcost.pipeline.stages import run_convert_to_focus
    from cloudcost.warehouse import focus_1_4_catch_up

    _drop_1_4(own_copy)

    def failing(*args, **kwargs):
        raise RuntimeError("catch-up fails")

    monkeypatch.setattr(focus_1_4_catch_up, "fill_missing_slices", failing)
    with pytest.raises(RuntimeError, match="catch-up fails"):
        run_convert_to_focus(_run("aws", DAYS[1]))
    assert not {"cost_data_standard_1_4", "focus_billing_period_1_4"} & _tables(own_copy)
    monkeypatch.undo()
    monkeypatch.setenv("CLOUDCOST_DATA_DIR", str(own_copy))
    run_convert_to_focus(_run("aws", DAYS[1]))
    for provider in PROVIDERS:
        for day in DAYS:
            v13 = _rows(own_copy, "cost_data_standard_1_3", SHARED, provider, day)
            assert v13 and _rows(own_copy, "cost_data_standard_1_4", SHARED, provider, day) == v13, (provider, day)


def test_the_1_4_export_and_referee_refuse_a_range_with_a_day_1_4_lacks(own_copy: Path) -> None:
    """A 1.4 slice deleted by hand (as a day converted before 1.4 and never filled would be): the 1.4 export and the
    1.4 referee fail in one line naming the org, the provider and the day; a range without that day still exports,
    and 1.3 is not concerned."""
    from cloudcost.export.run import ExportError, export_org
    from cloudcost.validate.export import ExportError as RefereeExportError
    from cloudcost.validate.run import run_validation

    connection = duckdb.connect(str(own_copy / "warehouse" / "demo_prod" / "warehouse.duckdb"))
    connection.execute(
        "delete from demo_prod.cost_data_standard_1_4 where x_cloud_provider = 'azure' and x_ingestion_date = ?",
        [DAYS[1]],
    )
    connection.close()
    out = own_copy / "exports"
    message = r"^org demo: demo_prod\.cost_data_standard_1_4 has no azure rows for 2026-11-02, which FOCUS 1\.3 holds"
    with pytest.raises(ExportError, match=message) as raised:
        export_org("demo", "csv", DAYS[0], DAYS[1], path=out / "all.csv", focus_version="1.4")
    assert "\n" not in str(raised.value)
    assert not (out / "all.csv").exists()
    with pytest.raises(ExportError, match=message):
        export_org("demo", "csv", DAYS[1], DAYS[1], path=out / "x.csv", focus_version="1.4", providers=["azure"])
    with pytest.raises(RefereeExportError, match=message):
        run_validation("demo", focus_version="1.4", details=False)

    first_day = export_org("demo", "csv", DAYS[0], DAYS[0], path=out / "day1.csv", focus_version="1.4")
    assert first_day.rows == len(
        _query(own_copy, "select 1 from demo_prod.cost_data_standard_1_4 where x_ingestion_date = ?", [DAYS[0]])
    )
    others = export_org("demo", "csv", DAYS[1], DAYS[1], path=out / "aws.csv", focus_version="1.4", providers=["aws"])
    assert others.rows == len(_rows(own_copy, "cost_data_standard_1_4", SHARED, "aws", DAYS[1]))
    v13 = export_org("demo", "csv", DAYS[0], DAYS[1], path=out / "v13.csv")
    assert v13.rows == len(_query(own_copy, "select 1 from demo_prod.cost_data_standard_1_3"))


def test_the_export_freshness_is_read_from_the_exported_versions_table(own_copy: Path) -> None:
    """The 1.4 rows of GCP's 11-01 are marked landed 10 hours later than their 1.3 twins: the 1.4 export's median
    delay for that day is 10 hours more than the 1.3 export's, and the other days' are equal."""
    from cloudcost.export.metrics import FRESHNESS
    from cloudcost.export.run import export_org

    connection = duckdb.connect(str(own_copy / "warehouse" / "demo_prod" / "warehouse.duckdb"))
    connection.execute(
        "update demo_prod.cost_data_standard_1_4 set x_ingested_at = x_ingested_at + interval 10 hour "
        "where x_cloud_provider = 'gcp' and x_ingestion_date = ?",
        [DAYS[0]],
    )
    connection.close()

    def freshness(version: str) -> dict[tuple[str, str], Decimal]:
        result = export_org("demo", "csv", DAYS[0], DAYS[1], path=own_copy / f"f{version}.csv", focus_version=version)
        return {
            (m.dimensions["provider"], m.dimensions["billing_day"]): m.value
            for m in result.metrics
            if m.metric == FRESHNESS
        }

    v13, v14 = freshness("1.3"), freshness("1.4")
    assert v13.keys() == v14.keys() and ("gcp", "2026-11-01") in v13
    for key, value in v13.items():
        assert v14[key] - value == (Decimal("10.0000") if key == ("gcp", "2026-11-01") else 0), key
