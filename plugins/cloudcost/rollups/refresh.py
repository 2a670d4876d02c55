"""Refresh an org's rollup slices for one billing day from the FOCUS table (procedures/sp_cloud_2_rollups/)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from cloudcost.config import DIMENSIONS, OrgConfig
from cloudcost.identifiers import qualified
from cloudcost.paths import procedures_dir
from cloudcost.rollups.gate import require_complete_loads
from cloudcost.rollups.upgrade import drop_stale_rollups, ensure_current_tables
from cloudcost.schemas import focus_schema, load_table_schema
from cloudcost.warehouse.base import Session, SliceKey, Warehouse

TOKEN = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
ROLLUPS = ("daily_cost_by_team", "untagged_tag_keys")


@dataclass(frozen=True)
class RollupResult:
    """The day's rollup totals, one entry per BillingCurrency (amounts as exact decimal strings)."""

    day: str
    rows: int
    billed_cost: dict[str, str]
    effective_cost: dict[str, str]
    untagged_effective_cost: dict[str, str]
    untagged_tag_keys: int
    rebuilt_days: list[str] = field(default_factory=list)  # older days rebuilt by the currency upgrade

    def as_dict(self) -> dict:
        return asdict(self)


def render(name: str, tokens: dict[str, str]) -> str:
    """``procedures/sp_cloud_2_rollups/<name>.sql`` with ``{{token}}`` placeholders filled."""
    path = procedures_dir() / "sp_cloud_2_rollups" / f"{name}.sql"

    def replace(match: re.Match[str]) -> str:
        if match.group(1) not in tokens:
            raise ValueError(f"{path}: unknown placeholder {match.group(0)}")
        return tokens[match.group(1)]

    return TOKEN.sub(replace, path.read_text(encoding="utf-8"))


def rollup_params(org: OrgConfig, day: date, refreshed_at: datetime) -> dict:
    """Bound parameters of the rollup SQL: the day, the org's alias lists and the refresh time."""
    aliases = org.attribution.aliases()
    mapped = sorted({alias for name in DIMENSIONS for alias in aliases[name]})
    return {"billing_day": day, "refreshed_at": refreshed_at, "mapped": mapped, **aliases}


def _write_day(warehouse: Warehouse, session: Session, org: OrgConfig, params: dict) -> None:
    """Replace the slice of ``params["billing_day"]`` in every rollup table."""
    tagged = render("tagged_rows", {"focus_table": qualified(org.dataset, focus_schema().table)})
    for name in ROLLUPS:
        schema = load_table_schema(f"rollups/{name}.yml")
        warehouse.delete_slice(session, SliceKey.of(org.dataset, schema.table, charge_day=params["billing_day"]))
        columns = ", ".join(schema.column_names)
        sql = render(name, {"tagged_rows": tagged})
        used = {k: v for k, v in params.items() if f"${k}" in sql or f"${k}" in tagged}
        session.execute(f"insert into {qualified(org.dataset, schema.table)} ({columns}) {sql}", used)


def refresh_rollups(warehouse: Warehouse, org: OrgConfig, day: date, refreshed_at: datetime) -> RollupResult:
    """Behind the gate, replace the day's slice of every rollup table in one transaction.

    A rollup table made before amounts carried their currency is dropped and every day it held is rebuilt
    from the FOCUS table in the same transaction (those days passed the gate when they were first rolled up).
    """

    def refresh() -> tuple[list[date], list[tuple], Any]:
        with warehouse.session(org.dataset) as session:
            require_complete_loads(warehouse, session, org, [day])
            stale = ensure_current_tables(warehouse, session, org.dataset, ROLLUPS)
            with warehouse.transaction(session):
                rebuilt = [d for d in drop_stale_rollups(session, org.dataset, stale) if d != day]
                for name in stale:
                    warehouse.ensure_table(session, org.dataset, load_table_schema(f"rollups/{name}.yml"))
                for each in [*rebuilt, day]:
                    _write_day(warehouse, session, org, rollup_params(org, each, refreshed_at))
                team = qualified(org.dataset, "daily_cost_by_team")
                totals = session.fetchall(
                    f"select billing_currency, sum(rows), sum(billed_cost), sum(effective_cost), "
                    f"coalesce(sum(effective_cost) filter (where team = '__untagged__'), 0) from {team} "
                    "where charge_day = ? group by 1 order by 1",
                    [day],
                )
                keys = session.fetchall(
                    f"select count(*) from {qualified(org.dataset, 'untagged_tag_keys')} where charge_day = ?", [day]
                )[0][0]
        return rebuilt, totals, keys

    # the org's rollup tables are shared by every day: a backfill's refreshes of other days can abort this one
    rebuilt, totals, keys = warehouse.retry_conflicts(refresh, f"refresh_rollups {org.slug} {day}")
    return RollupResult(
        str(day),
        sum(int(rows) for _, rows, *_ in totals),
        {currency: str(Decimal(billed)) for currency, _, billed, _, _ in totals},
        {currency: str(Decimal(effective)) for currency, _, _, effective, _ in totals},
        {currency: str(Decimal(untagged)) for currency, _, _, _, untagged in totals},
        int(keys),
        [str(d) for d in rebuilt],
    )
