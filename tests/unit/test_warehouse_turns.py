"""Turns at the DuckDB file go in arrival order, a killed waiter does not block the queue, and a process that
holds its turn may nest sessions. Real processes and a real DuckDB file; the checks are on order, not time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cloudcost.warehouse.duckdb import DuckDBWarehouse
from tests.conftest import REPO

SESSION = """
import sys, pathlib
from cloudcost.warehouse.duckdb import DuckDBWarehouse
warehouse, name, release = pathlib.Path(sys.argv[1]), sys.argv[2], pathlib.Path(sys.argv[3])
with DuckDBWarehouse(warehouse, lock_wait_seconds=60).session("demo_prod") as session:
    session.execute("create table if not exists turns (name varchar)")
    session.execute("insert into turns values (?)", [name])
    while release.name != "-" and not release.exists():
        pass
"""


def _start(warehouse: Path, name: str, release: str = "-") -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO / "plugins")}
    return subprocess.Popen([sys.executable, "-c", SESSION, str(warehouse), name, release], env=env)


def _tickets(warehouse: Path) -> int:
    folder = warehouse.with_name(warehouse.name + ".turns")
    return len([p for p in folder.iterdir() if p.name != "counter"]) if folder.exists() else 0


def _until(condition, what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _names(warehouse: Path) -> list[str]:
    with DuckDBWarehouse(warehouse).session("demo_prod") as session:
        return [name for (name,) in session.fetchall("select name from turns")]


def test_waiters_go_in_in_the_order_they_arrived(tmp_path: Path) -> None:
    warehouse, release = tmp_path / "w.duckdb", tmp_path / "release"
    holder = _start(warehouse, "holder", str(release))
    _until(lambda: warehouse.exists() and _tickets(warehouse) == 1, "the holder's turn")
    waiters = []
    for i, name in enumerate(["first", "second", "third", "fourth"]):
        waiters.append(_start(warehouse, name))
        _until(lambda n=i: _tickets(warehouse) == n + 2, f"{name}'s ticket")  # each arrives after the one before
    release.touch()
    for process in [holder, *waiters]:
        assert process.wait(timeout=120) == 0
    assert _names(warehouse) == ["holder", "first", "second", "third", "fourth"]


def test_a_killed_waiter_does_not_block_the_queue(tmp_path: Path) -> None:
    warehouse, release = tmp_path / "w.duckdb", tmp_path / "release"
    holder = _start(warehouse, "holder", str(release))
    _until(lambda: warehouse.exists() and _tickets(warehouse) == 1, "the holder's turn")
    doomed = _start(warehouse, "doomed")
    _until(lambda: _tickets(warehouse) == 2, "the doomed waiter's ticket")
    later = _start(warehouse, "later")
    _until(lambda: _tickets(warehouse) == 3, "the later waiter's ticket")
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait(timeout=30)
    release.touch()
    assert holder.wait(timeout=60) == 0 and later.wait(timeout=60) == 0
    assert _names(warehouse) == ["holder", "later"]
    assert _tickets(warehouse) == 0, "every ticket is gone, the dead one too"


def test_a_process_holding_its_turn_can_nest_sessions(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb", lock_wait_seconds=5)
    with warehouse.session("demo_prod") as outer:
        outer.execute("create table t (x int)")
        with warehouse.session("demo_prod") as inner:
            assert inner.fetchall("select count(*) from t") == [(0,)]
    assert _tickets(tmp_path / "w.duckdb") == 0


def test_a_ticket_left_by_a_dead_process_whose_id_lives_again_does_not_block(tmp_path: Path) -> None:
    """A ``kill -9`` leaves its ticket behind; if the process id is then reused (here: a live unrelated process),
    the ticket must still count as dead: its owner's lock on it went with the owner."""
    warehouse = tmp_path / "w.duckdb"
    folder = tmp_path / "w.duckdb.turns"
    folder.mkdir()
    unrelated = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (folder / f"{1:020d}-{unrelated.pid}").touch()
        (folder / "counter").write_text("1")
        started = time.monotonic()
        with DuckDBWarehouse(warehouse, lock_wait_seconds=20).session("demo_prod") as session:
            assert session.fetchall("select 42") == [(42,)]
        assert time.monotonic() - started < 10, "the stale ticket was waited for"
    finally:
        unrelated.kill()
        unrelated.wait()
    assert _tickets(warehouse) == 0, "the stale ticket is removed"


def test_nested_sessions_in_other_threads_keep_the_turn_until_the_last_one_closes(tmp_path: Path) -> None:
    import threading

    warehouse_path = tmp_path / "w.duckdb"
    warehouse = DuckDBWarehouse(warehouse_path, lock_wait_seconds=30)
    inner_open, outer_closed, inner_done = threading.Event(), threading.Event(), threading.Event()

    def inner() -> None:
        with warehouse.session("demo_prod") as session:
            inner_open.set()
            outer_closed.wait(10)
            session.execute("insert into t values (1)")
            assert _tickets(warehouse_path) == 1, "the turn was passed on while a nested session was open"
        inner_done.set()

    with warehouse.session("demo_prod") as outer:
        outer.execute("create table t (x int)")
        thread = threading.Thread(target=inner)
        thread.start()
        assert inner_open.wait(10)
    outer_closed.set()
    thread.join(20)
    assert inner_done.is_set()
    assert _tickets(warehouse_path) == 0
    with warehouse.session("demo_prod") as session:
        assert session.fetchall("select count(*) from t") == [(1,)]
