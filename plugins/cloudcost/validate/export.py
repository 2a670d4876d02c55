"""Export one provider's FOCUS rows of an org to Parquet, typed explicitly, for the validator to read.

Types come from the version's FOCUS schema (``schemas/focus/cost_data_standard_1_3.yml`` for 1.3), never from
inference: the validator's CSV loader mistypes ids (account ids become numbers), so it gets Parquet with decimals
as decimal128(38, 10), timestamps as UTC, JSON as text. Rows stream from the warehouse in Arrow record batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

import pyarrow.parquet as pq

from cloudcost.focus_arrow import arrow_schema, typed
from cloudcost.identifiers import qualified
from cloudcost.schemas import (
    PRIMARY_FOCUS_VERSION,
    Column,
    SchemaError,
    TableSchema,
    billing_period_1_4_schema,
    focus_schema,
    quote_column,
)
from cloudcost.warehouse.base import Session, Warehouse
from cloudcost.warehouse.focus_1_4_catch_up import missing_slices_select

BATCH_ROWS = 100_000


class ExportError(RuntimeError):
    """The FOCUS table cannot be exported (missing table or FOCUS column)."""


@dataclass(frozen=True)
class FocusExport:
    path: Path
    provider: str
    rows: int
    columns: list[str]
    formats: list[str]  # x_source_format values among the rows


def version_schema(version: str) -> TableSchema:
    """The FOCUS table of ``version``; ``ExportError`` (one line) when this build has none for it."""
    try:
        return focus_schema(version)
    except SchemaError as exc:
        raise ExportError(str(exc)) from None


def require_table(warehouse: Warehouse, dataset: str, version: str) -> None:
    """Fail in one line when the org's dataset has no table of ``version`` (nothing to referee)."""
    table = version_schema(version).table
    with warehouse.session(dataset) as session:
        if not warehouse.table_exists(session, dataset, table):
            raise ExportError(
                f"{qualified(dataset, table)} does not exist: no FOCUS {version} rows have been built for this org"
            )


def focus_columns(
    warehouse: Warehouse,
    session: Session,
    dataset: str,
    include_custom: bool,
    version: str = PRIMARY_FOCUS_VERSION,
) -> list[Column]:
    """The org's FOCUS table columns to read, in schema order; every FOCUS column must be there."""
    schema = version_schema(version)
    table = qualified(dataset, schema.table)
    present = set(warehouse.columns(session, dataset, schema.table))
    if not present:
        raise ExportError(f"{table} does not exist: no FOCUS rows have been loaded for this org")
    missing = [c.name for c in schema.columns if not c.name.startswith("x_") and c.name not in present]
    if missing:
        raise ExportError(f"{table} lacks FOCUS columns {missing}: run a pipeline stage to migrate it")
    return [c for c in schema.columns if c.name in present and (include_custom or not c.name.startswith("x_"))]


def _day_range(first_day: date | None, last_day: date | None) -> tuple[list[str], list[object]]:
    """The conditions and bound values of an optional billing-day range ``first_day..last_day``."""
    where: list[str] = []
    params: list[object] = []
    if first_day:
        where.append("x_ingestion_date >= ?")
        params.append(first_day)
    if last_day:
        where.append("x_ingestion_date <= ?")
        params.append(last_day)
    return where, params


def require_every_day(
    session: Session,
    org: str,
    dataset: str,
    version: str,
    *,
    first_day: date | None = None,
    last_day: date | None = None,
    providers: Sequence[str] | None = None,
) -> None:
    """A derived version (1.4) is read only where it holds every (provider, day) the primary table holds: a day
    converted before 1.4 existed and never filled would otherwise drop out of a file or a verdict without a word.
    ``ExportError`` names the org, the provider and the first such day."""
    if version == PRIMARY_FOCUS_VERSION:
        return
    where, params = _day_range(first_day, last_day)
    if providers:
        where.append(f"x_cloud_provider in ({', '.join('?' for _ in providers)})")
        params.extend(providers)
    missing = missing_slices_select(lambda table: qualified(dataset, table))
    rows = session.fetchall(
        f"select x_cloud_provider, x_ingestion_date from ({missing}) as missing "
        f"{'where ' + ' and '.join(where) if where else ''} order by x_ingestion_date, x_cloud_provider limit 1",
        params,
    )
    if rows:
        provider, day = rows[0]
        table = f"{dataset}.{version_schema(version).table}"  # as people write it; qualified() checked both above
        raise ExportError(
            f"org {org}: {table} has no {provider} rows for {day}, which FOCUS {PRIMARY_FOCUS_VERSION} holds (and "
            f"perhaps later days): convert {day} again, or drop {table} so the next convert fills every missing day"
        )


def providers_with_rows(warehouse: Warehouse, dataset: str, version: str = PRIMARY_FOCUS_VERSION) -> dict[str, int]:
    """Row count per ``x_cloud_provider`` in the org's FOCUS table (empty if the table does not exist)."""
    table = version_schema(version).table
    with warehouse.session(dataset) as session:
        if not warehouse.table_exists(session, dataset, table):
            return {}
        rows = session.fetchall(
            f"select x_cloud_provider, count(*) from {qualified(dataset, table)} group by all order by 1"
        )
    return {str(provider): int(count) for provider, count in rows}


def export_focus(
    warehouse: Warehouse,
    dataset: str,
    provider: str,
    path: Path,
    *,
    include_custom: bool = True,
    first_day: date | None = None,
    last_day: date | None = None,
    days: Sequence[date] | None = None,
    version: str = PRIMARY_FOCUS_VERSION,
) -> FocusExport:
    """Write the provider's rows of the ``version`` table (optionally only billing days ``first_day..last_day``,
    or only ``days``) to ``path``.

    ``include_custom`` keeps our ``x_`` columns: focus-validator 2.2.1 accepts them and its results are the
    same with or without them (its custom-column rule, ColumnHandling-A-010-M, is not implemented and skips).
    """
    table = qualified(dataset, version_schema(version).table)
    with warehouse.session(dataset) as session:
        columns = focus_columns(warehouse, session, dataset, include_custom, version)
        where, params = _day_range(first_day, last_day)
        where.insert(0, "x_cloud_provider = ?")
        params.insert(0, provider)
        if days is not None:
            where.append(f"x_ingestion_date in ({', '.join('?' for _ in days) or 'null'})")
            params.extend(days)
        condition = " and ".join(where)
        formats = [
            str(f)
            for (f,) in session.fetchall(
                f"select distinct x_source_format from {table} where {condition} order by 1", params
            )
        ]
        rows = _write_parquet(warehouse, session, table, columns, condition, params, path)
    return FocusExport(path, provider, rows, [c.name for c in columns], formats)


def _write_parquet(
    warehouse: Warehouse,
    session: Session,
    table: str,
    columns: list[Column],
    condition: str,
    params: list[object],
    path: Path,
) -> int:
    """Stream ``columns`` of the rows of ``table`` matching ``condition`` into ``path``, typed; the row count."""
    target = arrow_schema(columns)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    query = f"select {', '.join(quote_column(c.name) for c in columns)} from {table} where {condition}"
    with pq.ParquetWriter(path, target) as writer:
        for batch in warehouse.arrow_batches(session, query, params, BATCH_ROWS):
            writer.write_table(typed(batch, columns))
            rows += batch.num_rows
    return rows


def export_billing_period(
    warehouse: Warehouse,
    dataset: str,
    provider: str,
    path: Path,
    *,
    include_custom: bool = True,
    first_day: date | None = None,
    last_day: date | None = None,
    days: Sequence[date] | None = None,
) -> FocusExport:
    """Write the provider's FOCUS 1.4 Billing Period rows to ``path``: the periods holding a billing day of
    ``first_day..last_day`` or of ``days`` (all periods when neither is given).

    Days are bound as UTC midnights: a period holds day D when ``BillingPeriodStart <= D < BillingPeriodEnd``.
    """
    schema = billing_period_1_4_schema()
    table = qualified(dataset, schema.table)
    where: list[str] = ["x_cloud_provider = ?"]
    params: list[object] = [provider]
    if first_day:
        where.append("BillingPeriodEnd > ?")
        params.append(_midnight(first_day))
    if last_day:
        where.append("BillingPeriodStart <= ?")
        params.append(_midnight(last_day))
    if days is not None:
        held = ["(BillingPeriodStart <= ? and BillingPeriodEnd > ?)" for _ in days]
        where.append(f"({' or '.join(held) or 'false'})")
        params.extend(moment for day in days for moment in (_midnight(day), _midnight(day)))
    with warehouse.session(dataset) as session:
        if not warehouse.table_exists(session, dataset, schema.table):
            raise ExportError(f"{table} does not exist: no FOCUS 1.4 billing periods have been built for this org")
        columns = [c for c in schema.columns if include_custom or not c.name.startswith("x_")]
        rows = _write_parquet(warehouse, session, table, columns, " and ".join(where), params, path)
    return FocusExport(path, provider, rows, [c.name for c in columns], [])


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)
