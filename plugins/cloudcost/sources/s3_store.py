"""An S3 bucket as an ``ObjectStore`` (boto3): where AWS Data Exports deliver.

Objects are read with ranged GETs pinned to the ETag seen at open (``IfMatch``), so a refresh that
overwrites a file mid-read fails the read instead of mixing two versions. Throttling and 5xx answers
are retried by botocore's standard retry mode (``s3_client``); a missing bucket or a denied request is
permanent and raises ``ObjectStoreAccessError``.
"""

from __future__ import annotations

from typing import Any, NoReturn

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    IncompleteReadError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from cloudcost.sources.object_store import ObjectInfo
from cloudcost.sources.pinned_store import Pinned, PinnedObjectStore
from cloudcost.sources.store_errors import ObjectChanged, ObjectStoreAccessError

MAX_ATTEMPTS = 5
BROKEN_BODY = (ResponseStreamingError, IncompleteReadError, ReadTimeoutError, ConnectionClosedError)
_DENIED = {"403", "AccessDenied", "AllAccessDisabled", "AccountProblem", "InvalidAccessKeyId", "SignatureDoesNotMatch"}
_NO_BUCKET = {"NoSuchBucket"}


def s3_client(
    region_name: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    session: boto3.Session | None = None,
) -> Any:
    """A boto3 S3 client with standard-mode retries bounded to ``max_attempts`` (first try included)."""
    config = Config(
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        connect_timeout=10,
        read_timeout=60,
    )
    return (session or boto3.Session()).client("s3", region_name=region_name, endpoint_url=endpoint_url, config=config)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _status(response: dict) -> int:
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


class S3ObjectStore(PinnedObjectStore):
    """Read-only access to one bucket; keys are S3 keys and ``list`` takes an S3 (string) prefix."""

    broken_body = BROKEN_BODY

    def __init__(self, bucket: str, client: Any) -> None:
        self.bucket = bucket
        self.client = client
        self.uri = f"s3://{bucket}"
        self._bucket_checked = False

    def _permanent(self, error: ClientError, key: str | None, action: str) -> ObjectStoreAccessError | None:
        """The permanent error for ``error``, or None when it is something else (e.g. throttling)."""
        code = _code(error)
        where = f"{self.uri}/{key}" if key is not None else self.uri
        if code in _NO_BUCKET:
            return ObjectStoreAccessError(f"{action} {where}: bucket {self.bucket!r} does not exist")
        if code in _DENIED or _status(error.response) == 403:
            hint = " (S3 also answers 403 for a missing key when s3:ListBucket is not granted)" if key else ""
            return ObjectStoreAccessError(f"{action} {where}: access denied ({code}){hint}")
        return None

    def _raise_for(self, error: ClientError, key: str | None, action: str) -> NoReturn:
        permanent = self._permanent(error, key, action)
        if permanent is not None:
            raise permanent from None
        raise error

    def _check_bucket(self, key: str, action: str) -> None:
        """A HEAD on a key of a missing bucket is a bare 404: ask about the bucket once to tell them apart."""
        if self._bucket_checked:
            return
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as error:
            if _status(error.response) == 404:
                raise ObjectStoreAccessError(
                    f"{action} {self.uri}/{key}: bucket {self.bucket!r} does not exist"
                ) from None
            self._raise_for(error, key, action)
        self._bucket_checked = True

    def _pin(self, key: str, action: str) -> Pinned | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if _status(error.response) == 404:
                self._check_bucket(key, action)
                return None
            self._raise_for(error, key, action)
        return Pinned(int(head["ContentLength"]), head["ETag"])

    def _list_all(self, prefix: str) -> list[ObjectInfo]:
        """Every object whose key starts with ``prefix``, all pages (1000 keys each)."""
        try:
            return [
                ObjectInfo(item["Key"], int(item["Size"]), item.get("LastModified"))
                for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
                for item in page.get("Contents", [])
            ]
        except ClientError as error:
            self._raise_for(error, None, f"list {prefix!r} in")

    def _fetch(self, key: str, pinned: Pinned, start: int, stop: int) -> bytes:
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={start}-{stop - 1}", IfMatch=pinned.etag
            )
        except ClientError as error:
            if _code(error) == "PreconditionFailed" or _status(error.response) == 412:
                raise ObjectChanged(f"{self.uri}/{key}: replaced while being read (ETag was {pinned.etag})") from None
            if _code(error) == "NoSuchKey":
                raise ObjectChanged(f"{self.uri}/{key}: deleted while being read") from None
            self._raise_for(error, key, "read")
        if _status(response) != 206 and (start, stop) != (0, pinned.size):
            response["Body"].close()
            raise OSError(f"{self.uri}/{key}: the server ignored the byte range {start}-{stop - 1}")
        with response["Body"] as body:
            return body.read()
