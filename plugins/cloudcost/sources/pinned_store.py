"""``exists`` and ``open`` of the cloud object stores, written once: a HEAD says whether the object is there and
pins its size and ETag; ``open`` reads it with ranged GETs pinned to that ETag, so an object overwritten mid-read
fails the read instead of mixing two versions. Each SDK's store says only how to HEAD and how to fetch a range."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import partial
from typing import BinaryIO

from cloudcost.sources.object_store import ObjectInfo, ObjectNotFound
from cloudcost.sources.ranged_reader import open_ranged


@dataclass(frozen=True)
class Pinned:
    """What the HEAD answered: the object's size, and the ETag every ranged read must still match."""

    size: int
    etag: str | None


class PinnedObjectStore(ABC):
    """The part of ``ObjectStore`` that is the same for S3, Azure Blob and OCI; paging and errors stay with each SDK."""

    uri: str
    broken_body: tuple[type[BaseException], ...] = ()  # the SDK's errors of a body cut off mid-read (retried)

    @abstractmethod
    def _list_all(self, prefix: str) -> list[ObjectInfo]:
        """Every entry whose key starts with ``prefix``, all pages, in any order (folder markers included)."""

    @abstractmethod
    def _pin(self, key: str, action: str) -> Pinned | None:
        """HEAD ``key``: None when there is no such object; a missing bucket or a refusal raises, naming ``action``."""

    @abstractmethod
    def _fetch(self, key: str, pinned: Pinned, start: int, stop: int) -> bytes:
        """Bytes ``start``..``stop - 1`` of ``key``, refused by the service unless its ETag is still ``pinned``'s."""

    def list(self, prefix: str) -> list[ObjectInfo]:
        """The objects under ``prefix``, sorted by key; folder markers (keys ending in ``/``, made by the consoles)
        are not files."""
        return sorted((info for info in self._list_all(prefix) if not info.key.endswith("/")), key=lambda i: i.key)

    def exists(self, key: str) -> bool:
        return self._pin(key, "check") is not None

    def open(self, key: str) -> BinaryIO:
        pinned = self._pin(key, "open")
        if pinned is None:
            raise ObjectNotFound(f"{self.uri}/{key}: no such object")
        return open_ranged(partial(self._fetch, key, pinned), pinned.size, f"{self.uri}/{key}", self.broken_body)
