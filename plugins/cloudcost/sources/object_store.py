"""Where export objects are read from. The embedded default is a local folder laid out like the bucket.

The real clients (boto3, azure-storage-blob, oci) implement the same three methods, so parsing code
never knows which one it reads from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    modified: datetime | None = None  # when the object was (last) written: a delivery's timestamp


class ObjectStore(Protocol):
    """Read-only access to one bucket (or container, or local folder)."""

    uri: str

    def list(self, prefix: str) -> list[ObjectInfo]: ...

    def exists(self, key: str) -> bool: ...

    def open(self, key: str) -> BinaryIO: ...


class ObjectNotFound(FileNotFoundError):
    """The object named by a manifest or a path is not in the store."""


class LocalObjectStore:
    """A local folder standing in for a bucket: keys are paths relative to ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.uri = self.root.as_uri()

    def path_of(self, key: str) -> Path:
        """The file that holds ``key`` (which may not exist); a key cannot point outside the root."""
        return self._path(key)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root != path and self.root not in path.parents:
            raise ValueError(f"object key {key!r} escapes the store root {self.root}")
        return path

    def list(self, prefix: str) -> list[ObjectInfo]:
        base = self._path(prefix) if prefix else self.root
        if base.is_file():
            return [_info(prefix, base)]
        if not base.is_dir():
            return []
        return sorted(
            (_info(p.relative_to(self.root).as_posix(), p) for p in base.rglob("*") if p.is_file()),
            key=lambda info: info.key,
        )

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(f"{self.uri}/{key}: no such object")
        return path.open("rb")


def _info(key: str, path: Path) -> ObjectInfo:
    stat = path.stat()
    return ObjectInfo(key, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC))
