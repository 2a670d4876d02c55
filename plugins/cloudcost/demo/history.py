"""Load an org's history quickly: the stages of the billing and rollup DAGs, called in-process, day by day.

Airflow's own backfill (`airflow backfill create`, README) is how history is loaded in real use; it needs a
scheduler running and takes seconds per task. The demo wants a few weeks of baseline for its anomaly and
forecast in well under a minute, so this calls the same functions the DAG tasks call, in the same order,
with the same completeness check first (an incomplete day raises instead of waiting).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from cloudcost.config import load_org_by_slug
from cloudcost.evaluation.evaluate import evaluate_day
from cloudcost.evaluation.suggestions import sweep
from cloudcost.identifiers import OrgSlug
from cloudcost.money_format import amount
from cloudcost.pipeline.stages import (
    export_status,
    make_run_context,
    run_checks,
    run_convert_to_focus,
    run_land_raw,
    run_record,
)
from cloudcost.rollups.refresh import refresh_rollups
from cloudcost.sources.base import ExportNotReady
from cloudcost.warehouse import open_warehouse


def load_history(org_slug: OrgSlug, days: list[date]) -> list[str]:
    """Land, convert, check, record every enabled provider, then refresh rollups and evaluate, per day."""
    org = load_org_by_slug(org_slug)
    providers = [p for p, entry in org.providers.items() if entry.enabled]
    lines = []
    for day in days:
        now = datetime.now(UTC)
        for provider in providers:
            status = export_status(org.slug, provider, day)
            if not status.complete:
                raise ExportNotReady(f"{org.slug}/{provider} {day}: {status.reason}")
            run = make_run_context(
                org.slug, provider, day, f"history__{day}", f"cloud_{provider}_cost_billing", day, now
            )
            landed = run_land_raw(run)
            run_convert_to_focus(run)
            run_record(run, landed, run_checks(run))
        rolled = refresh_rollups(open_warehouse(), org, day, now)
        evaluated = evaluate_day(open_warehouse(), org, day, now)
        sweep(open_warehouse(), org, day, now)
        lines.append(
            f"history {day}: {', '.join(providers)} loaded; rollup {rolled.rows} rows, "
            f"EffectiveCost {', '.join(amount(v, c) for c, v in rolled.effective_cost.items())}; "
            f"anomalies {len(evaluated.anomalies)}"
        )
    return lines
