"""Turns at the embedded warehouse: how long sessions wait for the DuckDB file, against how long others hold it.

``python bench/lock_turns.py [--processes 6] [--sessions 6] [--think 0.3] [--plugins DIR]`` starts that many
processes; each opens that many sessions of ``DuckDBWarehouse`` one after another (a think time between
them), writes a row and holds the session for a hold time drawn from a fixed mix (mostly short, some seconds
long, like the pipeline's tasks). Every session reports when it arrived, got in and left. Printed: wait
p50/p90/max, hold median, how many sessions waited longer than the time others held the file meanwhile plus
1 s (the issue's fairness target), and the hand-over gaps (from one session's end to the next one's start
while others waited). ``--plugins`` picks the code under test (e.g. a ``git archive`` of an older commit).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HOLDS = [0.05, 0.1, 0.1, 0.2, 0.3, 0.5, 1.0, 3.0]  # seconds a session keeps the file


def _worker(warehouse: Path, name: int, sessions: int, think: float) -> None:
    from cloudcost.warehouse.duckdb import DuckDBWarehouse

    rng = random.Random(name)
    house = DuckDBWarehouse(warehouse)
    for i in range(sessions):
        time.sleep(rng.uniform(0, think))
        hold = rng.choice(HOLDS)
        arrived = time.time()
        with house.session("demo_prod") as session:
            entered = time.time()
            session.execute("create table if not exists turns (worker int, i int)")
            session.execute("insert into turns values (?, ?)", [name, i])
            time.sleep(hold)
        left = time.time()
        print(json.dumps({"worker": name, "arrived": arrived, "entered": entered, "left": left}), flush=True)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=6)
    parser.add_argument("--sessions", type=int, default=6)
    parser.add_argument("--think", type=float, default=0.3, help="seconds between sessions: uniform(0, think)")
    parser.add_argument("--plugins", type=Path, default=Path(__file__).resolve().parents[1] / "plugins")
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--warehouse", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        _worker(args.warehouse, args.worker, args.sessions, args.think)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Path(tmp) / "turns.duckdb"
        env = {**os.environ, "PYTHONPATH": str(args.plugins.resolve())}
        command = [sys.executable, __file__, "--sessions", str(args.sessions), "--think", str(args.think)]
        command += ["--warehouse", str(warehouse)]
        started = time.time()
        workers = [
            subprocess.Popen([*command, "--worker", str(i)], env=env, stdout=subprocess.PIPE, text=True)
            for i in range(args.processes)
        ]
        records = [json.loads(line) for w in workers for line in w.communicate()[0].splitlines()]
        wall = time.time() - started
    waits = [r["entered"] - r["arrived"] for r in records]
    holds = [r["left"] - r["entered"] for r in records]
    unfair = 0
    for r in records:  # the time others held the file while r waited: the turns ahead of it
        ahead = sum(max(0.0, min(o["left"], r["entered"]) - max(o["entered"], r["arrived"])) for o in records)
        unfair += (r["entered"] - r["arrived"]) > ahead + 1.0
    in_order = sorted(records, key=lambda r: r["entered"])
    gaps = [  # from a session's end to the next one's start, when that one was already waiting
        b["entered"] - a["left"] for a, b in itertools.pairwise(in_order) if b["arrived"] < a["left"]
    ]
    print(
        f"{args.plugins}: {len(records)} sessions by {args.processes} processes (think 0-{args.think} s) in "
        f"{wall:.1f} s; "
        f"wait p50 {statistics.median(waits):.2f} s, p90 {_percentile(waits, 0.9):.2f} s, max {max(waits):.2f} s; "
        f"hold median {statistics.median(holds):.2f} s, total {sum(holds):.1f} s, total wait {sum(waits):.1f} s; "
        f"sessions waiting longer than the holds ahead + 1 s: {unfair}; hand-over gap median "
        f"{statistics.median(gaps) if gaps else 0:.2f} s, max {max(gaps, default=0):.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
