"""What every session at the embedded warehouse pays before its first statement, as the estate grows.

``python bench/catalog_connect.py [--orgs 1 10 50 200 1000] [--samples 15] [--dir /tmp/catalog-bench]`` builds (once
per N, kept in ``--dir``) a DuckDB file holding N orgs' datasets with every table an org has after a night — the four
providers' raw tables (each provider's default format), FOCUS 1.3 and 1.4, the 1.4 billing periods, the state tables
and the rollups, from ``schemas/`` through ``cloudcost.schemas`` — empty, since DuckDB reads the whole catalog when a
process connects, not the rows. Then, per N, the median over ``--samples`` of: ``connect`` (``duckdb.connect``), and
a whole write session as a task makes one (connect, insert a row into the first org's ``load_state`` in a
transaction, close, which checkpoints). The N = 1 file is the floor: what one warehouse file per org would cost
each session, at any N.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import duckdb

from cloudcost.identifiers import qualified
from cloudcost.schemas import FOCUS_SCHEMA_FILES, duckdb_create_table, load_table_schema

PROVIDER_TABLES = {  # the raw table each provider lands in (configs/cloud/<provider>/cost/billing.yml)
    "raw/aws_cur2.yml": "cloud_aws_billing_raw_daily",
    "raw/azure_cost_details.yml": "cloud_azure_billing_raw_daily",
    "raw/gcp_detailed.yml": "cloud_gcp_billing_raw_daily",
    "raw/oci_cost_report.yml": "cloud_oci_billing_raw_daily",
}
OTHERS = (
    *FOCUS_SCHEMA_FILES.values(),
    "focus/focus_billing_period_1_4.yml",
    *(f"state/{name}.yml" for name in ("load_state", "landed_deliveries", "shrink_permits")),
    "state/focus_conformance_history.yml",
    *(
        f"rollups/{name}.yml"
        for name in (
            "daily_cost_by_team",
            "untagged_tag_keys",
            "budget_status",
            "anomalies",
            "alerts",
            "attribution_suggestions",
            "pipeline_metrics",
        )
    ),
)


def org_ddl(dataset: str) -> list[str]:
    """CREATE statements for one org's tables, as ``ensure_table`` writes them."""
    statements = [f"create schema {dataset}"]
    for relative, table in PROVIDER_TABLES.items():
        statements.append(duckdb_create_table(load_table_schema(relative), qualified(dataset, table)))
    for relative in OTHERS:
        schema = load_table_schema(relative)
        statements.append(duckdb_create_table(schema, qualified(dataset, schema.table)))
    return statements


def build(path: Path, orgs: int) -> int:
    """The file with ``orgs`` datasets (kept if already built); returns its number of tables."""
    if not path.exists():
        connection = duckdb.connect(str(path))
        for index in range(1, orgs + 1):
            for statement in org_ddl(f"org{index:04d}_prod"):
                connection.execute(statement)
        connection.close()
    connection = duckdb.connect(str(path), read_only=True)
    try:
        (tables,) = connection.execute("select count(*) from duckdb_tables()").fetchone() or (0,)
    finally:
        connection.close()
    return int(tables)


def time_connect(path: Path) -> float:
    started = time.perf_counter()
    connection = duckdb.connect(str(path))
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def time_write_session(path: Path) -> float:
    started = time.perf_counter()
    connection = duckdb.connect(str(path))
    connection.execute("begin transaction")
    connection.execute(
        "insert into org0001_prod.load_state (provider, billing_day, status, source_format, raw_rows, focus_rows, "
        "billed_cost, run_id, loaded_at) values ('aws', date '2026-11-02', 'succeeded', 'bench', 1, 1, 1, 'bench', "
        "now())"
    )
    connection.execute("commit")
    connection.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orgs", type=int, nargs="+", default=[1, 10, 50, 200, 1000])
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/catalog-bench"))
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    rows = []
    print("| orgs in the file | tables | file MiB | connect ms (median) | write session ms (median) |")
    print("|---:|---:|---:|---:|---:|")
    for orgs in args.orgs:
        path = args.dir / f"orgs-{orgs}.duckdb"
        tables = build(path, orgs)
        time_connect(path)  # the first open after the build reads a cold page cache; not counted
        connect = statistics.median(time_connect(path) for _ in range(args.samples))
        write = statistics.median(time_write_session(path) for _ in range(args.samples))
        size = path.stat().st_size / 2**20
        rows.append({"orgs": orgs, "tables": tables, "mib": size, "connect_s": connect, "write_session_s": write})
        print(f"| {orgs:,} | {tables:,} | {size:.1f} | {connect * 1000:.0f} | {write * 1000:.0f} |", flush=True)
    out = Path(__file__).parent / "results" / f"catalog-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"duckdb": duckdb.__version__, "rows": rows}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
