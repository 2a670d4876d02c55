"""``cloudcost permit-shrink``: let the next load of one org, provider and day through the shrink guard, once."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta


def cmd_permit_shrink(args: argparse.Namespace) -> int:
    from cloudcost.config import load_org_by_slug
    from cloudcost.pipeline.shrink_permits import grant
    from cloudcost.warehouse import open_warehouse

    org = load_org_by_slug(args.org)
    entry = org.providers.get(args.provider)  # type: ignore[call-overload]
    if entry is None or not entry.enabled:
        raise ValueError(f"configs/orgs/{org.slug}.yml: org {org.slug} does not enable provider {args.provider}")
    last = args.to_day or args.day
    if last < args.day:
        raise ValueError(f"--to {last} is before --day {args.day}")
    days = [args.day + timedelta(days=i) for i in range((last - args.day).days + 1)]
    granted = grant(open_warehouse(), org.dataset, args.provider, days, args.reason, datetime.now(UTC))
    span = f"{granted[0]}" if len(granted) == 1 else f"{granted[0]}..{granted[-1]} ({len(granted)} days)"
    print(
        f"permit granted: the next load of {org.slug}/{args.provider} {span} may shrink it once "
        f"(reason: {args.reason}); re-run that day to apply it"
    )
    return 0


def add_permit_command(commands: argparse._SubParsersAction) -> None:
    from cloudcost.cli_args import day as _day
    from cloudcost.config import PROVIDERS

    permit = commands.add_parser(
        "permit-shrink",
        help="let one load that empties or shrinks a day through the delivery guard, once (a real restatement)",
    )
    permit.add_argument("--org", required=True)
    permit.add_argument("--provider", required=True, choices=PROVIDERS)
    permit.add_argument("--day", type=_day, required=True, help="billing day (UTC), YYYY-MM-DD")
    permit.add_argument("--to", dest="to_day", type=_day, default=None, help="last day of a range (default: --day)")
    permit.add_argument("--reason", required=True, help="why: kept with the permit and logged when it is used")
    permit.set_defaults(func=cmd_permit_shrink)
