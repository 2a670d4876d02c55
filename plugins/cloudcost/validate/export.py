"""Export one provider's FOCUS rows of an org to Parquet, typed explicitly, for the validator to read.

Types come from ``schemas/focus/cost_data_standard_1_3.yml``, never from inference: the validator's CSV
loader mistypes ids (account ids become numbers), so it gets Parquet with decimals as decimal128(38, 10),
timestamps as UTC, JSON as text. Rows stream from DuckDB in record batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cloudcost.identifiers import qualified
from cloudcost.schemas import DECIMAL_PRECISION, DECIMAL_SCALE, Column, focus_schema, quote_column
from cloudcost.warehouse.duckdb import DuckDBWarehouse

BATCH_ROWS = 100_000

_ARROW_TYPES = {
    "string": pa.string(),
    "json": pa.string(),  # the validator parses JSON columns from text
    "decimal": pa.decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "int64": pa.int64(),
    "bool": pa.bool_(),
}


class ExportError(RuntimeError):
    """The FOCUS table cannot be exported (missing table or FOCUS column)."""


@dataclass(frozen=True)
class FocusExport:
    path: Path
    provider: str
    rows: int
    columns: list[str]
    formats: list[str]  # x_source_format values among the rows


def arrow_schema(columns: list[Column]) -> pa.Schema:
    return pa.schema([pa.field(c.name, _ARROW_TYPES[c.type], nullable=c.nullable) for c in columns])


def _select(column: Column) -> str:
    ref = quote_column(column.name)
    return f"cast({ref} as varchar) as {ref}" if column.type == "json" else ref


def providers_with_rows(warehouse: DuckDBWarehouse, dataset: str) -> dict[str, int]:
    """Row count per ``x_cloud_provider`` in the org's FOCUS table (empty if the table does not exist)."""
    table = focus_schema().table
    with warehouse.session() as session:
        exists = session.fetchall(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [dataset, table],
        )[0][0]
        if not exists:
            return {}
        rows = session.fetchall(
            f"select x_cloud_provider, count(*) from {qualified(dataset, table)} group by all order by 1"
        )
    return {str(provider): int(count) for provider, count in rows}


def export_focus(
    warehouse: DuckDBWarehouse,
    dataset: str,
    provider: str,
    path: Path,
    *,
    include_custom: bool = True,
    first_day: date | None = None,
    last_day: date | None = None,
) -> FocusExport:
    """Write the provider's rows (optionally only billing days ``first_day..last_day``) to ``path``.

    ``include_custom`` keeps our ``x_`` columns: focus-validator 2.2.1 accepts them and its results are the
    same with or without them (its custom-column rule, ColumnHandling-A-010-M, is not implemented and skips).
    """
    schema = focus_schema()
    table = qualified(dataset, schema.table)
    params: list[object]
    with warehouse.session() as session:
        present = {
            name
            for (name,) in session.fetchall(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
                [dataset, schema.table],
            )
        }
        if not present:
            raise ExportError(f"{table} does not exist: no FOCUS rows have been loaded for this org")
        missing = [c.name for c in schema.columns if not c.name.startswith("x_") and c.name not in present]
        if missing:
            raise ExportError(f"{table} lacks FOCUS columns {missing}: run a pipeline stage to migrate it")
        columns = [c for c in schema.columns if c.name in present and (include_custom or not c.name.startswith("x_"))]
        where, params = ["x_cloud_provider = ?"], [provider]
        if first_day:
            where.append("x_ingestion_date >= ?")
            params.append(first_day)
        if last_day:
            where.append("x_ingestion_date <= ?")
            params.append(last_day)
        condition = " and ".join(where)
        formats = [
            str(f)
            for (f,) in session.fetchall(
                f"select distinct x_source_format from {table} where {condition} order by 1", params
            )
        ]
        target = arrow_schema(columns)
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = 0
        query = f"select {', '.join(_select(c) for c in columns)} from {table} where {condition}"
        result = session.connection.sql(query, params=params)
        with pq.ParquetWriter(path, target) as writer:
            for batch in result.to_arrow_reader(BATCH_ROWS):
                writer.write_table(pa.Table.from_batches([batch]).cast(target))
                rows += batch.num_rows
    return FocusExport(path, provider, rows, [c.name for c in columns], formats)
