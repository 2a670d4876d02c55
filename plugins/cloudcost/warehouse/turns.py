"""Turns at the embedded warehouse, served in arrival order.

DuckDB lets one process at a time open its file for writing. Task processes used to retry the open with a
growing back-off (0.2 s to 5 s), so a waiter that arrived early could sleep through the moment the file came
free while a later one took it: with Celery workers the longest wait was 22 s for 3.4 s of holds ahead of it.

Here each process that wants the file first takes a ticket: a file ``<ticket>-<pid>`` in a queue folder beside
the warehouse, numbered from a counter file. The ticket is created, and locked (``flock``, exclusive) by its
owner, while the counter is still locked, so no later arrival can be numbered, or seen, before it. A process
goes in when its ticket is the lowest live one, and leaves by deleting it. A ticket is live while its owner's
lock is on it: the kernel drops the lock when the process dies, however it dies, so a ticket left by a
``kill -9`` is seen as dead (and removed) even when its process id has been reused. A waiter watches the ticket
just ahead of its own every 5 ms (can it take a shared lock on it?) and reads the whole folder again when that
one is gone: the file changes hands within a few milliseconds.

A process that holds its turn may open nested sessions, from any thread (DuckDB allows connections within one
process); the turn passes on when the last of them closes. The queue works for the processes of one host,
which is where an embedded DuckDB file lives.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

POLL_SECONDS = 0.005


class TurnTimeout(RuntimeError):
    """The process's turn did not come within the wait limit."""


@dataclass
class _Held:
    """This process's turn at one warehouse: its locked ticket, and how many sessions use it now."""

    ticket: Path
    fd: int
    depth: int


_held: dict[Path, _Held] = {}  # queue folder -> this process's turn
_guard = threading.Lock()


def _live(ticket: Path) -> bool:
    """Its owner still holds the lock on it (a shared lock can be taken only on a dead owner's ticket)."""
    try:
        fd = os.open(ticket, os.O_RDONLY)
    except FileNotFoundError:
        return False
    except PermissionError:  # another user's ticket: assume its owner is alive
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also drops the probe's own shared lock
    return False


def _take_ticket(folder: Path) -> tuple[int, Path, int]:
    """The next number, and its ticket file created and locked by this process before the counter is free."""
    counter = os.open(folder / "counter", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(counter, fcntl.LOCK_EX)
        ticket = int(os.read(counter, 32) or b"0") + 1
        path = folder / f"{ticket:020d}-{os.getpid()}"
        # locked under a name _queue skips, then renamed: no waiter ever sees the ticket unlocked (and removes it)
        draft = folder / f".draft-{os.getpid()}"
        fd = os.open(draft, os.O_RDONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(draft, path)
        # overwrite, then cut: numbers only grow, so a kill between the two never leaves a smaller (or empty) counter
        number = str(ticket).encode()
        os.pwrite(counter, number, 0)
        os.ftruncate(counter, len(number))
        return ticket, path, fd
    finally:
        os.close(counter)


def _relock(path: Path, old_fd: int) -> int:
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.close(old_fd)
    return fd


def _queue(folder: Path) -> list[tuple[int, Path]]:
    """Live tickets in order; tickets of processes that died are removed."""
    live = []
    for entry in folder.iterdir():
        ticket, _, pid = entry.name.partition("-")
        if not (ticket.isdigit() and pid.isdigit()):
            continue
        if _live(entry):
            live.append((int(ticket), entry))
        else:
            entry.unlink(missing_ok=True)
    return sorted(live)


def _enter_nested(folder: Path) -> bool:
    with _guard:
        held = _held.get(folder)
        if held is None:
            return False
        held.depth += 1
        return True


def _leave(folder: Path) -> None:
    """One session less; the last one out deletes the ticket and drops its lock: the next waiter goes in."""
    with _guard:
        held = _held[folder]
        held.depth -= 1
        if held.depth:
            return
        del _held[folder]
    held.ticket.unlink(missing_ok=True)
    os.close(held.fd)


@contextmanager
def turn(warehouse: Path, timeout_seconds: float) -> Iterator[None]:
    """Wait for this process's turn at ``warehouse`` (arrival order), hold it for the block, then pass it on."""
    folder = warehouse.with_name(warehouse.name + ".turns")
    if _enter_nested(folder):  # a nested session of the process that holds the turn
        try:
            yield
        finally:
            _leave(folder)
        return
    with _guard:
        others = [str(held) for held in _held if held != folder]
    if others:  # two processes doing this in opposite orders would each wait for the other's turn until the timeout
        raise RuntimeError(f"{warehouse}: a turn taken while this process holds another file's ({others[0]})")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    number, path, fd = _take_ticket(folder)
    mine = _Held(path, fd, 1)
    try:
        ahead = _wait(warehouse, folder, number, mine, timeout_seconds)
    except BaseException:
        path.unlink(missing_ok=True)
        os.close(mine.fd)
        raise
    with _guard:
        _held[folder] = mine
    if ahead:
        log.info("waited %.1f s for the warehouse (%d turn(s) ahead)", ahead[1], ahead[0])
    try:
        yield
    finally:
        _leave(folder)


def sessions_open(warehouse: Path) -> int:
    """How many sessions of this process hold its turn at ``warehouse`` now (0 when it holds none)."""
    with _guard:
        held = _held.get(warehouse.with_name(warehouse.name + ".turns"))
        return held.depth if held else 0


def _wait(warehouse: Path, folder: Path, ticket: int, mine: _Held, timeout_seconds: float) -> tuple[int, float] | None:
    """Until ``ticket`` is the lowest live one; returns (turns ahead on arrival, seconds waited) if that was ≥ 1 s."""
    started = time.monotonic()
    ahead = -1
    while True:
        queue = _queue(folder)
        position = next((i for i, (t, _) in enumerate(queue) if t == ticket), None)
        if position is None:  # our ticket vanished (a folder cleaned by hand): put it back, same number, locked
            mine.fd = _relock(mine.ticket, mine.fd)
            continue
        if ahead < 0:
            ahead = position
        if position == 0:
            waited = time.monotonic() - started
            return (ahead, waited) if waited >= 1 else None
        before = queue[position - 1][1]
        while _live(before):  # watch only the ticket just ahead
            if time.monotonic() - started > timeout_seconds:
                owners = ", ".join(path.name.partition("-")[2] for _, path in queue[:position][:5])
                raise TurnTimeout(
                    f"{warehouse}: waited {timeout_seconds:.0f} s for a turn, {position} process(es) still "
                    f"ahead (pids {owners})"
                )
            time.sleep(POLL_SECONDS)
