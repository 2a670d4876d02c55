"""Test helpers: write CUR 2.0 deliveries (CSV.gz + manifest) in the real S3 layout, run stages."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from cloudcost.config import Provider
from cloudcost.core.run_context import RunContext
from cloudcost.pipeline.resolved_run import ResolvedRun


def write_cur2_delivery(
    landing: Path,
    rows: list[dict],
    billing_period: str,
    prefix: str = "cur",
    export_name: str = "demo-cur2",
    execution_id: str = "exec-1",
    chunks: int = 1,
) -> Path:
    """Write ``rows`` as ``chunks`` gzipped CSV files plus the period's Manifest.json; returns the manifest."""
    base = landing / prefix / export_name
    data_dir = base / "data" / f"BILLING_PERIOD={billing_period}"
    data_dir.mkdir(parents=True, exist_ok=True)
    header = sorted({key for row in rows for key in row})
    keys = []
    for chunk in range(chunks):
        part = rows[chunk::chunks]
        path = data_dir / f"{export_name}-{chunk + 1:05d}.csv.gz"
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(part)
        path.write_bytes(gzip.compress(buffer.getvalue().encode("utf-8")))
        keys.append(path.relative_to(landing).as_posix())
    manifest_dir = base / "metadata" / f"BILLING_PERIOD={billing_period}"
    manifest_dir.mkdir(parents=True, exist_ok=True)
    manifest = manifest_dir / f"{export_name}-Manifest.json"
    manifest.write_text(
        json.dumps({"executionId": execution_id, "dataFiles": [f"s3://test-bucket/{k}" for k in keys]}),
        encoding="utf-8",
    )
    return manifest


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def run_context(day: date, org: str = "demo", provider: Provider = "aws", run_id: str = "test__run") -> RunContext:
    return RunContext(
        org=org,
        provider=provider,
        billing_day=day,
        run_id=run_id,
        pipeline_id=f"cloud_{provider}_cost_billing",
        logical_date=day,
        credential_id="aws-demo-local",
        ingested_at=datetime(2026, 11, 23, tzinfo=UTC),
    )


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


TOP_LEVEL_PRODUCT = {
    "product_servicecode",
    "product_region_code",
    "product_product_family",
    "product_sku",
    "product_operation",
    "product_usagetype",
    "product_instance_type",
    "product_location",
    "product_from_location",
    "product_to_location",
}


def cur1_row_to_cur2(row: dict) -> dict:
    """Legacy CUR column names (``lineItem/UnblendedCost``) to CUR 2.0 (``line_item_unblended_cost``).

    Tags and cost categories become JSON maps; product attributes outside CUR 2.0's fixed columns go
    into the ``product`` map, as Data Exports does.
    """
    out: dict = {}
    product: dict = {}
    tags: dict = {}
    for key, value in row.items():
        if "/" not in key or value in ("", None):
            continue
        category, name = key.split("/", 1)
        if category == "resourceTags":
            tags[name] = value
            continue
        if category == "costCategory":
            continue
        column = f"{_snake(category)}_{_snake(name) if name != name.lower() else name.lower()}"
        if category == "product" and column not in TOP_LEVEL_PRODUCT:
            product[_snake(name)] = value
            continue
        out[column] = value
    out["resource_tags"] = json.dumps(tags)
    out["product"] = json.dumps(product)
    return out


def koku_gcp_row(row: dict) -> dict:
    """A koku flattened GCP export row (dotted headers, Python-repr arrays) with its arrays as JSON."""
    import ast

    out = dict(row)
    for key in ("labels", "system_labels", "project.labels", "credits"):
        if out.get(key):
            out[key] = json.dumps(ast.literal_eval(out[key]))
    return out


def write_gcp_export(landing: Path, rows: list[dict], prefix: str, table: str) -> list[Path]:
    """Write rows as gzipped CSV, one folder per usage day, the embedded layout of the GCP export."""
    by_day: dict[str, list[dict]] = {}
    for row in rows:
        by_day.setdefault(str(row["usage_start_time"])[:10], []).append(row)
    written = []
    for day, day_rows in by_day.items():
        folder = landing / prefix / table / f"usage_date={day}"
        folder.mkdir(parents=True, exist_ok=True)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(day_rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(day_rows)
        path = folder / "export-000.csv.gz"
        path.write_bytes(gzip.compress(buffer.getvalue().encode("utf-8")))
        written.append(path)
    return written


def write_azure_run(landing: Path, prefix: str, export: str, folder: str, run_id: str, csv_bytes: bytes) -> Path:
    """One partitioned Azure export run: the blob, then its manifest.json (row count from the CSV)."""
    base = landing / prefix / export / folder / run_id
    base.mkdir(parents=True, exist_ok=True)
    blob = base / "part_0_0001.csv"
    blob.write_bytes(csv_bytes)
    rows = len(list(csv.DictReader(io.StringIO(csv_bytes.decode("utf-8-sig")))))
    key = blob.relative_to(landing).as_posix()
    manifest = base / "manifest.json"
    manifest.write_text(
        json.dumps(
            {"dataRowCount": rows, "runInfo": {"runId": run_id}, "blobs": [{"blobName": key, "dataRowCount": rows}]}
        )
    )
    return manifest


def query_warehouse(sql: str, params: list | None = None) -> list[tuple]:
    """Rows of one query on the test's warehouse file, read-only, times in UTC."""
    import duckdb

    from cloudcost.paths import warehouse_file

    connection = duckdb.connect(str(warehouse_file("demo_prod")), read_only=True)
    try:
        connection.execute("SET TimeZone = 'UTC'")
        return connection.execute(sql, params or []).fetchall()
    finally:
        connection.close()


def focus_rows(provider: str | None = None) -> list[dict]:
    """The demo org's FOCUS rows (of one provider, or all) as dicts, read from the warehouse file."""
    import duckdb

    from cloudcost.paths import warehouse_file

    connection = duckdb.connect(str(warehouse_file("demo_prod")), read_only=True)
    try:
        where, params = ("x_cloud_provider = ?", [provider]) if provider else ("true", [])
        cursor = connection.execute(f"select * from demo_prod.cost_data_standard_1_3 where {where}", params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        connection.close()


def stage_run(provider: Provider, day: date, run_id: str = "load", org: str = "demo") -> ResolvedRun:
    """A run of the provider's DAG for ``day``, as its tasks make it (credential id from the org file)."""
    from cloudcost.pipeline.stages import make_run_context

    return make_run_context(org, provider, day, run_id, f"cloud_{provider}_cost_billing", day, datetime.now(UTC))


def load_day(provider: str, day: date, run_id: str = "load") -> dict:
    """``land_raw``, ``convert_to_focus``, ``check`` and ``record`` of one day, as a DAG run calls them; returns
    the recorded load state."""
    from cloudcost.pipeline.stages import run_checks, run_convert_to_focus, run_land_raw, run_record

    run = stage_run(provider, day, run_id)
    landed = run_land_raw(run)
    run_convert_to_focus(run)
    return run_record(run, landed, run_checks(run))


def recheck_and_reload(run: ResolvedRun) -> list[dict]:
    """``recheck_window``, then the ``restate`` group for each day it returned."""
    from cloudcost.pipeline.stages import run_recheck

    return reload_restated(run, run_recheck(run))


def reload_restated(run: ResolvedRun, restated: list[dict]) -> list[dict]:
    """Each restated day through the ``restate`` group's land, convert_to_focus, check and record, as the DAG's
    mapped instances call them; returns each day with its version before and after."""
    from cloudcost.pipeline.stages import run_checks, run_convert_to_focus, run_record, summarise_landed_day

    reloaded = []
    for restatement in restated:
        again = run.on_day(date.fromisoformat(restatement["billing_day"]))
        landed = summarise_landed_day(again)
        run_convert_to_focus(again)
        row = run_record(again, landed, run_checks(again))
        reloaded.append({**restatement, "to_version": row["source_version"]})
    return reloaded


# The per-org tasks of a billing DAG, in their order (``cloudcost.airflow.billing_dag.build_billing_dag``).
BILLING_ORG_TASKS = (
    "org.wait_for_export",
    "org.land_raw",
    "org.convert_to_focus",
    "org.check",
    "org.record",
    "org.recheck_window",
)
# The tasks of the billing DAG's mapped ``restate`` group: one instance of each per restated (org, day).
RESTATE_TASKS = ("restate.land", "restate.convert_to_focus", "restate.check", "restate.record")


def seed_load_state(loads: dict[str, list[date]], dataset: str = "demo_prod", status: str = "succeeded") -> None:
    """Rows of ``<dataset>.load_state`` for each provider and day (figures are placeholders: only provider, day
    and status are read by the range defaults)."""
    from decimal import Decimal

    from cloudcost.schemas import load_table_schema
    from cloudcost.warehouse import open_warehouse

    warehouse = open_warehouse()
    with warehouse.session(dataset) as session:
        warehouse.ensure_table(session, dataset, load_table_schema("state/load_state.yml"))
        for provider, days in loads.items():
            for day in days:
                session.execute(
                    f"insert into {dataset}.load_state (provider, billing_day, status, source_format, raw_rows, "
                    "focus_rows, billed_cost, run_id, loaded_at) values (?, ?, ?, 'test', 1, 1, ?, 'seed', ?)",
                    [provider, day, status, Decimal(1), datetime(2026, 12, 1, tzinfo=UTC)],
                )


def use_data_dir(patch: pytest.MonkeyPatch, data: Path) -> None:
    """Point cloudcost at a data folder of the test's own, with the warehouse, key file and configs it derives from it
    (not ones the caller's environment names), so a test never reads or writes anyone else's."""
    patch.setenv("CLOUDCOST_DATA_DIR", str(data))
    for name in ("CLOUDCOST_WAREHOUSE", "CLOUDCOST_KEY_FILE", "CLOUDCOST_CONFIG_DIR"):
        patch.delenv(name, raising=False)
