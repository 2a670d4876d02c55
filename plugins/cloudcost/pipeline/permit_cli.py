"""``cloudcost permit-shrink``: let the next load of one org, provider and day through the shrink guard, once;
``cloudcost permits``: what was granted, and what each permit let through."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime


def cmd_permit_shrink(args: argparse.Namespace) -> int:
    from cloudcost.billing_window import days_from
    from cloudcost.config import load_org_by_slug
    from cloudcost.pipeline.shrink_permits import grant
    from cloudcost.warehouse import open_warehouse

    org = load_org_by_slug(args.org)
    entry = org.providers.get(args.provider)
    if entry is None or not entry.enabled:
        raise ValueError(f"configs/orgs/{org.slug}.yml: org {org.slug} does not enable provider {args.provider}")
    last = args.to_day or args.day
    if last < args.day:
        raise ValueError(f"--to {last} is before --day {args.day}")
    granted = grant(
        open_warehouse(), org.dataset, args.provider, days_from(args.day, last), args.reason, datetime.now(UTC)
    )
    span = f"{granted[0]}" if len(granted) == 1 else f"{granted[0]}..{granted[-1]} ({len(granted)} days)"
    print(
        f"permit granted: the next load of {org.slug}/{args.provider} {span} may shrink it once "
        f"(reason: {args.reason}); re-run that day to apply it"
    )
    return 0


def cmd_permits(args: argparse.Namespace) -> int:
    from cloudcost.config import load_org_by_slug
    from cloudcost.pipeline.shrink_permits import listed
    from cloudcost.warehouse import open_warehouse

    org = load_org_by_slug(args.org)
    rows = listed(open_warehouse(), org.dataset)
    if not rows:
        print(f"no shrink permit was ever granted for {org.slug}")
    for provider, day, reason, by, at, run, used_at, what in rows:
        state = f"used by run {run} at {used_at:%Y-%m-%d %H:%M} UTC: {what}" if run else "unused"
        print(f"{provider:<5}  {day}  granted by {by} at {at:%Y-%m-%d %H:%M} UTC ({reason}); {state}")
    return 0


def add_permit_command(commands: argparse._SubParsersAction) -> None:
    from cloudcost.cli_args import day as _day
    from cloudcost.cli_args import examples
    from cloudcost.config import PROVIDERS

    permit = commands.add_parser(
        "permit-shrink",
        help="let one load that empties or shrinks a day through the delivery guard, once (a real restatement)",
        **examples(
            'cloudcost permit-shrink --org demo --provider aws --day 2026-11-02 --reason "AWS refund restated the day"',
            "cloudcost permit-shrink --org demo --provider aws --day 2026-11-01 --to 2026-11-30 --reason 'ticket 123'",
        ),
    )
    permit.add_argument("--org", required=True)
    permit.add_argument("--provider", required=True, choices=PROVIDERS)
    permit.add_argument("--day", type=_day, required=True, help="billing day (UTC), YYYY-MM-DD")
    permit.add_argument("--to", dest="to_day", type=_day, default=None, help="last day of a range (default: --day)")
    permit.add_argument("--reason", required=True, help="why: kept with the permit and logged when it is used")
    permit.set_defaults(func=cmd_permit_shrink)
    permits = commands.add_parser(
        "permits",
        help="the shrink permits granted for an org, and what each let through",
        **examples("cloudcost permits --org demo"),
    )
    permits.add_argument("--org", required=True)
    permits.set_defaults(func=cmd_permits)
