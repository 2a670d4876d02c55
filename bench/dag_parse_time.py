"""DAG file parse time as Airflow's DagBag measures it (cold: a fresh process per sample).

Run: ``AIRFLOW_HOME=.airflow .venv/bin/python bench/dag_parse_time.py`` (after ``make demo``): every DAG
file of ``dags/`` in one DagBag per sample, so the first file parsed also pays for importing ``cloudcost``.
``bench/bench.py`` calls ``parse_samples`` with one file per process, so every file is measured cold.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SNIPPET = """
import sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
for stat in bag.dagbag_stats:
    print(f"{stat.file}\\t{stat.duration.total_seconds() * 1000:.1f}")
"""


def parse_samples(
    dag_folder: str = "dags", samples: int = 5, env: dict[str, str] | None = None
) -> tuple[dict[str, list[float]], list[float]]:
    """DagBag's parse duration (ms) per file over ``samples`` fresh processes, and each process's wall (s)."""
    timings: dict[str, list[float]] = {}
    walls = []
    for _ in range(samples):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", SNIPPET, dag_folder],
            capture_output=True,
            text=True,
            check=True,
            env=env or dict(os.environ),
            cwd=Path(__file__).resolve().parents[1],
        ).stdout
        walls.append(time.perf_counter() - started)
        for line in out.splitlines():
            if "\t" in line:
                name, ms = line.split("\t")
                timings.setdefault(name, []).append(float(ms))
    return timings, walls


def main(samples: int = 5) -> None:
    timings, _ = parse_samples("dags", samples)
    for name, values in sorted(timings.items()):
        print(f"{name}: median {statistics.median(values):.1f} ms over {len(values)} cold parses")


if __name__ == "__main__":
    main()
