"""The latest value of a watermark column per export object, remembered across processes.

A sensor pokes every few minutes, each poke its own process, and the recheck judges two months of days every
night: each would read the same objects' watermark column again (GCP's ``export_time``, OCI's
``intervalUsageEnd``). An object is known by its store, key, size and write time, so a rewritten object is read
again. The entries live in one small JSON file in the data folder (created 0600), replaced whole; two processes
writing at once lose at most an entry, which only costs a read.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from cloudcost.paths import data_dir
from cloudcost.sources.object_store import ObjectInfo

MAX_ENTRIES = 50_000
NOTHING = ""  # the object holds no value of the column


def cache_path() -> Path:
    return data_dir() / "cache" / "watermarks.json"


def identity(uri: str, info: ObjectInfo, column: str) -> str:
    written = info.modified.isoformat() if info.modified else "?"
    return f"{uri}|{info.key}|{info.size}|{written}|{column}"


def recall(identities: list[str]) -> dict[str, datetime | None]:
    """The remembered values of those of ``identities`` that are known."""
    entries = _read()
    known = {}
    for key in identities:
        if key in entries:
            value = entries[key]
            known[key] = datetime.fromisoformat(value) if value else None
    return known


def remember(values: Mapping[str, datetime | None]) -> None:
    if not values:
        return
    entries = _read()
    entries.update({key: value.isoformat() if value else NOTHING for key, value in values.items()})
    if len(entries) > MAX_ENTRIES:  # oldest first (insertion order)
        entries = dict(list(entries.items())[-MAX_ENTRIES:])
    path = cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".watermarks-")  # created 0600
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(entries, handle)
    os.replace(temporary, path)


def _read() -> dict[str, str]:
    try:
        entries = json.loads(cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return entries if isinstance(entries, dict) else {}
