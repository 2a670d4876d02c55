"""FOCUS columns from Arrow batches: the exact text the export writes is the text DuckDB's own casts give (what
the export wrote before the text moved out of SQL), and BigQuery's Arrow types convert without losing a digit."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest

from cloudcost.focus_arrow import as_text, typed
from cloudcost.schemas import Column

AMOUNTS = ["0", "0.0000000001", "-0.0000000001", "0.0000009999", "0.000001", "1", "-5.5", "0.06912",
           "1234567890123456789012345678.1234567890", "-1234567890123456789012345678.9999999999"]  # fmt: skip
TIMES = ["2026-11-01 00:00:00", "2026-11-01 00:00:00.25", "2026-12-31 23:59:59.999999", "2026-11-01 10:00:00.000001"]
DECIMAL = Column(name="BilledCost", type="decimal")
TIMESTAMP = Column(name="ChargePeriodStart", type="timestamp")


def _duckdb(sql: str) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute(sql)
    return connection


def test_decimal_text_is_duckdbs_cast_for_every_magnitude() -> None:
    connection = _duckdb("create table t (BilledCost decimal(38, 10))")
    connection.executemany("insert into t values (?::decimal(38, 10))", [[a] for a in AMOUNTS] + [[None]])
    expected = [r[0] for r in connection.execute("select cast(BilledCost as varchar) from t").fetchall()]
    batch = connection.sql("select BilledCost from t").to_arrow_table().to_batches()[0]
    assert as_text(batch, [DECIMAL]).column("BilledCost").to_pylist() == expected
    assert expected[:3] == ["0.0000000000", "0.0000000001", "-0.0000000001"]  # Arrow alone writes 0E-10, 1E-10


def test_timestamp_text_is_rfc_3339_as_the_export_wrote_it_in_sql() -> None:
    connection = _duckdb("create table t (ChargePeriodStart timestamptz)")
    connection.executemany("insert into t values (?::timestamptz)", [[f"{t}+00"] for t in TIMES])
    expected = [
        r[0]
        for r in connection.execute(
            "select regexp_replace(strftime(ChargePeriodStart, '%Y-%m-%dT%H:%M:%S.%fZ'), '\\.000000Z$', 'Z') from t"
        ).fetchall()
    ]
    batch = connection.sql("select ChargePeriodStart from t").to_arrow_table().to_batches()[0]
    assert as_text(batch, [TIMESTAMP]).column("ChargePeriodStart").to_pylist() == expected
    assert expected[:2] == ["2026-11-01T00:00:00Z", "2026-11-01T00:00:00.250000Z"]


def test_bigquery_types_become_the_schema_types_exactly() -> None:
    """BIGNUMERIC arrives as decimal256(76, 38), JSON as an extension type over text (db-dtypes' JSON)."""

    class JsonType(pa.ExtensionType):
        def __init__(self) -> None:
            super().__init__(pa.string(), "test.json")

        def __arrow_ext_serialize__(self) -> bytes:
            return b""

        @classmethod
        def __arrow_ext_deserialize__(cls, storage_type, serialized):
            return cls()

    tags = pa.ExtensionArray.from_storage(JsonType(), pa.array(['{"team":"ml"}', None]))
    batch = pa.RecordBatch.from_arrays(
        [
            pa.array([Decimal("0.0691200000"), Decimal("-1E-10")], pa.decimal256(76, 38)),
            tags,
            pa.array([datetime(2026, 11, 1, tzinfo=UTC), None], pa.timestamp("us", tz="UTC")),
            pa.array([date(2026, 11, 1), None]),
        ],
        names=["BilledCost", "Tags", "ChargePeriodStart", "x_ingestion_date"],
    )
    columns = [DECIMAL, Column(name="Tags", type="json"), TIMESTAMP, Column(name="x_ingestion_date", type="date")]
    table = typed(batch, columns)
    assert table.schema.field("BilledCost").type == pa.decimal128(38, 10)
    assert table.column("BilledCost").to_pylist() == [Decimal("0.0691200000"), Decimal("-1E-10")]
    assert as_text(batch, columns).to_pylist() == [
        {"BilledCost": "0.0691200000", "Tags": '{"team":"ml"}', "ChargePeriodStart": "2026-11-01T00:00:00Z",
         "x_ingestion_date": "2026-11-01"},
        {"BilledCost": "-0.0000000001", "Tags": None, "ChargePeriodStart": None, "x_ingestion_date": None},
    ]  # fmt: skip


def test_a_digit_beyond_the_schemas_scale_is_refused_not_rounded() -> None:
    batch = pa.RecordBatch.from_arrays([pa.array([Decimal("0.00000000001")], pa.decimal256(76, 38))], ["BilledCost"])
    with pytest.raises(pa.ArrowInvalid):
        typed(batch, [DECIMAL])
