"""The stages of one org's run, as the DAG's tasks call them: config in, small summaries out."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from cloudcost.config import BillingConfig, OrgConfig, Provider, load_billing_config, load_org_by_slug
from cloudcost.core.results import Landed
from cloudcost.core.run_context import RunContext
from cloudcost.identifiers import OrgSlug
from cloudcost.money_format import cents
from cloudcost.pipeline.delivery_guards import DeliveryRules
from cloudcost.pipeline.resolved_run import ResolvedRun, export_format
from cloudcost.schemas import load_focus_schemas, load_table_schema
from cloudcost.sources.base import BillingExport, ExportNotReady, ExportStatus
from cloudcost.sources.registry import open_export
from cloudcost.warehouse import open_warehouse
from cloudcost.warehouse.base import Warehouse

log = logging.getLogger(__name__)


def make_run_context(
    org_slug: OrgSlug,
    provider: Provider,
    billing_day: date,
    run_id: str,
    dag_id: str,
    logical_date: date | None,
    ingested_at: datetime,
    warehouse: Warehouse | None = None,
) -> ResolvedRun:
    """The run's values, resolved once (the org file and billing.yml read here, and nowhere after)."""
    org = load_org_by_slug(org_slug)
    entry = org.providers.get(provider)
    if entry is None or not entry.enabled:
        raise ValueError(f"org {org_slug} does not enable provider {provider} (configs/orgs/{org_slug}.yml)")
    billing = load_billing_config(provider)
    source_format, fmt = export_format(billing, org, provider)
    load_focus_schemas()
    run = RunContext(
        org=org_slug,
        provider=provider,
        billing_day=billing_day,
        run_id=run_id,
        pipeline_id=dag_id,
        logical_date=logical_date or billing_day,
        credential_id=entry.credential_id,
        ingested_at=ingested_at,
    )
    return ResolvedRun(
        run=run,
        org=org,
        dataset=org.dataset,
        billing=billing,
        source_format=source_format,
        format=fmt,
        rules=DeliveryRules.of(billing, source_format),
        schema=load_table_schema(fmt.schema_file),
        warehouse=warehouse or open_warehouse(),
    )


def export_status(org_slug: OrgSlug, provider: Provider, day: date) -> ExportStatus:
    """What ``wait_for_export`` decides. A cloud location is listed with the org's decrypted credential."""
    org = load_org_by_slug(org_slug)
    entry = org.providers[provider]
    if entry.export.location == "landing":
        return open_export(org, provider).status(day)
    return _open_export(org, provider, entry.credential_id).status(day)


def _open_export(
    org: OrgConfig, provider: Provider, credential_id: str, billing: BillingConfig | None = None
) -> BillingExport:
    """The org's export reader, built with its credential: decrypted on use, cached in this process for at most
    5 minutes, never returned or logged. The embedded landing zone does not need it; it is decrypted anyway, so
    the demo walks the production path."""
    from cloudcost.vault import default_vault

    secret = default_vault().decrypt(org.slug, provider, credential_id)
    return open_export(org, provider, secret.reveal(), billing)


def run_land_raw(resolved: ResolvedRun) -> dict:
    """Land the day's deliveries; the day's ``landed`` state is written in the same transaction."""
    from cloudcost.pipeline.land_raw import land_raw

    run = resolved.run
    result = land_raw(
        resolved.warehouse,
        _open_export(resolved.org, run.provider, run.credential_id, resolved.billing),
        resolved.schema,
        resolved.dataset,
        run,
        resolved.rules,
        resolved.source_format,
    )
    return result.as_dict()


def summarise_landed_day(resolved: ResolvedRun) -> dict:
    """What ``run_land_raw`` reports for a day whose deliveries are landed already, read from the warehouse
    alone, and the day's load state set to ``landed`` (its FOCUS slice is about to be replaced)."""
    from cloudcost.pipeline.land_raw import summarise_day
    from cloudcost.pipeline.load_state import mark_landed

    warehouse, run = resolved.warehouse, resolved.run
    result = summarise_day(warehouse, resolved.schema, resolved.dataset, run, resolved.rules)
    mark_landed(warehouse, resolved.dataset, run, resolved.source_format, result.as_dict())
    return result.as_dict()


def run_convert_to_focus(resolved: ResolvedRun) -> dict:
    from cloudcost.pipeline.convert_to_focus import convert_to_focus

    return convert_to_focus(
        resolved.warehouse, resolved.org, resolved.source_format, resolved.format, resolved.run
    ).as_dict()


def run_checks(resolved: ResolvedRun) -> dict:
    from cloudcost.pipeline.focus_rules import allowed_values, check_every_focus_version
    from cloudcost.pipeline.reconcile import reconcile, reconcile_focus_1_4

    fmt = resolved.format
    allowed_values()  # parsed before the turn, like the schemas (``make_run_context``)
    # One session around the checks: each check opens its own, nested in this one, so the stage takes one turn
    # at an embedded warehouse instead of queueing once per check (five short reads, ~0.04 s each, that each
    # waited behind every writer that came in between).
    with resolved.warehouse.session(resolved.dataset):
        result = reconcile(
            resolved.warehouse,
            resolved.dataset,
            fmt.table,
            fmt.reconcile.billing_account,
            fmt.reconcile.billed_cost,
            resolved.run,
            fmt.reconcile.only_where,
        )
        reconcile_focus_1_4(resolved.warehouse, resolved.dataset, resolved.run)
        checked = check_every_focus_version(resolved.warehouse, resolved.dataset, resolved.run)
    return {
        **result.as_dict(),
        "focus_rules_checked": sum(len(rules) for rules in checked.values()),
        "focus_versions_checked": list(checked),
    }


def run_record(resolved: ResolvedRun, landed: dict, checked: dict) -> dict:
    from cloudcost.pipeline.load_state import record_load

    row = record_load(resolved.warehouse, resolved.dataset, resolved.run, resolved.source_format, landed, checked)
    log.info(record_sentence(row))
    return row


def record_sentence(row: dict) -> str:
    """The ``record`` stage's log line: what load_state now says about the slice."""
    return (
        f"record {row['provider']} {row['billing_day']}: load_state is {row['status']} for run {row['run_id']}: "
        f"{row['raw_rows']:,} raw rows, {row['focus_rows']:,} FOCUS rows, BilledCost {cents(row['billed_cost'])} "
        f"(billing currency, to the cent), source version {row['source_version']}."
    )


def recheck_window(first_day: date, months: int) -> list[date]:
    """The days before ``first_day`` back to the first of the month ``months`` months earlier."""
    start = first_day.replace(day=1)
    for _ in range(months):
        start = (start - timedelta(days=1)).replace(day=1)
    return [start + timedelta(days=i) for i in range((first_day - start).days)]


def loaded_states(resolved: ResolvedRun, days: list[date]) -> dict[date, tuple[str, str | None]]:
    """The status and source version of each day's last load (days never loaded are absent)."""
    from cloudcost.identifiers import qualified

    if not days:
        return {}
    warehouse, dataset = resolved.warehouse, resolved.dataset
    with warehouse.session(dataset) as session:
        if not warehouse.table_exists(session, dataset, "load_state"):
            return {}
        rows = session.fetchall(
            f"select billing_day, status, source_version from {qualified(dataset, 'load_state')} "
            "where provider = ? and billing_day between ? and ?",
            [resolved.run.provider, min(days), max(days)],
        )
    return {day: (status, version) for day, status, version in rows}


def land_window(resolved: ResolvedRun, days: list[date]) -> dict[date, str | None]:
    """Land every delivery of ``days`` that is complete and not landed yet (each once, judged by the same guards
    as ``land_raw``, in one transaction), then return the current raw version of each complete day. An
    incomplete day keeps what it has and is left out."""
    from cloudcost.pipeline.land_raw import ensure_tables, land_guarded
    from cloudcost.pipeline.landed import day_version
    from cloudcost.sources.base import Delivery

    run, schema, warehouse = resolved.run, resolved.schema, resolved.warehouse
    export = _open_export(resolved.org, run.provider, run.credential_id, resolved.billing)
    deliveries: list[Delivery] = []
    complete = []
    for day in days:
        try:
            deliveries += export.deliveries(day)
        except ExportNotReady:
            continue
        complete.append(day)

    def land() -> tuple[Landed, dict[date, str | None]]:
        with warehouse.session(resolved.dataset) as session:
            ensure_tables(warehouse, session, resolved.dataset, schema)
            with warehouse.transaction(session):
                landed = land_guarded(
                    warehouse, session, export, deliveries, schema, resolved.dataset, run, resolved.rules
                )
            return landed, {day: day_version(session, resolved.dataset, schema, day) for day in complete}

    # the ledger is shared by the org's providers: another landing can abort this transaction (warehouse/conflicts.py)
    landed, versions = warehouse.retry_conflicts(land, f"recheck {run.org}/{run.provider}")
    log.info(
        "recheck %s/%s: landed %d new deliveries (%s rows) for %d day(s) of the window; %d complete.",
        run.org,
        run.provider,
        landed.deliveries,
        f"{landed.rows:,}",
        len(days),
        len(complete),
    )
    return versions


def run_recheck(resolved: ResolvedRun) -> list[dict]:
    """Late data and restatements: land what changed in the trailing window's deliveries (a restated AWS month,
    a re-run Azure export, GCP rows whose export_time moved, new OCI reports), each delivery once, and return the
    already-loaded days to convert, check and record again: those whose raw version moved or that a delivery made
    ``stale`` (rows changed after they were checked). The reload is not done here but by the billing DAG's
    ``restate`` task group, one mapped instance per (org, day), so each is seen, retried and cleared on its own;
    ``cost_rollups`` refreshes their rollups. A day still ``landed`` is its own run's (in progress, or failed
    loudly there) and is left to it. Each entry is small and JSON-safe (it travels as XCom)."""
    run = resolved.run
    window = recheck_window(run.billing_day, resolved.billing.restatements.recheck_months)
    loaded = loaded_states(resolved, window)
    if not loaded:
        return []
    current = land_window(resolved, sorted(loaded))
    now = loaded_states(resolved, window)  # the landing above marks the days it changed stale
    restated = []
    for day, (status, version) in sorted(loaded.items()):
        moved = status == "succeeded" and current.get(day, version) != version
        if day not in current or not (moved or now[day][0] == "stale"):
            continue
        restated.append(
            {"org_slug": run.org, "billing_day": str(day), "from_version": version, "to_version": current[day]}
        )
    log.info(
        "recheck %s/%s: %d day(s) to reload%s",
        run.org,
        run.provider,
        len(restated),
        "".join(f"\n  {r['billing_day']}: source version {r['from_version']} -> {r['to_version']}" for r in restated),
    )
    return restated


def restatement_sentence(provider: str, restatement: dict, row: dict) -> str:
    """The log line of a restated day's reload, once ``record`` has written its load state."""
    return (
        f"restatement {restatement['org_slug']}/{provider} {restatement['billing_day']}: source version "
        f"{restatement['from_version']} -> {row['source_version']} reloaded: {row['focus_rows']:,} FOCUS rows, "
        f"BilledCost {cents(row['billed_cost'])} (billing currency, to the cent)."
    )
