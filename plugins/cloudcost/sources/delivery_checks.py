"""What a delivery's own files must satisfy while they are on hand (spooled), checked by every warehouse as it
lands them: each file holds the rows its manifest announces, and no file is a byte copy of another."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from cloudcost.sources.base import BadExport, Delivery, DeliveryFile


class DeliveryRefused(BadExport):
    """The delivery would lose or double data; nothing of it is stored and the previous data is kept."""


def check_count(item: DeliveryFile, count: int) -> None:
    """A file must hold the data rows its manifest announces (Azure's ``dataRowCount``)."""
    if item.expected_rows is not None and count != item.expected_rows:
        announced = item.manifest or "its manifest"
        raise BadExport(f"{item.key}: {count} data rows, but {announced} says {item.expected_rows}")


def refuse_identical_files(delivery: Delivery, paths: Sequence[tuple[str, Path]]) -> None:
    """Two files of one delivery with the same bytes (a copy beside the original) would land twice. Only files
    of equal size are hashed, so a delivery of distinct files costs a ``stat`` each."""
    by_size: dict[int, list[tuple[str, Path]]] = {}
    for key, path in paths:
        by_size.setdefault(path.stat().st_size, []).append((key, path))
    for size, same_size in by_size.items():
        if len(same_size) < 2:
            continue
        seen: dict[str, str] = {}
        for key, path in same_size:
            digest = _sha256(path)
            if digest in seen:
                raise DeliveryRefused(
                    f"{key} and {seen[digest]} of delivery {delivery.key} are identical ({size} bytes): one is a "
                    "copy and would double its rows; nothing of the delivery is stored"
                )
            seen[digest] = key


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
