"""An Azure Blob Storage container as an ``ObjectStore`` (azure-storage-blob): where Cost Management exports land.

Blobs are read with ranged downloads pinned to the ETag seen at open, like the S3 store. Transient
failures are retried by the SDK's own pipeline (exponential retry, bounded by the client's
``retry_total``); a missing container or a refused credential raises ``ObjectStoreAccessError``.
"""

from __future__ import annotations

from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceModifiedError, ResourceNotFoundError
from azure.storage.blob import ContainerClient

from cloudcost.sources.object_store import ObjectInfo
from cloudcost.sources.pinned_store import Pinned, PinnedObjectStore
from cloudcost.sources.store_errors import ObjectChanged, ObjectStoreAccessError


def _code(error: HttpResponseError) -> str:
    """The service's error code (``BlobNotFound``…), whether the SDK gives it as text or as an enum; the
    storage SDK sets ``error_code`` on the errors it raises, azure-core's class does not declare it."""
    code = getattr(error, "error_code", None)
    return str(getattr(code, "value", code) or "")


def _without_query(url: str) -> str:
    """The container URL without its query string: a SAS token there is a credential."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


class AzureBlobObjectStore(PinnedObjectStore):
    """Read-only access to one container; keys are blob names and ``list`` takes a name prefix.

    ``page_size`` caps the blobs per list request (the service's default is 5000).
    """

    def __init__(self, container_client: ContainerClient, page_size: int | None = None) -> None:
        self.container = container_client
        self.page_size = page_size
        self.uri = _without_query(container_client.url)

    def _raise_for(self, error: HttpResponseError, key: str | None, action: str) -> NoReturn:
        where = f"{self.uri}/{key}" if key is not None else self.uri
        code = _code(error)
        if code == "ContainerNotFound":
            raise ObjectStoreAccessError(
                f"{action} {where}: container {self.container.container_name!r} does not exist"
            ) from None
        if error.status_code in (401, 403):
            raise ObjectStoreAccessError(f"{action} {where}: access denied ({code or error.status_code})") from None
        raise error

    def _pin(self, key: str, action: str) -> Pinned | None:
        try:
            properties = self.container.get_blob_client(key).get_blob_properties()
        except ResourceNotFoundError as error:
            if _code(error) == "BlobNotFound":
                return None
            self._raise_for(error, key, action)
        except HttpResponseError as error:
            self._raise_for(error, key, action)
        return Pinned(int(properties.size), properties.etag)

    def _list_all(self, prefix: str) -> list[ObjectInfo]:
        """Every blob whose name starts with ``prefix``, all pages."""
        try:
            return [
                ObjectInfo(blob.name, int(blob.size), blob.last_modified)
                for blob in self.container.list_blobs(name_starts_with=prefix or None, results_per_page=self.page_size)
            ]
        except HttpResponseError as error:
            self._raise_for(error, None, f"list {prefix!r} in")

    def _fetch(self, key: str, pinned: Pinned, start: int, stop: int) -> bytes:
        try:
            downloader = self.container.download_blob(
                key,
                offset=start,
                length=stop - start,
                etag=pinned.etag,
                match_condition=MatchConditions.IfNotModified,
                max_concurrency=1,
            )
            return downloader.readall()
        except ResourceModifiedError:
            raise ObjectChanged(f"{self.uri}/{key}: replaced while being read (ETag was {pinned.etag})") from None
        except ResourceNotFoundError as error:
            if _code(error) == "BlobNotFound":
                raise ObjectChanged(f"{self.uri}/{key}: deleted while being read") from None
            self._raise_for(error, key, "read")
        except HttpResponseError as error:
            self._raise_for(error, key, "read")
