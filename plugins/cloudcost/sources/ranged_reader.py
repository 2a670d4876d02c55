"""A seekable, read-only file over a remote object, fetched in byte ranges.

Parquet seeks to its footer and then reads only the column chunks it needs, and an export file can be
larger than a worker's memory, so no store downloads a whole object to open it: every read becomes a
ranged GET of at most ``MAX_REQUEST`` bytes, and ``io.BufferedReader`` adds the read-ahead that keeps
small sequential reads (CSV, gzip, Parquet page headers) from turning into one request each.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:  # typeshed's name for what RawIOBase.readinto is handed (bytearray, memoryview, array, mmap)
    from _typeshed import WriteableBuffer

READ_AHEAD = 1 << 20  # bytes fetched at least per request for small reads
MAX_REQUEST = 8 << 20  # bytes fetched at most per request, whatever the caller asks for
READ_ATTEMPTS = 3  # a range whose body breaks off mid-transfer is fetched again, at most this often

Fetch = Callable[[int, int], bytes]
"""``fetch(start, stop)`` returns exactly the bytes ``[start, stop)`` of the object."""


class RangedRawReader(io.RawIOBase):
    """The raw layer: position bookkeeping plus one ``fetch`` per ``readinto``."""

    def __init__(
        self,
        fetch: Fetch,
        size: int,
        name: str,
        retry_on: tuple[type[BaseException], ...] = (),
        max_request: int = MAX_REQUEST,
        attempts: int = READ_ATTEMPTS,
    ) -> None:
        super().__init__()
        self._fetch = fetch
        self._size = size
        self._position = 0
        self._retry_on = retry_on
        self._max_request = max_request
        self._attempts = attempts
        self.name = name

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError(f"{self.name}: I/O operation on closed file")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        self._check_open()
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._check_open()
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._position + offset
        elif whence == io.SEEK_END:
            position = self._size + offset
        else:
            raise ValueError(f"invalid whence {whence!r}")
        if position < 0:
            raise OSError(f"{self.name}: negative seek position {position}")
        self._position = position
        return position

    def readinto(self, buffer: WriteableBuffer) -> int:
        self._check_open()
        view = memoryview(buffer).cast("B")
        stop = min(self._position + len(view), self._size, self._position + self._max_request)
        if stop <= self._position:
            return 0
        data = self._fetch_with_retries(self._position, stop)
        if len(data) != stop - self._position:
            raise OSError(f"{self.name}: asked for bytes {self._position}-{stop - 1}, got {len(data)} bytes")
        view[: len(data)] = data
        self._position = stop
        return len(data)

    def _fetch_with_retries(self, start: int, stop: int) -> bytes:
        attempt = 1
        while True:
            try:
                return self._fetch(start, stop)
            except self._retry_on:
                if attempt >= self._attempts:
                    raise
                attempt += 1


def open_ranged(
    fetch: Fetch,
    size: int,
    name: str,
    retry_on: tuple[type[BaseException], ...] = (),
    read_ahead: int = READ_AHEAD,
) -> BinaryIO:
    """A buffered, seekable binary file over ``fetch``; ``retry_on`` lists the errors of a broken body."""
    raw = RangedRawReader(fetch, size, name, retry_on)
    return io.BufferedReader(raw, buffer_size=read_ahead)
