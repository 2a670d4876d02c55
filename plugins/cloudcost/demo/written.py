"""What one ``cloudcost demo generate`` wrote for a provider, as one line: data files, rows and days.

The writers return their manifests or files (what a sensor looks for), not row counts, so the line is counted
from the data files that appeared or changed under the provider's landing folder while the writer ran:
Parquet from its footer, CSV (gzipped or not) by parsing it. Manifests (JSON) are not data and not counted.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from cloudcost.config import Provider

DATA_SUFFIXES = (".parquet", ".csv", ".csv.gz")


@dataclass(frozen=True)
class Written:
    provider: Provider
    files: int
    rows: int
    first_day: date
    last_day: date
    root: Path

    def line(self) -> str:
        days = (self.last_day - self.first_day).days + 1
        return (
            f"generated {self.provider:<5} {self.files:>3} data file(s), {self.rows:>6,} rows, {days} days "
            f"{self.first_day}..{self.last_day} under {self.root}"
        )


def _snapshot(root: Path) -> dict[Path, int]:
    if not root.exists():
        return {}
    return {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file() and p.name.endswith(DATA_SUFFIXES)}


def count_rows(path: Path) -> int:
    """Data rows of one Parquet or CSV file (a CSV's header line is not a row)."""
    if path.name.endswith(".parquet"):
        return pq.read_metadata(path).num_rows
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", newline="", encoding="utf-8") as fh:
        return max(sum(1 for _ in csv.reader(fh)) - 1, 0)


def write_and_count(provider: Provider, root: Path, days: list[date], write: Callable[[], Iterable[Path]]) -> Written:
    """Run ``write`` and count the data files it created or rewrote under ``root``."""
    before = _snapshot(root)
    list(write())
    changed = [p for p, mtime in _snapshot(root).items() if before.get(p) != mtime]
    return Written(provider, len(changed), sum(count_rows(p) for p in changed), days[0], days[-1], root)
