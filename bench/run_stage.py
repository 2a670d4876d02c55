"""One measured run, in its own process (so its peak RSS is that run's): ``bench.py`` starts it and waits.

Modes (``ours`` = the functions the DAG's tasks call, from ``cloudcost.pipeline.stages``):

* ``land``     ``run_land_raw`` for every day of the export, in day order (the first lands each delivery once)
* ``convert``  ``run_convert_to_focus`` for every day (the warehouse already holds the landed rows)
* ``both``     per day: ``run_land_raw`` then ``run_convert_to_focus``
* ``day``      per day, the whole task chain: land, convert, checks, record (what a DAG run does, minus Airflow);
               over every day of a month's export, a backfill
* ``lower``    the projection floor: one bare DuckDB COPY (``lower_bound.py``)
* ``rawfloor`` the raw-table floor: bare DuckDB building the raw table, then FOCUS from it (``lower_bound.py``)
* ``naive`` / ``naive-rowwise``  the pandas baseline (``baselines/naive_pandas.py``), bulk or row-wise insert

Prints one JSON line: the time spent importing and the time spent in the measured calls (``work_s``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

STARTED = time.perf_counter()


def _ours(mode: str, provider: str, days: list, org: str) -> dict:
    from cloudcost.config import load_billing_config
    from cloudcost.pipeline.stages import make_run_context, run_checks, run_convert_to_focus, run_land_raw, run_record

    dag_id = load_billing_config(provider).dag_id
    imported = time.perf_counter()
    per_day, landed, converted = [], 0, 0
    for day in days:
        run = make_run_context(org, provider, day, f"bench__{day}", dag_id, day, datetime.now(UTC))
        started = time.perf_counter()
        entry: dict = {"day": day.isoformat()}
        if mode in ("land", "both", "day"):
            land = run_land_raw(run)
            landed += land["rows"]
            entry["land_s"] = time.perf_counter() - started
        if mode in ("convert", "both", "day"):
            mark = time.perf_counter()
            converted += run_convert_to_focus(run)["rows"]
            entry["convert_s"] = time.perf_counter() - mark
        if mode == "day":
            mark = time.perf_counter()
            checked = run_checks(run)
            run_record(run, land, checked)
            entry["check_record_s"] = time.perf_counter() - mark
        entry["total_s"] = time.perf_counter() - started
        per_day.append(entry)
    return {
        "import_s": imported - STARTED,
        "work_s": sum(e["total_s"] for e in per_day),
        "raw_rows_landed": landed,
        "focus_rows_written": converted,
        "per_day": per_day,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "mode", choices=["land", "convert", "both", "day", "lower", "rawfloor", "naive", "naive-rowwise"]
    )
    parser.add_argument("--provider", required=True)
    parser.add_argument("--days", type=int, required=True)
    parser.add_argument("--scale", type=int, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--only-day", type=int, help="index of the single day to run (default: every day)")
    parser.add_argument("--out", type=Path, help="lower/naive: output file")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from exports import ORG, ExportSpec, data_dir, export_files

    spec = ExportSpec(args.provider, args.days, args.scale)
    days = spec.day_list if args.only_day is None else [spec.day_list[args.only_day]]
    if args.mode in ("land", "convert", "both", "day"):
        result = _ours(args.mode, args.provider, days, ORG)
    elif args.mode in ("lower", "rawfloor"):
        import lower_bound

        files = export_files(spec, data_dir(args.work, spec))
        floor = lower_bound.run if args.mode == "lower" else lower_bound.run_raw_table
        result = {"import_s": time.perf_counter() - STARTED, **floor(args.provider, files, args.out, ORG)}
    else:
        from baselines import naive_pandas

        files = export_files(spec, data_dir(args.work, spec))
        imported = time.perf_counter() - STARTED
        insert = "rowwise" if args.mode == "naive-rowwise" else "bulk"
        result = {"import_s": imported, **naive_pandas.run(args.provider, files, args.out, insert)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
