"""What has landed: the ledger of deliveries (``<org>_prod.landed_deliveries``) and the raw figures of a billing day.

The helpers take any warehouse ``Session`` (the same SQL on every engine, translated where it must be), so every
warehouse keeps one ledger of what was read, at which version, for which days.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date

from cloudcost.core.run_context import RunContext
from cloudcost.identifiers import qualified
from cloudcost.schemas import TableSchema
from cloudcost.sources.base import Delivery
from cloudcost.warehouse.base import Session

DELIVERIES = "state/landed_deliveries.yml"


def pending(session: Session, dataset: str, schema: TableSchema, deliveries: Sequence[Delivery]) -> list[Delivery]:
    """The deliveries not landed at their version yet (each once, even if listed for several days)."""
    if not deliveries:
        return []
    landed = set(
        session.fetchall(
            f"select delivery_key, version, fingerprint from {qualified(dataset, 'landed_deliveries')} "
            "where raw_table = ?",
            [schema.table],
        )
    )
    unique = {(d.key, d.version, d.fingerprint): d for d in deliveries}
    return [d for identity, d in unique.items() if identity not in landed]


def record_delivery(
    session: Session, dataset: str, schema: TableSchema, delivery: Delivery, rows: int, run: RunContext
) -> None:
    table = qualified(dataset, "landed_deliveries")
    session.execute(f"delete from {table} where raw_table = ? and delivery_key = ?", [schema.table, delivery.key])
    first, last = delivery.days or (None, None)
    session.execute(
        f"insert into {table} (raw_table, delivery_key, version, fingerprint, first_day, last_day, files, rows, "
        "run_id, landed_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            schema.table,
            delivery.key,
            delivery.version,
            delivery.fingerprint,
            first,
            last,
            len(delivery.files),
            rows,
            run.run_id,
            run.ingested_at,
        ],
    )


def day_rows(session: Session, dataset: str, schema: TableSchema, day: date) -> int:
    return int(
        session.fetchall(f"select count(*) from {qualified(dataset, schema.table)} where ingestion_date = ?", [day])[0][
            0
        ]
    )


def day_objects(session: Session, dataset: str, schema: TableSchema, day: date) -> int:
    """How many export files the day's raw rows came from."""
    table = qualified(dataset, schema.table)
    return int(
        session.fetchall(f"select count(distinct x_source_object) from {table} where ingestion_date = ?", [day])[0][0]
    )


def day_version(session: Session, dataset: str, schema: TableSchema, day: date) -> str | None:
    """The version of the day's raw rows: the version of the delivery that is the whole truth for the day, or,
    for a day made of many deliveries (OCI reports), a digest of which ones and at which versions."""
    covering = session.fetchall(
        f"select version from {qualified(dataset, 'landed_deliveries')} "
        "where raw_table = ? and ? between first_day and last_day order by delivery_key",
        [schema.table, day],
    )
    if covering:
        return ";".join(version for (version,) in covering)
    parts = session.fetchall(
        f"select distinct x_source_object, x_source_version from {qualified(dataset, schema.table)} "
        "where ingestion_date = ? order by 1, 2",
        [day],
    )
    if not parts:
        return None
    digest = hashlib.sha1("\n".join(f"{o}@{v}" for o, v in parts).encode()).hexdigest()[:12]
    return f"{len(parts)} deliveries, sha1 {digest}"
