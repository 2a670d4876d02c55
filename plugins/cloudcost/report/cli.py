"""``cloudcost report --org ORG [--month YYYY-MM | --from A --to B] [--html PATH]``: the cost report in the
terminal, and as a page; by default the last loaded month to date."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from cloudcost.cli_args import org_command, positive
from cloudcost.loaded_range import add_range_arguments


def cmd_report(args: argparse.Namespace) -> int:
    """Print the report; with ``--html`` also write the page. Exit 2 when there are no rollups to report."""
    from cloudcost.loaded_range import resolve_range
    from cloudcost.report.html import render_html
    from cloudcost.report.queries import ReportUnavailable, fetch_report
    from cloudcost.report.terminal import render_text

    try:
        first, last = resolve_range(args)
        data = fetch_report(args.org, first, last, top=args.top, generated_at=datetime.now(UTC).replace(microsecond=0))
    except (ReportUnavailable, ValueError) as exc:
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
    parser = org_command(
        subparsers,
        "report",
        cmd_report,
        "cost by provider, service category and team for a date range (terminal, or --html page)",
        "cloudcost report --org demo                 # the last loaded month to date",
        "cloudcost report --org demo --month 2026-10",
        "cloudcost report --org demo --from 2026-11-01 --to 2026-11-03 --html data/demo-report.html",
        description=(
            "From the org's rollups (daily_cost_by_team, untagged_tag_keys) and, once evaluated, budget_status, "
            "anomalies and alerts: EffectiveCost (with BilledCost) by provider, ServiceCategory and team, untagged "
            "share per provider, unmapped tag keys on untagged rows, top movers (second half of the range vs the "
            "first), budget status as of the last day, anomalies and alerts. Without --month or --from/--to: the "
            "last loaded month to date (the last day every enabled provider loaded, load_state). "
            "Exit 2 if the org has no rollups."
        ),
    )
    add_range_arguments(parser)
    parser.add_argument("--html", metavar="PATH", help="also write a self-contained HTML page with charts")
    parser.add_argument("--top", type=positive, default=10, help="teams and tag keys listed (the rest folded)")
    return parser
