"""Files that hold billing data or secrets are created readable by their owner only (0600, folders 0700).

DuckDB creates its database file and its ``.wal`` itself (with mode 0666 less the umask) and refuses a
pre-created empty file, so they are written under a umask of at least 077: the ``cloudcost`` command lines
run with it, and a warehouse session (in an Airflow task, or anywhere) holds it while it is open.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PRIVATE_UMASK = 0o077


def restrict_umask() -> int:
    """Add 077 to this process's umask (never widening it); returns the previous umask."""
    previous = os.umask(PRIVATE_UMASK)
    os.umask(previous | PRIVATE_UMASK)
    return previous


def create_private_file(path: Path) -> bool:
    """Create ``path`` empty with mode 0600 unless it exists (e.g. a SQLite file before ``airflow db migrate``);
    True if it was created."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    os.fchmod(fd, 0o600)  # whatever the umask
    os.close(fd)
    return True


_lock = threading.Lock()
_depth = 0
_saved_umask = 0


@contextmanager
def private_umask() -> Iterator[None]:
    """Umask 077 while the block runs (nested and concurrent blocks share it; the last one out restores the
    process's own), so a task process is left as Airflow set it up."""
    global _depth, _saved_umask
    with _lock:
        if _depth == 0:
            _saved_umask = restrict_umask()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                os.umask(_saved_umask)
