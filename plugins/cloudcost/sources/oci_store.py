"""An OCI Object Storage bucket as an ``ObjectStore`` (oci SDK): where OCI cost reports are read from.

OCI publishes cost reports in its own tenancy: namespace ``bling``, bucket named by the customer's
tenancy OCID. Objects are read with ranged GETs pinned to the ETag seen at open, like the S3 store.
The SDK retries transient failures itself (its default strategy: at most 8 attempts within 600 s);
a missing bucket or a refused credential raises ``ObjectStoreAccessError``.
"""

from __future__ import annotations

from typing import Any, NoReturn

# The SDK talks through its vendored copy of requests, so a broken body raises that copy's exceptions.
from oci._vendor.requests.exceptions import ChunkedEncodingError, ReadTimeout
from oci._vendor.requests.exceptions import ConnectionError as RequestsConnectionError
from oci.exceptions import ServiceError
from urllib3.exceptions import ProtocolError

from cloudcost.sources.object_store import ObjectInfo
from cloudcost.sources.pinned_store import Pinned, PinnedObjectStore
from cloudcost.sources.store_errors import ObjectChanged, ObjectStoreAccessError

BROKEN_BODY = (ChunkedEncodingError, RequestsConnectionError, ReadTimeout, ProtocolError)


class OciObjectStore(PinnedObjectStore):
    """Read-only access to one bucket of one namespace; keys are object names, ``list`` takes a prefix."""

    broken_body = BROKEN_BODY

    def __init__(self, client: Any, namespace: str, bucket: str) -> None:
        self.client = client
        self.namespace = namespace
        self.bucket = bucket
        self.uri = f"oci://{bucket}@{namespace}"
        self._bucket_checked = False

    def _raise_for(self, error: ServiceError, key: str | None, action: str) -> NoReturn:
        where = f"{self.uri}/{key}" if key is not None else self.uri
        if error.code == "BucketNotFound" or (error.status == 404 and key is None):
            # OCI gives the same answer for "no such bucket" and "not authorized to see it".
            raise ObjectStoreAccessError(
                f"{action} {where}: bucket {self.bucket!r} in namespace {self.namespace!r} does not exist "
                "or these credentials may not read it"
            ) from None
        if error.status in (401, 403):
            raise ObjectStoreAccessError(f"{action} {where}: access denied ({error.code or error.status})") from None
        raise error

    def _check_bucket(self, key: str, action: str) -> None:
        """A HEAD on a name in a missing bucket is a bare 404: ask about the bucket once to tell them apart."""
        if self._bucket_checked:
            return
        try:
            self.client.head_bucket(self.namespace, self.bucket)
        except ServiceError as error:
            self._raise_for(error, None if error.status == 404 else key, action)
        self._bucket_checked = True

    def _pin(self, key: str, action: str) -> Pinned | None:
        try:
            head = self.client.head_object(self.namespace, self.bucket, key)
        except ServiceError as error:
            if error.status == 404 and error.code != "BucketNotFound":
                self._check_bucket(key, action)
                return None
            self._raise_for(error, key, action)
        return Pinned(int(head.headers["content-length"]), head.headers.get("etag"))

    def _list_all(self, prefix: str) -> list[ObjectInfo]:
        """Every object whose name starts with ``prefix``, following ``nextStartWith`` over all pages."""
        found: list[ObjectInfo] = []
        start = None
        while True:
            try:
                response = self.client.list_objects(
                    self.namespace, self.bucket, prefix=prefix or None, start=start, fields="name,size,timeModified"
                )
            except ServiceError as error:
                self._raise_for(error, None, f"list {prefix!r} in")
            found.extend(
                ObjectInfo(item.name, int(item.size), getattr(item, "time_modified", None))
                for item in response.data.objects
            )
            start = response.data.next_start_with
            if not start:
                return found

    def _fetch(self, key: str, pinned: Pinned, start: int, stop: int) -> bytes:
        try:
            response = self.client.get_object(
                self.namespace, self.bucket, key, range=f"bytes={start}-{stop - 1}", if_match=pinned.etag
            )
        except ServiceError as error:
            if error.status == 412:
                raise ObjectChanged(f"{self.uri}/{key}: replaced while being read (ETag was {pinned.etag})") from None
            if error.status == 404 and error.code != "BucketNotFound":
                raise ObjectChanged(f"{self.uri}/{key}: deleted while being read") from None
            self._raise_for(error, key, "read")
        if response.status != 206 and (start, stop) != (0, pinned.size):
            response.data.close()
            raise OSError(f"{self.uri}/{key}: the server ignored the byte range {start}-{stop - 1}")
        return response.data.content
