"""Turns at the embedded warehouse, served in arrival order.

DuckDB lets one process at a time open its file for writing. Task processes used to retry the open with a
growing back-off (0.2 s to 5 s), so a waiter that arrived early could sleep through the moment the file came
free while a later one took it: with Celery workers the longest wait was 22 s for 3.4 s of holds ahead of it.

Here each process that wants the file first takes a ticket: an empty file ``<ticket>-<pid>`` in a queue folder
beside the warehouse, ticket numbers from a counter file under ``flock``. A process goes in when its ticket is
the lowest of those whose process is alive, and leaves by deleting it. A waiter watches the ticket just ahead of
its own every 5 ms (is the file there, is its process alive) and reads the whole folder again when it is gone:
the file changes hands within a few milliseconds, and waiting costs two system calls per look.
Tickets of dead processes (a ``kill -9``) are skipped and removed, so a crash never blocks the queue. A process
that holds its turn may open nested sessions at once (DuckDB allows connections within one process). The
queue works for the processes of one host, which is where an embedded DuckDB file lives.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

POLL_SECONDS = 0.005
_held: dict[Path, int] = {}  # queue folder -> nesting depth of this process's turn
_guard = threading.Lock()


class TurnTimeout(RuntimeError):
    """The process's turn did not come within the wait limit."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _next_ticket(folder: Path) -> int:
    counter = folder / "counter"
    fd = os.open(counter, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        ticket = int(os.read(fd, 32) or b"0") + 1
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, str(ticket).encode())
        return ticket
    finally:
        os.close(fd)


def _queue(folder: Path) -> list[tuple[int, int, Path]]:
    """Live tickets in order; tickets of processes that died are removed."""
    live = []
    for entry in folder.iterdir():
        ticket, _, pid = entry.name.partition("-")
        if not (ticket.isdigit() and pid.isdigit()):
            continue
        if _alive(int(pid)):
            live.append((int(ticket), int(pid), entry))
        else:
            entry.unlink(missing_ok=True)
    return sorted(live)


@contextmanager
def turn(warehouse: Path, timeout_seconds: float) -> Iterator[None]:
    """Wait for this process's turn at ``warehouse`` (arrival order), hold it for the block, then pass it on."""
    folder = warehouse.with_name(warehouse.name + ".turns")
    with _guard:
        if folder in _held:  # nested session of the process that holds the turn
            _held[folder] += 1
            nested = True
        else:
            nested = False
    if nested:
        try:
            yield
        finally:
            with _guard:
                _held[folder] -= 1
        return
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    ticket = _next_ticket(folder)
    mine = folder / f"{ticket:020d}-{os.getpid()}"
    mine.touch(mode=0o600)
    started = time.monotonic()
    ahead = -1
    try:
        while True:
            queue = _queue(folder)
            position = next((i for i, (t, _, _) in enumerate(queue) if t == ticket), None)
            if position is None:  # our ticket vanished (a folder cleaned by hand): put it back, same number
                mine.touch(mode=0o600)
                continue
            if ahead < 0:
                ahead = position
            if position == 0:
                break
            _, before_pid, before = queue[position - 1]
            while before.exists() and _alive(before_pid):  # watch only the ticket just ahead: two cheap calls
                if time.monotonic() - started > timeout_seconds:
                    raise TurnTimeout(
                        f"{warehouse}: waited {timeout_seconds:.0f} s for a turn, {position} process(es) still "
                        f"ahead (pids {', '.join(str(p) for _, p, _ in queue[:position][:5])})"
                    )
                time.sleep(POLL_SECONDS)
        with _guard:
            _held[folder] = 1
        waited = time.monotonic() - started
        if waited >= 1:
            log.info("waited %.1f s for the warehouse (%d turn(s) ahead)", waited, ahead)
        yield
    finally:
        with _guard:
            _held.pop(folder, None)
        mine.unlink(missing_ok=True)
