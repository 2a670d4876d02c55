"""The benchmark's inputs: demo exports of a chosen size, generated once per (provider, days, scale).

Each export lives in its own data folder (``CLOUDCOST_DATA_DIR``: landing zone, vault, warehouse), so a
measured run sees only that export. The file lists here are what the lower bound and the naive baseline
read directly; the pipeline finds the same files through its own readers (manifests, folders).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ORG = "demo"
FIRST_DAY = date(2026, 11, 1)  # the demo's month; every export starts on its first day
PROVIDERS = ("aws", "gcp", "azure", "oci")


@dataclass(frozen=True)
class ExportSpec:
    """One generated export: ``days`` billing days from ``FIRST_DAY``, each day ``scale`` estate replicas."""

    provider: str
    days: int
    scale: int

    @property
    def key(self) -> str:
        return f"{self.provider}-{self.days}d-x{self.scale}"

    @property
    def day_list(self) -> list[date]:
        return [FIRST_DAY + timedelta(days=i) for i in range(self.days)]


def data_dir(work: Path, spec: ExportSpec) -> Path:
    return work / "data" / spec.key


def environment(work: Path, spec: ExportSpec, warehouse: Path | None = None) -> dict[str, str]:
    """Environment of a measured process: the export's data folder and, if given, its own warehouse file."""
    env = {k: v for k, v in os.environ.items() if k not in ("CLOUDCOST_WAREHOUSE", "CLOUDCOST_CONFIG_DIR")}
    env["CLOUDCOST_DATA_DIR"] = str(data_dir(work, spec))
    if warehouse is not None:
        env["CLOUDCOST_WAREHOUSE"] = str(warehouse)
    return env


def generate(work: Path, spec: ExportSpec) -> dict:
    """Write the export (skipped when the folder already holds this spec); returns rows and timing.

    Runs in the calling process: generation is not measured, only reported.
    """
    root = data_dir(work, spec)
    marker = root / "bench-export.json"
    if marker.exists():
        return json.loads(marker.read_text())
    os.environ["CLOUDCOST_DATA_DIR"] = str(root)
    from cloudcost.config import load_org_by_slug
    from cloudcost.demo import aws_cur2, azure_cost_details, gcp_detailed, oci_cost_reports
    from cloudcost.demo.credentials import store_demo_credentials
    from cloudcost.paths import landing_dir

    export = load_org_by_slug(ORG).providers[spec.provider].export  # type: ignore[index]
    landing = landing_dir(ORG, spec.provider)
    days, scale = spec.day_list, spec.scale
    started = time.perf_counter()
    if spec.provider == "aws":
        aws_cur2.write_delivery(landing, days, 7, export.prefix, export.name, scale=scale)
    elif spec.provider == "gcp":
        gcp_detailed.write_export(landing, days, 7, export.prefix, export.name, scale=scale)
    elif spec.provider == "azure":
        azure_cost_details.write_exports(landing, days, 7, export.prefix, export.name, export.companion, scale=scale)
    elif spec.provider == "oci":
        oci_cost_reports.write_reports(landing, days, 7, f"{export.prefix}/{export.name}", scale=scale)
    else:
        raise ValueError(f"unknown provider {spec.provider}")
    seconds = time.perf_counter() - started
    store_demo_credentials(ORG)
    info = {
        "spec": spec.key,
        "raw_rows": count_rows(spec, root),
        "bytes": sum(p.stat().st_size for p in export_files(spec, root).all),
        "generate_s": round(seconds, 2),
        "billed_by_day": expected_billed(spec),
    }
    marker.write_text(json.dumps(info))
    return info


def expected_billed(spec: ExportSpec) -> dict[str, str]:
    """The generator's own BilledCost per billing day (what FOCUS must add up to), from the same code version."""
    from cloudcost.demo import aws_cur2, azure_cost_details, gcp_detailed, oci_cost_reports

    module = {"aws": aws_cur2, "gcp": gcp_detailed, "azure": azure_cost_details, "oci": oci_cost_reports}
    by_day: dict[str, Decimal] = {}
    for (_, day), amount in module[spec.provider].expected_billed_cost(spec.day_list, 7, spec.scale).items():
        by_day[day.isoformat()] = by_day.get(day.isoformat(), Decimal(0)) + amount
    return {day: str(amount) for day, amount in sorted(by_day.items())}


@dataclass(frozen=True)
class ExportFiles:
    """The export's data files; Azure's two exports apart (each row is tagged with its dataset)."""

    main: list[Path]
    companion: list[Path]
    format: str  # "parquet" or "csv"

    @property
    def all(self) -> list[Path]:
        return self.main + self.companion


def export_files(spec: ExportSpec, root: Path) -> ExportFiles:
    """The data files under the export's landing folder, by the layout the demo writes (as the providers do)."""
    from cloudcost.config import load_org_by_slug

    export = load_org_by_slug(ORG).providers[spec.provider].export  # type: ignore[index]
    landing = root / "landing" / ORG / spec.provider
    if spec.provider == "aws":
        return ExportFiles(sorted((landing / export.prefix / export.name / "data").rglob("*.parquet")), [], "parquet")
    if spec.provider == "gcp":
        return ExportFiles(sorted((landing / export.prefix / export.name).rglob("*.parquet")), [], "parquet")
    if spec.provider == "azure":
        amortized = sorted((landing / export.prefix / export.name).rglob("*.csv.gz"))
        actual = sorted((landing / export.prefix / str(export.companion)).rglob("*.csv.gz"))
        return ExportFiles(amortized, actual, "csv")
    if spec.provider == "oci":
        return ExportFiles(sorted((landing / export.prefix / export.name).rglob("*.csv.gz")), [], "csv")
    raise ValueError(f"unknown provider {spec.provider}")


def count_rows(spec: ExportSpec, root: Path) -> int:
    """Data rows in the export's files (Azure: amortized + actual), counted by DuckDB."""
    import duckdb

    files = export_files(spec, root)
    reader = "read_parquet" if files.format == "parquet" else "read_csv"
    options = "" if files.format == "parquet" else ", header = true, all_varchar = true"
    listed = ", ".join(f"'{p}'" for p in files.all)
    with duckdb.connect() as con:
        return int(con.execute(f"select count(*) from {reader}([{listed}]{options})").fetchall()[0][0])


if __name__ == "__main__":
    # bench.py generates the exports in one child process: the orchestrator keeps no generator state or memory
    import sys

    work = Path(sys.argv[1])
    for argument in sys.argv[2:]:
        provider, days, scale = argument.split(":")
        print(json.dumps(generate(work, ExportSpec(provider, int(days), int(scale)))), flush=True)
