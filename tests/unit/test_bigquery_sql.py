"""DuckDB -> BigQuery: every generated statement parses in sqlglot's BigQuery dialect, matches its golden file,
and each translation rule does what docs/bigquery.md says. Nothing here reaches BigQuery itself.

Regenerate the golden files after an intended change: CLOUDCOST_UPDATE_GOLDEN=1 pytest tests/unit/test_bigquery_sql.py
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from sqlglot import exp

from cloudcost.config import load_org_by_slug
from cloudcost.lookups import lookup_files
from cloudcost.schemas import billing_period_1_4_schema, focus_1_4_schema, focus_schema, load_table_schema
from cloudcost.warehouse.bigquery_ddl import (
    convert_procedure,
    convert_statement,
    create_dataset_ddl,
    create_table_ddl,
    enabled_formats,
    focus_1_4_catch_up_procedure,
    focus_1_4_statements,
    raw_formats,
    raw_schema,
)
from cloudcost.warehouse.bigquery_sql import TranslationError, duckdb_to_bigquery, parse_bigquery
from cloudcost.warehouse.focus_1_4_catch_up import missing_slices_select

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "bigquery"
PROJECT, DATASET = "my-project", "demo_prod"
FORMATS = raw_formats()


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("CLOUDCOST_UPDATE_GOLDEN"):
        path.write_text(text + "\n", encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text + "\n", f"{path} differs (CLOUDCOST_UPDATE_GOLDEN=1 to accept)"


@pytest.mark.parametrize(("provider", "name", "fmt"), FORMATS, ids=[f"{p}-{n}" for p, n, _ in FORMATS])
def test_convert_statement_parses_and_matches_golden(provider: str, name: str, fmt) -> None:
    sql = convert_statement(PROJECT, DATASET, provider, fmt)
    assert isinstance(parse_bigquery(sql), exp.Merge)
    _golden(f"convert_{provider}_{name}.sql", sql)


@pytest.mark.parametrize(("provider", "name", "fmt"), FORMATS, ids=[f"{p}-{n}" for p, n, _ in FORMATS])
def test_raw_table_ddl_parses_and_matches_golden(provider: str, name: str, fmt) -> None:
    sql = create_table_ddl(PROJECT, DATASET, raw_schema(fmt))
    assert isinstance(parse_bigquery(sql), exp.Create)
    assert "PARTITION BY `ingestion_date`" in sql and "partition_expiration_days = 730" in sql
    assert f"CLUSTER BY {', '.join(f'`{c}`' for c in fmt.cluster_by)}" in sql
    assert "BIGNUMERIC(38, 10)" in sql and "NUMERIC(38, 9)" not in sql
    _golden(f"ddl_{fmt.table}.sql", sql)


def test_focus_and_dataset_ddl() -> None:
    sql = create_table_ddl(PROJECT, DATASET, focus_schema())
    assert isinstance(parse_bigquery(sql), exp.Create)
    assert "PARTITION BY `x_ingestion_date`" in sql and "partition_expiration_days" not in sql
    _golden("ddl_cost_data_standard_1_3.sql", sql)
    dataset = create_dataset_ddl(PROJECT, DATASET, "EU")
    parse_bigquery(dataset)
    assert dataset == "CREATE SCHEMA IF NOT EXISTS `my-project`.`demo_prod` OPTIONS (location = 'EU')"


def test_focus_1_4_statements_parse_and_match_golden() -> None:
    """The shared 1.3 -> 1.4 statements every branch runs: the replaced slice's period keys kept in a TEMP table,
    the 1.4 slice MERGE, the billing-period MERGE on its key, the DELETE of the kept keys no row holds, the TEMP
    table dropped; each reads the procedure's variables, not query parameters."""
    replaced, cau, periods, orphans, drop = focus_1_4_statements(PROJECT, DATASET)
    assert isinstance(parse_bigquery(cau), exp.Merge) and isinstance(parse_bigquery(periods), exp.Merge)
    assert isinstance(parse_bigquery(orphans), exp.Delete)
    kept = parse_bigquery(replaced)
    assert isinstance(kept, exp.Create) and kept.args["properties"].find(exp.TemporaryProperty) is not None
    assert isinstance(parse_bigquery(drop), exp.Drop) and drop == "DROP TABLE cloudcost_replaced_periods_1_4"
    # the orphan DELETE reads the 1.4 rows only joined to the kept keys, never every period of the provider
    reads = [t for t in parse_bigquery(orphans).find_all(exp.Table) if t.name == "cost_data_standard_1_4"]
    assert reads
    for table in reads:
        joins = table.find_ancestor(exp.Select).args.get("joins") or []
        assert [j.this.name for j in joins] == ["cloudcost_replaced_periods_1_4"]
    assert "FROM cloudcost_replaced_periods_1_4" in periods
    assert cau.startswith("MERGE `my-project`.`demo_prod`.`cost_data_standard_1_4` AS T")
    assert "FROM `my-project`.`demo_prod`.`cost_data_standard_1_3`" in cau
    assert "T.x_cloud_provider = provider AND T.x_ingestion_date = billing_day THEN DELETE" in cau
    assert periods.startswith("MERGE `my-project`.`demo_prod`.`focus_billing_period_1_4` AS T")
    assert "WHEN MATCHED THEN UPDATE SET" in periods and "WHEN NOT MATCHED BY TARGET THEN INSERT" in periods
    for sql in (replaced, cau, periods, orphans):
        assert "@provider" not in sql and "@billing_day" not in sql
    _golden("focus_1_4_replaced_periods.sql", replaced)
    _golden("focus_1_4_cost_and_usage.sql", cau)
    _golden("focus_1_4_billing_period.sql", periods)
    _golden("focus_1_4_billing_period_orphans.sql", orphans)


def test_focus_1_4_ddl() -> None:
    for schema in (focus_1_4_schema(), billing_period_1_4_schema()):
        sql = create_table_ddl(PROJECT, DATASET, schema)
        assert isinstance(parse_bigquery(sql), exp.Create)
        _golden(f"ddl_{schema.table}.sql", sql)
    assert "PARTITION BY `x_ingestion_date`" in create_table_ddl(PROJECT, DATASET, focus_1_4_schema())


def test_procedure_has_one_branch_per_enabled_format_and_each_statement_parses() -> None:
    formats = enabled_formats(load_org_by_slug("demo"))
    sql = convert_procedure(PROJECT, DATASET, formats)
    # sqlglot reads the procedure's IF chain only as an opaque command, so its MERGEs are parsed one by one above
    parse_bigquery(sql)
    assert sql.startswith(
        "CREATE OR REPLACE PROCEDURE `my-project`.`demo_prod`.`sp_cloud_1_convert_to_focus`"
        "(provider STRING, source_format STRING, billing_day DATE)"
    )
    for provider, name, fmt in formats:
        assert f"provider = '{provider}' AND source_format = '{name}' THEN" in sql
        assert convert_statement(PROJECT, DATASET, provider, fmt).splitlines()[0] in sql
    assert "RAISE USING MESSAGE = CONCAT(" in sql and "\n  END IF;\n" in sql
    # the 1.3 branch and the shared FOCUS 1.4 statements run in one transaction, rolled back and raised on error
    assert sql.split("\nBEGIN\n", 1)[1].startswith("  BEGIN TRANSACTION;\n  IF provider = ")
    end_if = sql.index("\n  END IF;\n")
    for statement in focus_1_4_statements(PROJECT, DATASET):
        assert sql.index(statement.splitlines()[0]) > end_if
    assert sql.rstrip().endswith(
        "  COMMIT TRANSACTION;\nEXCEPTION WHEN ERROR THEN\n  ROLLBACK TRANSACTION;\n"
        "  RAISE USING MESSAGE = @@error.message;\nEND"
    )
    assert "@billing_day" not in sql and "$billing_day" not in sql.replace("/*", "").split("*/")[-1]


def test_the_1_4_catch_up_procedure_loops_over_the_missing_slices_in_one_transaction() -> None:
    """For every (provider, day) in 1.3 and not in 1.4 (golden), the convert's own shared 1.4 statements with the
    procedure's ``provider`` and ``billing_day`` set to it, between one BEGIN and one COMMIT."""
    missing = duckdb_to_bigquery(missing_slices_select(lambda table: f'"{PROJECT}"."{DATASET}"."{table}"'))
    assert isinstance(parse_bigquery(missing), exp.Select)
    _golden("focus_1_4_missing_slices.sql", missing)
    sql = focus_1_4_catch_up_procedure(PROJECT, DATASET)
    parse_bigquery(sql)  # an opaque command to sqlglot, like the convert procedure: its statements are checked above
    assert sql.startswith("CREATE OR REPLACE PROCEDURE `my-project`.`demo_prod`.`sp_cloud_1_focus_1_4_catch_up`()")
    begin, loop, end = sql.index("BEGIN TRANSACTION;"), sql.index("  FOR missing IN ("), sql.index("  END FOR;")
    assert sql.count("BEGIN TRANSACTION;") == 1 and sql.count("COMMIT TRANSACTION;") == 1
    assert begin < loop < end < sql.index("COMMIT TRANSACTION;")
    assert missing.splitlines()[-1].strip() in sql[loop:end]
    at = sql.index("SET billing_day = missing.x_ingestion_date;")
    assert loop < sql.index("SET provider = missing.x_cloud_provider;") < at
    for statement in focus_1_4_statements(PROJECT, DATASET):
        assert at < sql.index(statement.splitlines()[0]) < end


def test_procedure_arguments_collide_with_no_column() -> None:
    """Inside the procedure ``provider``, ``source_format`` and ``billing_day`` are variables; a column of the same
    name (BigQuery compares names case-insensitively) would shadow them."""
    names = {
        c.name.lower() for s in (focus_schema(), focus_1_4_schema(), billing_period_1_4_schema()) for c in s.columns
    }
    for _, _, fmt in FORMATS:
        names |= {c.name.lower() for c in load_table_schema(fmt.schema_file).columns}
    for path in lookup_files().values():
        with path.open(encoding="utf-8") as handle:
            names |= {h.lower() for h in next(csv.reader(handle))}
    assert not names & {"provider", "source_format", "billing_day"}


def _bq(sql: str, **kwargs) -> str:
    out = duckdb_to_bigquery(sql, pretty=False, **kwargs)
    parse_bigquery(out)
    return out


def test_decimal_casts_round_like_duckdb() -> None:
    assert _bq("select cast(a / b as decimal(38, 10)) from t") == "SELECT ROUND(CAST(a / b AS BIGNUMERIC), 10) FROM t"
    assert _bq("select try_cast(x as decimal(38, 10))") == "SELECT ROUND(SAFE_CAST(x AS BIGNUMERIC), 10)"
    assert _bq("select cast(x as decimal(10, 2))") == "SELECT ROUND(CAST(x AS NUMERIC), 2)"
    assert _bq("select cast(null as decimal(38, 10))") == "SELECT CAST(NULL AS BIGNUMERIC)"


def test_lists_from_json_become_unnest_subqueries() -> None:
    summed = _bq("select list_sum(cast(json_extract_string(credits, '$[*].amount') as decimal(38, 10)[])) from t")
    assert summed == (
        "SELECT (SELECT SUM(ROUND(CAST((JSON_VALUE(_e1, '$.amount')) AS BIGNUMERIC), 10)) "
        "FROM UNNEST(JSON_QUERY_ARRAY(credits, '$')) AS _e1) FROM t"
    )
    anyof = _bq(
        "select list_bool_or(list_transform(json_extract_string(c, '$[*].type'), lambda t: t like 'X%')) from t"
    )
    assert anyof == (
        "SELECT (SELECT LOGICAL_OR((JSON_VALUE(_e1, '$.type')) LIKE 'X%') "
        "FROM UNNEST(JSON_QUERY_ARRAY(c, '$')) AS _e1) FROM t"
    )
    counted = _bq("select len(list_filter(json_extract_string(c, '$[*].v'), lambda x: x <> '')) from t")
    assert "COUNT(*)" in counted and "WHERE ((JSON_VALUE(_e1, '$.v')) <> '')" in counted
    assert _bq("select json_array_length(c) from t") == "SELECT ARRAY_LENGTH(JSON_QUERY_ARRAY(c, '$')) FROM t"


def test_label_maps_keep_the_last_value_per_key() -> None:
    shape = '[{"key": "VARCHAR", "value": "VARCHAR"}]'
    sql = _bq(
        f"with m as (select map_concat(coalesce(map_from_entries(from_json(a, '{shape}')), map()), "
        f"coalesce(map_from_entries(from_json(b, '{shape}')), map())) as label_map from t) "
        "select case when cardinality(label_map) = 0 then null else to_json(label_map) end as Tags from m"
    )
    assert "PARTITION BY key ORDER BY _source DESC, _position DESC) = 1" in sql
    assert "UNNEST(JSON_QUERY_ARRAY(a, '$'))" in sql and "UNNEST(JSON_QUERY_ARRAY(b, '$'))" in sql
    assert "ARRAY_LENGTH(label_map) = 0" in sql and "FROM UNNEST(label_map) AS _label" in sql


def test_interval_arithmetic_goes_through_datetime() -> None:
    assert _bq("select d + interval 1 month from t") == (
        "SELECT TIMESTAMP(DATETIME_ADD(DATETIME(d), INTERVAL 1 MONTH)) FROM t"
    )
    assert (
        _bq("select d - interval 2 day from t") == "SELECT TIMESTAMP(DATETIME_ADD(DATETIME(d), INTERVAL -2 DAY)) FROM t"
    )


def test_regexp_extract_and_split_part_keep_duckdb_empty_strings() -> None:
    assert _bq("select regexp_extract(x, '/p/([^/]+)', 1) from t") == (
        "SELECT IF(x IS NULL, NULL, COALESCE(REGEXP_EXTRACT(x, '/p/([^/]+)'), '')) FROM t"
    )
    assert _bq("select split_part(x, '.', 2) from t") == (
        "SELECT IF(x IS NULL, NULL, COALESCE(SPLIT(x, '.')[SAFE_OFFSET(1)], '')) FROM t"
    )
    with pytest.raises(TranslationError, match="group 2"):
        duckdb_to_bigquery("select regexp_extract(x, '(a)(b)', 2) from t")


def test_json_text_parameters_and_qualify() -> None:
    assert _bq("select cast(tags as varchar) from t", json_columns=["tags"]) == "SELECT TO_JSON_STRING(tags) FROM t"
    assert _bq("select cast(name as varchar) from t", json_columns=["tags"]) == "SELECT CAST(name AS STRING) FROM t"
    assert _bq("select * from t where d = $billing_day") == "SELECT * FROM t WHERE d = @billing_day"
    assert _bq("select * from t where d = $billing_day", parameters="variables") == (
        "SELECT * FROM t WHERE d = billing_day"
    )
    assert _bq("select * from t where d = ?") == "SELECT * FROM t WHERE d = ?"
    assert _bq("select * from t qualify row_number() over (partition by a order by b) = 1") == (
        "SELECT * FROM t WHERE TRUE QUALIFY ROW_NUMBER() OVER (PARTITION BY a ORDER BY b NULLS LAST) = 1"
    )


def test_tag_keys_and_values_are_taken_literally() -> None:
    """A key held in a column is looked up by BigQuery's JSON subscript, which takes a field name as it is; the
    keys BigQuery's JSON_KEYS quotes (those holding '.', '"', '\\') are read back from their JSON string form."""
    pointer = "'/' || replace(replace(k, '~', '~0'), '/', '~1')"
    assert _bq(f"select j ->> ({pointer}) from t") == "SELECT JSON_EXTRACT_SCALAR(j[k], '$') FROM t"
    assert _bq("select k from t, unnest(json_keys(t.j)) as keys(k)") == (
        "SELECT k FROM t, UNNEST(ARRAY(SELECT IF(STARTS_WITH(_key1, '\"'), JSON_VALUE(_key1, '$'), _key1) "
        "FROM UNNEST(JSON_KEYS(t.j, 1)) AS _key1)) AS k"
    )
    # DuckDB reads a bare key as a JSONPath ($...) or a JSON Pointer (/...): such a lookup is a defect, refused
    for path in ("k", "'$.' || k", "'/' || k", "'/' || replace(replace(k, '/', '~1'), '~', '~0')"):
        with pytest.raises(TranslationError, match="JSON Pointer"):
            duckdb_to_bigquery(f"select j ->> ({path}) from t")


def test_untranslated_duckdb_constructs_are_refused() -> None:
    with pytest.raises(TranslationError, match="BigQuery"):
        duckdb_to_bigquery("select list_sort(l) from t")
    with pytest.raises(TranslationError, match="no BigQuery rule"):
        duckdb_to_bigquery("select list_transform(l, lambda x: x + 1) from t")
