"""Export objects as local files, so DuckDB reads them itself: a local landing zone's files are used in place;
an object in S3, Blob Storage or Object Storage is streamed (ranged GETs, ``ObjectStore.open``) into a private
spool directory and deleted with it."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cloudcost.sources.object_store import LocalObjectStore, ObjectNotFound, ObjectStore

CHUNK = 8 << 20


def local_path(store: ObjectStore, key: str, directory: Path) -> Path:
    """``key`` of ``store`` as a local path (see module doc); the copy keeps the object's file name."""
    if isinstance(store, LocalObjectStore):
        path = store.path_of(key)
        if not path.is_file():
            raise ObjectNotFound(f"{store.uri}/{key}: no such object")
        return path
    target = Path(tempfile.mkdtemp(dir=directory)) / key.rsplit("/", 1)[-1]
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with store.open(key) as source, os.fdopen(descriptor, "wb") as sink:
        shutil.copyfileobj(source, sink, CHUNK)
    return target


@contextmanager
def spool_directory(base: Path | None = None) -> Iterator[Path]:
    """A private (0700) directory for copies of export objects, removed with everything in it."""
    if base is not None:
        base.mkdir(parents=True, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="cloudcost-spool-", dir=base))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)
