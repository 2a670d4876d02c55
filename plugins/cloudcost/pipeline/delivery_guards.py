"""What a delivery must pass before its rows are committed: a delivery is not trusted because it arrived.

The checks run inside the landing transaction, after the new rows are in and before the commit, on any
warehouse ``Session``; a refusal rolls everything back, so the days keep what they held. They catch what
would otherwise be accepted silently:

- an empty delivery, or one that empties a day or takes away more than ``guards.max_shrink`` of a day's rows or
  billed cost (an operator's permit, ``shrink_permits.py``, lets one such load through for one day);
- a line item twice (its identity repeated, within a file or across files), or two identical files in one
  delivery (``sources/delivery_checks.py``: the warehouse checks them while the files are on hand): both would
  double the bill, and raw and FOCUS would still agree with each other;
- one billing account in two currencies: its amounts could not be summed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from cloudcost.config import BillingConfig
from cloudcost.core.run_context import RunContext
from cloudcost.identifiers import qualified
from cloudcost.pipeline import shrink_permits
from cloudcost.schemas import quote_column
from cloudcost.sources.base import Delivery
from cloudcost.sources.delivery_checks import DeliveryRefused
from cloudcost.warehouse.base import Session

log = logging.getLogger(__name__)

DayFigures = dict[date, tuple[int, Decimal]]


@dataclass(frozen=True)
class DeliveryRules:
    """How one raw table's deliveries are judged, resolved once from the provider's billing.yml."""

    billed_cost: str
    billing_account: str
    currency: str
    only_where: tuple[tuple[str, str], ...] = ()
    identity: tuple[str, ...] = ()
    max_shrink: Decimal = Decimal("0.5")

    @classmethod
    def of(cls, config: BillingConfig, source_format: str) -> DeliveryRules:
        fmt = config.formats[source_format]
        return cls(
            billed_cost=fmt.reconcile.billed_cost,
            billing_account=fmt.reconcile.billing_account,
            currency=fmt.reconcile.currency,
            only_where=tuple(sorted(fmt.reconcile.only_where.items())),
            identity=tuple(fmt.line_item_identity),
            max_shrink=Decimal(str(config.guards.max_shrink)),
        )


def _in(values: Sequence[object]) -> str:
    return f"({', '.join('?' for _ in values)})"


def touched_days(session: Session, table: str, deliveries: Sequence[Delivery]) -> set[date]:
    """The billing days the deliveries replace or add to: their day ranges, and the days of the rows their
    files hold in the table (before landing: what they replace; after: what they brought)."""
    days = {day for delivery in deliveries for day in delivery.covered_days()}
    keys = [f.key for d in deliveries if d.days is None for f in d.files]
    if keys:
        rows = session.fetchall(
            f"select distinct ingestion_date from {table} where x_source_object in {_in(keys)}", keys
        )
        days |= {day for (day,) in rows}
    return days


def day_figures(session: Session, table: str, days: Iterable[date], rules: DeliveryRules) -> DayFigures:
    """Rows and billed cost (of the rows ``only_where`` selects) of each day that has rows."""
    days = sorted(days)
    if not days:
        return {}
    selected = " and ".join(f"{quote_column(column)} = ?" for column, _ in rules.only_where) or "true"
    rows = session.fetchall(
        f"select ingestion_date, count(*), coalesce(sum(case when {selected} then "
        f"{quote_column(rules.billed_cost)} end), 0) from {table} where ingestion_date in {_in(days)} group by 1",
        [*(value for _, value in rules.only_where), *days],
    )
    return {day: (int(count), Decimal(billed)) for day, count, billed in rows}


def refuse_repeated_line_items(session: Session, table: str, days: set[date], rules: DeliveryRules) -> None:
    """A line item's identity twice in the touched days: the delivery repeats it, or repeats another's. The
    scan groups by the identity alone (strings aggregated per group cost 6x more at 10 M rows); the files
    are looked up for the one repeated identity it finds."""
    if not rules.identity or not days:
        return
    columns = ", ".join(quote_column(c) for c in rules.identity)
    found = session.fetchall(
        f"select {columns} from {table} where ingestion_date in {_in(sorted(days))} "
        f"group by {columns} having count(*) > 1 limit 1",
        sorted(days),
    )
    if not found:
        return
    key = found[0]
    same = " and ".join(f"{quote_column(c)} is not distinct from ?" for c in rules.identity)
    count, first_file, last_file = session.fetchall(
        f"select count(*), min(x_source_object), max(x_source_object) from {table} "
        f"where ingestion_date in {_in(sorted(days))} and {same}",
        [*sorted(days), *key],
    )[0]
    identity = ", ".join(f"{name}={value!r}" for name, value in zip(rules.identity, key, strict=True))
    where = f"in {first_file}" if first_file == last_file else f"in {first_file} and {last_file}"
    raise DeliveryRefused(
        f"line item {identity} appears {count} times {where}: a repeated line item would double its cost; "
        "nothing of the delivery is stored"
    )


def refuse_mixed_currency(session: Session, table: str, days: set[date], rules: DeliveryRules) -> None:
    """One billing account in two currencies in the touched days: its amounts cannot be added up."""
    if not days:
        return
    account, currency = quote_column(rules.billing_account), quote_column(rules.currency)
    mixed = session.fetchall(
        f"select {account} from {table} where ingestion_date in {_in(sorted(days))} "
        f"group by 1 having count(distinct {currency}) > 1 order by 1 limit 1",
        sorted(days),
    )
    if not mixed:
        return
    (billing_account,) = mixed[0]
    files = session.fetchall(
        f"select {currency}, min(x_source_object) from {table} where ingestion_date in {_in(sorted(days))} "
        f"and {account} = ? group by 1 order by 1",
        [*sorted(days), billing_account],
    )
    named = "; ".join(f"{code} in {file}" for code, file in files)
    raise DeliveryRefused(
        f"billing account {billing_account!r} is billed in {len(files)} currencies (column {rules.currency!r}: "
        f"{named}): amounts in different currencies are never added; nothing of the delivery is stored"
    )


@dataclass(frozen=True)
class Shrink:
    day: date
    before: tuple[int, Decimal]
    after: tuple[int, Decimal]
    deliveries: tuple[str, ...]

    def describe(self) -> str:
        (rows_before, cost_before), (rows_after, cost_after) = self.before, self.after
        return (
            f"billing day {self.day}: {rows_before} rows, billed {cost_before.normalize():f} -> {rows_after} rows, "
            f"billed {cost_after.normalize():f}"
        )


def shrinks(
    before: DayFigures, after: DayFigures, deliveries: Sequence[Delivery], rules: DeliveryRules
) -> list[Shrink]:
    """The days a load would empty, or cut by more than ``max_shrink`` in rows or (positive) billed cost."""
    keep = 1 - rules.max_shrink
    found: dict[date, Shrink] = {}
    for day, (rows, cost) in sorted(before.items()):
        rows_after, cost_after = after.get(day, (0, Decimal(0)))
        if rows and (rows_after == 0 or rows_after < rows * keep or (cost > 0 and cost_after < cost * keep)):
            found[day] = Shrink(day, (rows, cost), (rows_after, cost_after), _covering(day, deliveries))
    return sorted(found.values(), key=lambda s: s.day)


def _covering(day: date, deliveries: Sequence[Delivery]) -> tuple[str, ...]:
    named = [d.key for d in deliveries if d.days is not None and d.days[0] <= day <= d.days[1]]
    return tuple(named or [d.key for d in deliveries if d.days is None])


def empty_deliveries(deliveries: Sequence[Delivery], rows: dict[str, int]) -> list[Delivery]:
    """Deliveries that are the whole truth for their days but hold no row (an AWS manifest listing no file, a
    0-row Parquet file): accepted only with a permit for one of their days."""
    return [d for d in deliveries if d.days is not None and rows.get(d.key, 0) == 0]


def judge(
    session: Session,
    dataset: str,
    table: str,
    deliveries: Sequence[Delivery],
    rows: dict[str, int],
    before: DayFigures,
    days: set[date],
    rules: DeliveryRules,
    run: RunContext,
) -> None:
    """Every guard on the landed (uncommitted) rows; raises ``DeliveryRefused`` naming the delivery and figures.
    Permits cover shrinks and empty deliveries only: a doubled or mixed-currency delivery is never let through."""
    refuse_repeated_line_items(session, table, days, rules)
    refuse_mixed_currency(session, table, days, rules)
    after = day_figures(session, table, days, rules)
    shrunk = shrinks(before, after, deliveries, rules)
    empty = empty_deliveries(deliveries, rows)
    permits = shrink_permits.unused(
        session, dataset, run.provider, {s.day for s in shrunk} | {day for d in empty for day in d.covered_days()}
    )
    unpermitted = [s for s in shrunk if s.day not in permits]
    if unpermitted:
        first, last = unpermitted[0], unpermitted[-1]
        more = f" (and {len(unpermitted) - 1} more day(s) up to {last.day})" if len(unpermitted) > 1 else ""
        span = f" --to {last.day}" if len(unpermitted) > 1 else ""
        raise DeliveryRefused(
            f"{', '.join(first.deliveries)}: would shrink {first.describe()}{more}, more than the "
            f"{rules.max_shrink:%} guards.max_shrink allows; the previous data is kept. If the provider really "
            f"restated it, let one load through: cloudcost permit-shrink --org {run.org} --provider {run.provider} "
            f"--day {first.day}{span} --reason '…'"
        )
    for delivery in empty:
        if not any(day in permits for day in delivery.covered_days()):
            first_day, last_day = delivery.covered_days()[0], delivery.covered_days()[-1]
            raise DeliveryRefused(
                f"{delivery.key} (version {delivery.version}): holds no rows in {len(delivery.files)} file(s) but "
                f"would be the whole truth for {first_day}..{last_day}; nothing is changed. If it is really empty: "
                f"cloudcost permit-shrink --org {run.org} --provider {run.provider} --day {first_day} --reason '…'"
            )
    used = [(s.day, s.describe()) for s in shrunk]
    used += [(_first_permitted(d, permits), f"empty delivery {d.key} version {d.version}") for d in empty]
    for day, what in used:
        _use(session, dataset, run, day, what, permits[day])


def _first_permitted(delivery: Delivery, permits: dict[date, str]) -> date:
    return next(day for day in delivery.covered_days() if day in permits)


def _use(session: Session, dataset: str, run: RunContext, day: date, what: str, reason: str) -> None:
    shrink_permits.use(session, dataset, run.provider, day, run.run_id, run.ingested_at, what)
    log.warning(
        "guard %s/%s: operator's permit used by run %s: %s (permit reason: %s)",
        run.org,
        run.provider,
        run.run_id,
        what,
        reason,
    )


def mark_stale(session: Session, dataset: str, provider: str, days: set[date]) -> None:
    """Days whose raw rows this load changed are no longer ``succeeded`` but ``stale``: their FOCUS slice and
    rollups were made from the rows before. Written in the same transaction as the rows; the recheck converts
    them again (the rollup gate refuses them until then)."""
    if not days:
        return
    session.execute(
        f"update {qualified(dataset, 'load_state')} set status = 'stale' where provider = ? "
        f"and status = 'succeeded' and billing_day in {_in(sorted(days))}",
        [provider, *sorted(days)],
    )
