"""bench/night.py's turn watcher: sessions at the DuckDB file seen from the turn queue folder, and the fairness
count (a wait longer than the holds ahead of it + 1 s). No timed assertion: orders and synthetic times only."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "bench"))

from night import Turn, TurnWatcher


def _wait_for_looks(watcher: TurnWatcher, more: int = 3) -> None:
    """Until the watcher has listed the folder ``more`` more times (it sees what is there now)."""
    target = watcher.looks + more
    while watcher.looks < target:
        assert watcher.is_alive(), "the watcher thread stopped"
        time.sleep(0.001)


def test_sessions_seen_in_ticket_order(tmp_path: Path) -> None:
    folder = tmp_path / "warehouse.duckdb.turns"
    folder.mkdir()
    (folder / "counter").write_text("2")  # not a ticket
    watcher = TurnWatcher(folder)
    watcher.start()
    try:
        first, second = folder / f"{1:020d}-101", folder / f"{2:020d}-102"
        first.touch()
        second.touch()
        _wait_for_looks(watcher)
        first.unlink()  # the holder leaves: the next ticket goes in
        _wait_for_looks(watcher)
        second.unlink()
        _wait_for_looks(watcher)
    finally:
        watcher.stop()
    keys = [f"{folder.name}/{first.name}", f"{folder.name}/{second.name}"]
    a, b = watcher.turns[keys[0]], watcher.turns[keys[1]]
    assert sorted(watcher.turns) == keys
    assert a.entered is not None and b.entered is not None and a.left is not None and b.left is not None
    assert a.arrived == a.entered, "the lowest ticket goes in at once"
    assert b.arrived < b.entered and b.entered >= a.left, "the second waits for the first to leave"
    assert watcher.summary()["sessions"] == 2


def test_fairness_counts_waits_beyond_the_holds_ahead() -> None:
    watcher = TurnWatcher(Path("/nonexistent"))
    watcher.turns = {
        "1": Turn(arrived=0.0, entered=0.0, left=4.0),  # holds 4 s
        "2": Turn(arrived=1.0, entered=4.0, left=5.0),  # waited 3 s, all of it behind "1": fair
        "3": Turn(arrived=1.0, entered=7.5, left=8.0),  # waited 6.5 s behind 4 s of holds: 2.5 s lost
    }
    summary = watcher.summary()
    assert summary["over_holds_ahead_plus_1s"] == 1
    assert (summary["wait_max"], summary["wait_total"], summary["hold_max"]) == (6.5, 9.5, 4.0)
    assert summary["sessions"] == 3


def test_per_org_files_queue_apart(tmp_path: Path) -> None:
    """The warehouse folder's per-org queues are found as they appear; the same ticket number in two queues is
    two sessions, and a session is ahead only of sessions of its own file."""
    watcher = TurnWatcher(tmp_path)
    watcher.start()
    try:
        a, b = tmp_path / "a_prod" / "warehouse.duckdb.turns", tmp_path / "b_prod" / "warehouse.duckdb.turns"
        a.mkdir(parents=True)
        b.mkdir(parents=True)
        (a / f"{1:020d}-201").touch()
        (b / f"{1:020d}-202").touch()
        _wait_for_looks(watcher)
        (a / f"{1:020d}-201").unlink()
        (b / f"{1:020d}-202").unlink()
        _wait_for_looks(watcher)
    finally:
        watcher.stop()
    assert sorted(watcher.turns) == [
        f"a_prod/warehouse.duckdb.turns/{1:020d}-201",
        f"b_prod/warehouse.duckdb.turns/{1:020d}-202",
    ]
    assert all(t.arrived == t.entered for t in watcher.turns.values()), "each is the first of its own file"

    watcher.turns = {
        "a.turns/1-1": Turn(arrived=0.0, entered=0.0, left=4.0),
        "b.turns/1-2": Turn(arrived=1.0, entered=3.5, left=4.0),  # waited 2.5 s with no hold of its own file ahead
    }
    assert watcher.summary()["over_holds_ahead_plus_1s"] == 1, "another file's hold is not ahead of it"
