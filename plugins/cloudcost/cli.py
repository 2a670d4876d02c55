"""The ``cloudcost`` command line: demo data, local Airflow setup, config checks and summaries."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from cloudcost import cli_args
from cloudcost.billing_window import days_from
from cloudcost.cli_args import examples, org_command


def _days(start: date, end: date) -> list[date]:
    if end < start:
        raise SystemExit(f"--to {end} is before --from {start}")
    return days_from(start, end)


def cmd_config_check(args: argparse.Namespace) -> int:
    """Validate every file that drives the DAGs; exit 1 if anything would stop a DAG or an org from running."""
    from cloudcost.config import (
        PROVIDERS,
        BillingConfig,
        ConfigError,
        billing_config_path,
        load_billing_config,
        load_org,
        load_rollups_config,
        load_warehouse_config,
        org_files,
        require_files,
    )
    from cloudcost.paths import config_dir

    failures = 0

    def fail(exc: Exception) -> None:
        nonlocal failures
        failures += 1
        for line in str(exc).splitlines():
            print(f"FAIL {line}")

    billing: dict[str, BillingConfig] = {}
    for provider in PROVIDERS:
        if not billing_config_path(provider).exists():
            print(f"- {provider}: no billing.yml yet")
            continue
        try:
            config = load_billing_config(provider)
            require_files(config)  # a missing schema or procedure file: the DAG cannot be built
            billing[provider] = config
            print(f"ok {billing_config_path(provider)} (DAG {config.dag_id})")
        except ConfigError as exc:
            fail(exc)
    for name, load in (("rollups.yml", load_rollups_config), ("warehouse.yml", load_warehouse_config)):
        try:
            load()
            print(f"ok {config_dir() / name}")
        except ConfigError as exc:
            fail(exc)
    for path in org_files():
        try:
            org = load_org(path)
            for provider, entry in org.providers.items():
                formats = billing[provider].formats if provider in billing else None
                if entry.enabled and formats is not None and entry.export.format not in formats:
                    raise ConfigError(
                        f"{path}: key 'providers.{provider}.export.format': {entry.export.format!r} is not a format "
                        f"of {billing_config_path(provider)} ({', '.join(formats)})"
                    )
            print(f"ok {path} (dataset {org.dataset}, providers {', '.join(org.providers) or 'none'})")
        except (ConfigError, ValueError) as exc:
            fail(exc)
    return 1 if failures else 0


def cmd_demo_generate(args: argparse.Namespace) -> int:
    from cloudcost.config import load_org_by_slug
    from cloudcost.demo.exports import write_org_exports

    org = load_org_by_slug(args.org)
    days = _days(args.from_day, args.to_day)
    incomplete_day = days[-1] if args.incomplete_last_day else None
    for written in write_org_exports(org, days, args.seed, args.scale, incomplete_day):
        print(written.line())
    if args.incomplete_last_day:
        print(f"generated {days[-1]} as still being exported (partial): every sensor refuses it")
    return 0


def cmd_demo_estate(args: argparse.Namespace) -> int:
    from cloudcost.demo.estate import write_estate

    orgs = write_estate(args.orgs, _days(args.from_day, args.to_day))
    rows = sum(written.rows for org in orgs for written in org.written)
    print(
        f"estate of {len(orgs)} org(s) {orgs[0].slug}..{orgs[-1].slug}: org files in {orgs[0].org_file.parent}, "
        f"credentials stored, {rows:,} rows of exports"
    )
    return 0


def cmd_demo_credentials(args: argparse.Namespace) -> int:
    from cloudcost.demo.credentials import store_demo_credentials

    added = store_demo_credentials(args.org)
    print(f"demo credentials for {args.org}: " + (", ".join(added) + " stored" if added else "already in the vault"))
    return 0


def cmd_demo_history(args: argparse.Namespace) -> int:
    from cloudcost.demo.history import load_history

    for line in load_history(args.org, _days(args.from_day, args.to_day)):
        print(line)
    return 0


def cmd_demo_run(args: argparse.Namespace) -> int:
    from cloudcost.airflow.demo_runs import run_days
    from cloudcost.config import load_org_by_slug

    org = load_org_by_slug(args.org)
    # the billing DAGs first, then the rollups their loads open the gate for
    dag_ids = args.dag_ids or [f"cloud_{p}_cost_billing" for p, e in org.providers.items() if e.enabled] + [
        "cost_rollups"
    ]
    for dag_id, day, state in run_days(dag_ids, _days(args.from_day, args.to_day), args.org):
        print(f"{dag_id} {day}: {state}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """What the wait_for_export sensor would decide now; exit 1 if any day is incomplete. Each line names the
    provider's lag (its billing.yml ``completeness.export_lag_hours``) in the same words, whatever the source's
    own reason says."""
    from cloudcost.config import load_billing_config, load_org_by_slug
    from cloudcost.pipeline.stages import export_status

    org = load_org_by_slug(args.org)
    incomplete = 0
    for billing_day in _days(args.from_day, args.to_day):
        for provider, entry in org.providers.items():
            if not entry.enabled:
                continue
            lag = load_billing_config(provider).completeness.export_lag_hours
            status = export_status(org.slug, provider, billing_day)
            incomplete += not status.complete
            print(
                f"{billing_day}  {provider:<5}  {'complete ' if status.complete else 'NOT READY'}  "
                f"day end + {lag:g} h  {status.reason}"
            )
    return 1 if incomplete else 0


def cmd_suggestions(args: argparse.Namespace) -> int:
    """List open attribution suggestions, or record a decision on one."""
    from datetime import UTC, datetime

    from cloudcost.config import load_org_by_slug
    from cloudcost.evaluation.suggestions import acceptance_rate, decide
    from cloudcost.identifiers import qualified
    from cloudcost.warehouse import open_warehouse

    org, warehouse = load_org_by_slug(args.org), open_warehouse()
    if args.accept or args.reject:
        decide(warehouse, org, args.accept or args.reject, bool(args.accept), datetime.now(UTC))
        print(f"suggestion {args.accept or args.reject} {'accepted' if args.accept else 'rejected'}")
        return 0
    with warehouse.session(org.dataset) as session:
        rows = session.fetchall(
            f"select suggestion_id, provider, resource_id, effective_cost, billing_currency, suggested_team, "
            f"confidence from {qualified(org.dataset, 'attribution_suggestions')} where status = 'open' "
            "order by effective_cost desc limit ?",
            [args.limit],
        )
    for sid, provider, resource, cost, currency, team, confidence in rows:
        print(f"{sid}  {provider:<5}  {cost:>12.2f} {currency or '???':<3}  {team:<12}  {confidence:.2f}  {resource}")
    rate = acceptance_rate(warehouse, org)
    print(f"acceptance rate: {'n/a (no decision yet)' if rate is None else f'{rate:.0%}'}")
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime, timedelta

    from cloudcost.airflow.run_counts import airflow_run_counts
    from cloudcost.config import load_org_by_slug
    from cloudcost.report.health import format_health, org_health
    from cloudcost.warehouse import open_warehouse

    now = datetime.now(UTC)
    org = load_org_by_slug(args.org)
    run_counts = airflow_run_counts(now - timedelta(days=args.days))
    health = org_health(open_warehouse(), org, args.to_day or now.date(), args.days, run_counts)
    print(format_health(org, health))
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    from cloudcost.report.summary import summarize

    print(summarize(args.org, full=args.full))
    return 0


def cmd_airflow_config(args: argparse.Namespace) -> int:
    """airflow.cfg for a local home; with ``--executor celery``, also how to start each worker."""
    from cloudcost.airflow.local_home import CelerySettings, worker_commands, write_airflow_config

    celery = None
    if args.executor == "celery":
        if not (args.broker_url and args.result_backend):
            raise ValueError("--executor celery needs --broker-url (Redis) and --result-backend (db+postgresql+…)")
        celery = CelerySettings(args.broker_url, args.result_backend, args.worker_concurrency)
    home = Path(args.home)
    print(f"wrote {write_airflow_config(home, args.sql_alchemy_conn, args.api_port, celery, args.parallelism)}")
    if celery is not None:
        print("start each worker (its own Celery hostname and log-server port):")
        for command in worker_commands(home, args.workers):
            print(f"  {command}")
    return 0


def cmd_warehouse_split(args: argparse.Namespace) -> int:
    """A one-file DuckDB warehouse (made before per-org files) into one file per org; nothing lost, checked."""
    from cloudcost.paths import data_dir
    from cloudcost.warehouse.split import split_warehouse

    shared = Path(args.source) if args.source else data_dir() / "warehouse.duckdb"
    folder = Path(args.into) if args.into else data_dir() / "warehouse"
    for dataset, tables in split_warehouse(shared, folder).items():
        print(f"{dataset}: {len(tables)} tables, {sum(tables.values()):,} rows -> {folder / dataset}")
    print(f"{shared} renamed to {shared.name}.split-<time> beside it; the per-org files are the warehouse now")
    return 0


def cmd_airflow_pools(args: argparse.Namespace) -> int:
    """The provider API pools of every billing.yml, for ``airflow pools import`` (file, or stdout)."""
    import json

    from cloudcost.airflow.local_home import airflow_pools, write_airflow_pools

    if args.out:
        print(f"wrote {write_airflow_pools(Path(args.out))}")
    else:
        print(json.dumps(airflow_pools(), indent=2, sort_keys=True))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from cloudcost.cli_errors import add_debug_flag

    parser = argparse.ArgumentParser(
        prog="cloudcost",
        description="Cloud billing exports to one FOCUS 1.3 table, orchestrated by Apache Airflow.",
        **examples("cloudcost config check", "cloudcost summary --org demo", "cloudcost report --org demo"),
    )
    add_debug_flag(parser)
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser(
        "config", help="configuration files", **examples("cloudcost config check")
    ).add_subparsers(dest="action", required=True)
    check.add_parser(
        "check",
        help="validate every config file; exit 1 if any would stop a DAG or an org from running",
        **examples("cloudcost config check"),
    ).set_defaults(func=cmd_config_check)

    demo = commands.add_parser(
        "demo",
        help="demo data and demo runs",
        **examples(
            "cloudcost demo generate --org demo --from 2026-10-25 --to 2026-11-04 --incomplete-last-day",
            "cloudcost demo history --org demo --from 2026-10-25 --to 2026-10-31",
        ),
    ).add_subparsers(dest="action", required=True)
    generate = org_command(
        demo,
        "generate",
        cmd_demo_generate,
        "write realistic exports for an org into data/landing/",
        "cloudcost demo generate --org demo --from 2026-10-25 --to 2026-11-04 --incomplete-last-day",
        "cloudcost demo generate --org demo --from 2026-11-01 --to 2026-11-01 --scale 10 --seed 3",
        description="Write realistic exports of every provider the org enables; one line per provider (data "
        "files, rows, days).",
    )
    run = org_command(
        demo,
        "run",
        cmd_demo_run,
        "run a billing DAG through Airflow for each day of a range",
        "cloudcost demo run --org demo --from 2026-11-01 --to 2026-11-03",
        "cloudcost demo run --org demo --from 2026-11-01 --to 2026-11-01 --dag-id cloud_aws_cost_billing",
    )
    history = org_command(
        demo,
        "history",
        cmd_demo_history,
        "load a range through the DAGs' stage functions in-process (fast baseline for the demo)",
        "cloudcost demo history --org demo --from 2026-10-25 --to 2026-10-31",
    )
    estate = demo.add_parser(
        "estate",
        help="write N demo orgs (org files, credentials, budgets, exports) into a scratch config and data dir",
        description="An estate of N orgs for benchmarks: org001..orgNNN, each the demo org under its own slug, "
        "export names, credential ids, budget amounts and generator seed. Set CLOUDCOST_CONFIG_DIR (and "
        "CLOUDCOST_DATA_DIR) to scratch directories first: it refuses the repository's configs/.",
        **examples("cloudcost demo estate --orgs 10 --from 2026-11-02 --to 2026-11-03"),
    )
    estate.add_argument("--orgs", type=cli_args.positive, required=True, help="how many orgs")
    cli_args.add_day_span(estate, required=True)
    estate.set_defaults(func=cmd_demo_estate)
    for sub in (generate, run, history):
        cli_args.add_day_span(sub, required=True)
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument(
        "--scale", type=cli_args.positive, default=1, help="replicas of the estate per day (volume for benchmarks)"
    )
    generate.add_argument(
        "--incomplete-last-day",
        action="store_true",
        help="plant the last day as still being exported: partial rows, and a delivery the sensors refuse",
    )
    run.add_argument("--dag-id", action="append", dest="dag_ids", help="default: every provider the org enables")

    status = org_command(
        commands,
        "status",
        cmd_status,
        "is each provider's export complete for each day? (the sensor)",
        "cloudcost status --org demo --from 2026-11-04 --to 2026-11-04",
        description="What each provider's wait_for_export sensor decides now, per day: complete or NOT READY, "
        "the lag it waits for after the day's end (billing.yml completeness.export_lag_hours), and why. "
        "Exit 1 if any day is not ready.",
    )
    cli_args.add_day_span(status, required=True)

    suggestions = org_command(
        commands,
        "suggestions",
        cmd_suggestions,
        "attribution suggestions for untagged spend",
        "cloudcost suggestions --org demo --limit 5",
        "cloudcost suggestions --org demo --accept ID",
    )
    suggestions.add_argument("--limit", type=cli_args.positive, default=20)
    decision = suggestions.add_mutually_exclusive_group()
    decision.add_argument("--accept", metavar="ID", help="record that the suggestion was applied")
    decision.add_argument("--reject", metavar="ID", help="record that the suggestion was wrong")

    health = org_command(
        commands,
        "health",
        cmd_health,
        "untagged %%, pipeline success, alert false positives, acceptance",
        "cloudcost health --org demo",
        "cloudcost health --org demo --to 2026-11-03 --days 7",
    )
    health.add_argument("--to", dest="to_day", type=cli_args.day, default=None, help="last day (default: today, UTC)")
    health.add_argument("--days", type=cli_args.positive, default=30)

    summary = org_command(
        commands,
        "summary",
        cmd_summary,
        "rows and cost that landed, and the raw vs FOCUS reconciliation",
        "cloudcost summary --org demo",
        "cloudcost summary --org demo --full",
        description="Per provider: FOCUS rows and cost, and how the raw export reconciles with FOCUS (accounts "
        "and days OK or MISMATCH, mismatches listed). Amounts are shown to the cent; the tables stay exact. "
        "--full prints every day, ServiceCategory and account.",
    )
    summary.add_argument(
        "--full", action="store_true", help="the full tables: per day and ServiceCategory, per account and day"
    )

    from cloudcost.export.cli import add_export_command
    from cloudcost.pipeline.permit_cli import add_permit_command
    from cloudcost.report.cli import add_report_command
    from cloudcost.validate.cli import add_validate_command
    from cloudcost.vault.cli import add_vault_commands

    add_vault_commands(commands)
    add_validate_command(commands)
    add_export_command(commands)
    add_report_command(commands)
    add_permit_command(commands)
    org_command(
        demo,
        "credentials",
        cmd_demo_credentials,
        "store a random demo credential per enabled provider (vault)",
        "cloudcost demo credentials --org demo",
    )

    airflow = commands.add_parser(
        "airflow-config",
        help="write airflow.cfg for a local Airflow home",
        **examples(
            "cloudcost airflow-config --home .airflow --api-port 8080",
            "cloudcost airflow-config --home /srv/airflow --executor celery "
            "--sql-alchemy-conn postgresql+psycopg2://airflow:…@localhost/airflow "
            "--broker-url redis://localhost:6379/0 "
            "--result-backend db+postgresql+psycopg2://airflow:…@localhost/airflow --workers 2",
        ),
    )
    airflow.add_argument("--home", default=".airflow")
    airflow.add_argument("--sql-alchemy-conn", default=None)
    airflow.add_argument("--api-port", type=int, default=8080)
    airflow.add_argument("--executor", choices=["local", "celery"], default="local")
    airflow.add_argument("--parallelism", type=cli_args.positive, default=4, help="task slots of the whole deployment")
    airflow.add_argument("--broker-url", help="celery: e.g. redis://localhost:6379/0")
    airflow.add_argument("--result-backend", help="celery: e.g. db+postgresql+psycopg2://airflow:…@localhost/airflow")
    airflow.add_argument("--worker-concurrency", type=cli_args.positive, default=4, help="celery: tasks per worker")
    airflow.add_argument(
        "--workers", type=cli_args.positive, default=2, help="celery: workers to print start commands for"
    )
    airflow.set_defaults(func=cmd_airflow_config)

    split = commands.add_parser(
        "warehouse-split",
        help="move a one-file DuckDB warehouse (every org in data/warehouse.duckdb) to one file per org",
        **examples("cloudcost warehouse-split   # with the DAGs paused: tasks refuse to run while both exist"),
    )
    split.add_argument("--source", default=None, help="the one-file warehouse (default: data/warehouse.duckdb)")
    split.add_argument("--into", default=None, help="the per-org folder (default: data/warehouse)")
    split.set_defaults(func=cmd_warehouse_split)

    pools = commands.add_parser(
        "airflow-pools",
        help="the provider API pools from billing.yml, as JSON for `airflow pools import`",
        **examples("cloudcost airflow-pools --out .airflow/pools.json && airflow pools import .airflow/pools.json"),
    )
    pools.add_argument("--out", default=None, help="write this file instead of printing")
    pools.set_defaults(func=cmd_airflow_pools)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command: an error is one line per problem (file, key or row) and exit 2; ``--debug`` adds the
    traceback. Files the command creates are private to their owner (umask 077) while it runs."""
    import os

    from cloudcost.cli_errors import run_command
    from cloudcost.private_files import restrict_umask

    args = build_parser().parse_args(argv)
    previous = restrict_umask()
    try:
        return run_command(args.func, args)
    finally:
        os.umask(previous)  # callers in the same process (tests) keep theirs


if __name__ == "__main__":
    sys.exit(main())
