"""DAG file parse time as Airflow's DagBag measures it (cold: a fresh process per sample).

Run: ``AIRFLOW_HOME=.airflow .venv/bin/python bench/dag_parse_time.py`` (after ``make demo``).
"""

from __future__ import annotations

import statistics
import subprocess
import sys

SNIPPET = """
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder="dags")
assert not bag.import_errors, bag.import_errors
for stat in bag.dagbag_stats:
    print(f"{stat.file}\\t{stat.duration.total_seconds() * 1000:.1f}")
"""


def main(samples: int = 5) -> None:
    timings: dict[str, list[float]] = {}
    for _ in range(samples):
        out = subprocess.run([sys.executable, "-c", SNIPPET], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if "\t" in line:
                name, ms = line.split("\t")
                timings.setdefault(name, []).append(float(ms))
    for name, values in sorted(timings.items()):
        print(f"{name}: median {statistics.median(values):.1f} ms over {len(values)} cold parses")


if __name__ == "__main__":
    main()
