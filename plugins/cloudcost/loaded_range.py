"""Which billing days a report or an export covers when the command line names none: the last loaded month
to date. "Loaded" is ``<org>_prod.load_state``: a day counts once every provider the org enables has a
``succeeded`` load of it, the same condition the rollup gate waits for, so the default never ends on a day
whose totals are still missing a provider."""

from __future__ import annotations

import argparse
from datetime import date

from cloudcost import cli_args
from cloudcost.config import OrgConfig, load_org_by_slug
from cloudcost.identifiers import qualified
from cloudcost.warehouse import open_warehouse


class NothingLoaded(ValueError):
    """No day of the org has a succeeded load of every enabled provider: there is no default range."""


def last_loaded_day(org: OrgConfig) -> date | None:
    """The last billing day every enabled provider loaded successfully, or None."""
    providers = sorted(p for p, entry in org.providers.items() if entry.enabled)
    if not providers:
        return None
    warehouse = open_warehouse()
    with warehouse.session(org.dataset) as session:
        if not warehouse.table_exists(session, org.dataset, "load_state"):
            return None
        placeholders = ", ".join("?" for _ in providers)
        rows = session.fetchall(
            f"select max(billing_day) from (select billing_day from {qualified(org.dataset, 'load_state')} "
            f"where status = 'succeeded' and provider in ({placeholders}) group by billing_day "
            "having count(distinct provider) = ?)",
            [*providers, len(providers)],
        )
    return rows[0][0] if rows else None


def add_range_arguments(parser: argparse.ArgumentParser) -> None:
    """``--month YYYY-MM``, or ``--from``/``--to`` together; neither: the last loaded month to date."""
    cli_args.add_day_span(
        parser, first_help="first billing day (with --to)", last_help="last billing day, inclusive (with --from)"
    )
    parser.add_argument(
        "--month",
        type=cli_args.month,
        metavar="YYYY-MM",
        help="the whole month, or to its last loaded day while it is still being loaded",
    )


def resolve_range(args: argparse.Namespace) -> tuple[date, date]:
    """(first, last) billing day from the parsed range arguments; a usage mistake raises ValueError."""
    if args.month is not None and (args.from_day or args.to_day):
        raise ValueError("--month cannot be combined with --from/--to")
    if (args.from_day is None) != (args.to_day is None):
        raise ValueError("--from and --to go together (or give --month, or neither for the last loaded month)")
    if args.from_day is not None:
        if args.to_day < args.from_day:
            raise ValueError(f"--to {args.to_day} is before --from {args.from_day}")
        return args.from_day, args.to_day
    org = load_org_by_slug(args.org)
    last = last_loaded_day(org)
    if args.month is not None:
        end = cli_args.month_end(args.month)
        return args.month, last if last is not None and args.month <= last < end else end
    if last is None:
        raise NothingLoaded(
            f"org {org.slug} has no day that every enabled provider loaded ({org.dataset}.load_state): "
            "give --month YYYY-MM or --from/--to"
        )
    return last.replace(day=1), last
