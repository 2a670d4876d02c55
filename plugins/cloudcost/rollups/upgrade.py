"""Upgrade rollup and evaluation tables made before every amount carried its BillingCurrency.

A NOT NULL column cannot simply be added (``ensure_table`` refuses), and an old row summed whatever
currencies its group held, so no value can be given to it afterwards. What each table gets instead:

- ``daily_cost_by_team``, ``untagged_tag_keys``: derived from the FOCUS table, so they are dropped and the
  caller rebuilds every day they held (``drop_stale_rollups`` returns those days);
- ``anomalies``: copied into the new table, each row with the currency of its (day, team, ServiceCategory) in
  the rebuilt rollup when that group has exactly one; a row whose group spans currencies judged a
  cross-currency sum and is left out (logged; its alert stays in ``alerts``);
- ``alerts`` (history, nullable ``currency``): budget alerts take their budget's currency from budget_status,
  anomaly alerts their anomaly's, and anomaly alert keys gain the currency as new ones have it, so an upgraded
  alert is not raised twice; an alert with no such row keeps a NULL currency rather than a guessed one;
- ``attribution_suggestions`` (nullable ``billing_currency``): a resource's single BillingCurrency in its
  window, from the FOCUS table.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date

from cloudcost.identifiers import qualified
from cloudcost.schemas import load_table_schema
from cloudcost.warehouse.base import Session, Warehouse

# ``ensure_current_tables`` creates the current tables before the caller's transaction and names the old ones,
# which the functions below upgrade inside it.

log = logging.getLogger(__name__)
CURRENCY = "billing_currency"
CURRENCY_COLUMN = {"alerts": "currency", "budget_status": "currency"}  # every other table: billing_currency


def lacks(warehouse: Warehouse, session: Session, dataset: str, table: str, column: str) -> bool:
    """True for an existing table without ``column`` (a missing table is made new, with it)."""
    columns = warehouse.columns(session, dataset, table)
    return bool(columns) and column not in columns


def ensure_current_tables(warehouse: Warehouse, session: Session, dataset: str, names: Iterable[str]) -> list[str]:
    """Create (or widen) each of the ``rollups/`` tables ``names`` before the caller's transaction, and read the
    catalog there too: a warehouse may run no DDL on permanent tables inside one. Returns the tables made before amounts
    carried their currency, left to their upgrade inside the transaction: such tables exist only in embedded
    warehouses older than the currency column, where DDL is transactional."""
    legacy = []
    for name in names:
        if lacks(warehouse, session, dataset, name, CURRENCY_COLUMN.get(name, CURRENCY)):
            legacy.append(name)
        else:
            warehouse.ensure_table(session, dataset, load_table_schema(f"rollups/{name}.yml"))
    return legacy


def drop_stale_rollups(session: Session, dataset: str, stale: Iterable[str]) -> list[date]:
    """Drop each of the ``stale`` tables (made before billing_currency); the days they held, to rebuild from FOCUS."""
    days: set[date] = set()
    for table in stale:
        name = qualified(dataset, table)
        days |= {d for (d,) in session.fetchall(f"select distinct charge_day from {name}")}
        session.execute(f"drop table {name}")
        log.warning("%s had no %s: dropped, rebuilt from the FOCUS table", name, CURRENCY)
    return sorted(days)


def upgrade_anomalies(warehouse: Warehouse, session: Session, dataset: str) -> int:
    """Copy old anomaly rows into the new table with their single currency; the count of cross-currency ones
    left out (each logged)."""
    if not lacks(warehouse, session, dataset, "anomalies", CURRENCY):
        return 0
    anomalies, old = qualified(dataset, "anomalies"), qualified(dataset, "anomalies_before_currency")
    session.execute(f"alter table {anomalies} rename to anomalies_before_currency")
    schema = load_table_schema("rollups/anomalies.yml")
    warehouse.ensure_table(session, dataset, schema)
    currencies = f"""(select charge_day, team, service_category, min({CURRENCY}) as currency
                      from {qualified(dataset, "daily_cost_by_team")}
                      group by all having count(distinct {CURRENCY}) = 1)"""
    kept = [c for c in schema.column_names if c != CURRENCY]
    session.execute(
        f"insert into {anomalies} ({', '.join(kept)}, {CURRENCY}) "
        f"select {', '.join(f'o.{c}' for c in kept)}, r.currency from {old} o "
        f"join {currencies} r using (charge_day, team, service_category)"
    )
    removed = session.fetchall(
        f"select o.charge_day, o.team, o.service_category from {old} o where not exists "
        f"(select 1 from {currencies} r where r.charge_day = o.charge_day and r.team = o.team "
        "and r.service_category = o.service_category)"
    )
    for day, team, category in removed:
        log.warning("%s: %s %s/%s was judged on a sum across currencies: left out", anomalies, day, team, category)
    session.execute(f"drop table {old}")
    return len(removed)


def upgrade_alerts(warehouse: Warehouse, session: Session, dataset: str) -> None:
    """Fill ``currency`` of alerts raised before it existed, from budget_status and anomalies."""
    alerts = qualified(dataset, "alerts")
    session.execute(f"alter table {alerts} add column currency varchar")
    if warehouse.table_exists(session, dataset, "budget_status"):
        session.execute(
            f"""update {alerts} a set currency = b.currency
                from (select as_of_day, budget, min(currency) as currency
                      from {qualified(dataset, "budget_status")} group by all) b
                where a.kind = 'budget' and a.subject = b.budget and a.charge_day = b.as_of_day"""
        )
    if warehouse.table_exists(session, dataset, "anomalies"):
        session.execute(
            f"""update {alerts} a set currency = n.{CURRENCY},
                   alert_key = 'anomaly:' || a.subject || ':' || cast(a.charge_day as varchar) || ':' || n.{CURRENCY}
                from {qualified(dataset, "anomalies")} n
                where a.kind = 'anomaly' and a.subject = n.team || '/' || n.service_category
                  and a.charge_day = n.charge_day"""
        )


def upgrade_suggestions(session: Session, dataset: str, focus_table: str) -> None:
    """Fill billing_currency of suggestions made before it existed, where the resource had one currency."""
    suggestions = qualified(dataset, "attribution_suggestions")
    session.execute(f"alter table {suggestions} add column {CURRENCY} varchar")
    session.execute(
        f"""update {suggestions} s set {CURRENCY} = f.currency
            from (select s2.suggestion_id, min(f2.BillingCurrency) as currency
                  from {suggestions} s2 join {qualified(dataset, focus_table)} f2
                    on f2.ResourceId = s2.resource_id and f2.x_cloud_provider = s2.provider
                   and f2.x_ingestion_date between s2.window_start and s2.window_end
                  group by 1 having count(distinct f2.BillingCurrency) = 1) f
            where s.suggestion_id = f.suggestion_id"""
    )
