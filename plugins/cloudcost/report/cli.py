"""``cloudcost report --org ORG --from A --to B [--html PATH]``: the cost report in the terminal, and as a page."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from pathlib import Path


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


def cmd_report(args: argparse.Namespace) -> int:
    """Print the report; with ``--html`` also write the page. Exit 2 when there are no rollups to report."""
    from cloudcost.report.html import render_html
    from cloudcost.report.queries import ReportUnavailable, fetch_report
    from cloudcost.report.terminal import render_text

    if args.to_day < args.from_day:
        print(f"error: --to {args.to_day} is before --from {args.from_day}")
        return 2
    try:
        data = fetch_report(
            args.org, args.from_day, args.to_day, top=args.top, generated_at=datetime.now(UTC).replace(microsecond=0)
        )
    except ReportUnavailable as exc:
        print(f"error: {exc}")
        return 2
    print(render_text(data), end="")
    if args.html:
        path = Path(args.html)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_html(data), encoding="utf-8")
        print(f"\nwrote {path}")
    return 0


def add_report_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``report`` on the ``cloudcost`` command's subparsers."""
    parser = subparsers.add_parser(
        "report",
        help="cost by provider, service category and team for a date range (terminal, or --html page)",
        description=(
            "From the org's rollups (daily_cost_by_team, untagged_tag_keys) and, once evaluated, budget_status, "
            "anomalies and alerts: EffectiveCost (with BilledCost) by provider, ServiceCategory and team, untagged "
            "share per provider, unmapped tag keys on untagged rows, top movers (second half of the range vs the "
            "first), budget status as of the last day, anomalies and alerts. Exit 2 if the org has no rollups."
        ),
    )
    parser.add_argument("--org", default="demo")
    parser.add_argument("--from", dest="from_day", type=_day, required=True, help="first billing day (inclusive)")
    parser.add_argument("--to", dest="to_day", type=_day, required=True, help="last billing day (inclusive)")
    parser.add_argument("--html", metavar="PATH", help="also write a self-contained HTML page with charts")
    parser.add_argument("--top", type=_positive, default=10, help="teams and tag keys listed (the rest folded)")
    parser.set_defaults(func=cmd_report)
    return parser
