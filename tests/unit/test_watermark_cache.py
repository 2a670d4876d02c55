"""Watermarks are read once per object version, whichever process asks: a sensor's pokes and the nightly recheck
recall what an earlier process read, and read only objects they have not seen in that version."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import BinaryIO

from cloudcost.demo import oci_cost_reports
from cloudcost.paths import landing_dir
from cloudcost.sources.object_store import LocalObjectStore, ObjectInfo
from cloudcost.sources.oci import OciCostReports
from cloudcost.sources.watermark_cache import cache_path

DAYS = [date(2026, 11, 1), date(2026, 11, 2)]


class CountingStore:
    """The landing folder, through the ObjectStore interface only (as a cloud store is), counting what is read."""

    def __init__(self, root: Path) -> None:
        self.inner = LocalObjectStore(root)
        self.uri = self.inner.uri
        self.opened: list[str] = []

    def list(self, prefix: str) -> list[ObjectInfo]:
        return self.inner.list(prefix)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def open(self, key: str) -> BinaryIO:
        self.opened.append(key)
        return self.inner.open(key)


def _reader(store: CountingStore) -> OciCostReports:
    return OciCostReports(store, "reports/cost-csv", "cost_report", 0)


def test_report_ends_are_read_once_across_readers(data_dir: Path) -> None:
    written = oci_cost_reports.write_reports(landing_dir("demo", "oci"), DAYS)
    first = CountingStore(landing_dir("demo", "oci"))
    status = _reader(first).status(DAYS[0])
    assert status.complete and len(first.opened) == len(written), "the first reader reads every recent report"
    assert cache_path().stat().st_mode & 0o777 == 0o600

    again = CountingStore(landing_dir("demo", "oci"))  # a new process: the next poke, or the recheck
    assert _reader(again).status(DAYS[0]) == status
    assert again.opened == [], "nothing is read again"

    newest = max(written)
    newest.write_bytes(newest.read_bytes())  # rewritten: a new version of that object
    later = CountingStore(landing_dir("demo", "oci"))
    assert _reader(later).status(DAYS[0]).complete
    assert later.opened == [newest.relative_to(landing_dir("demo", "oci")).as_posix()], "only the rewritten one"
