"""The cloud object stores against real protocol peers, over real HTTP on 127.0.0.1.

- S3: moto's HTTP server (``ThreadedMotoServer``), driven by a real boto3 client.
- Azure Blob: Azurite (npm package ``azurite``), driven by a real azure-storage-blob client. If
  ``azurite-blob`` is not on PATH it is installed into ``.cache/azurite`` with npm; if that fails the
  tests fail with the reason, they are never skipped.
- OCI Object Storage: no emulator exists, so ``OciDouble`` below is a RECORDED-RESPONSE DOUBLE, NOT OCI:
  a small local HTTP server answering the Object Storage REST paths (``/n/{ns}/b/{bucket}/o``) with
  the response shapes documented for the real service (JSON ``objects``/``nextStartWith`` pages that
  carry ``size`` only when ``fields`` asks for it, bare 404 on HEAD, 206 with ``Content-Range``, 412 on
  ``If-Match``, ``BucketNotFound``). A real ``oci.object_storage.ObjectStorageClient`` signs its requests
  with a throwaway RSA key; the double checks a signature header is present but does not verify it.
  These tests prove our paging, naming, ranged streaming and error mapping, not OCI's behaviour.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import duckdb
import oci
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from moto.server import ThreadedMotoServer

from cloudcost.demo.aws_cur2 import write_delivery
from cloudcost.sources.aws import AwsDataExport
from cloudcost.sources.azure_store import AzureBlobObjectStore
from cloudcost.sources.export_file import describe
from cloudcost.sources.object_store import LocalObjectStore, ObjectNotFound, ObjectStore
from cloudcost.sources.oci_store import OciObjectStore
from cloudcost.sources.s3_store import S3ObjectStore, s3_client
from cloudcost.sources.store_errors import ObjectChanged, ObjectStoreAccessError

REPO = Path(__file__).resolve().parents[2]
DAY = date(2026, 11, 1)
BIG_KEY = "big/wide.parquet"
SECRET = "integration-secret-must-never-be-logged"
AZURITE_VERSION = "3.35.0"
AZURITE_PREFIX = REPO / ".cache" / "azurite"
# Azurite's well-known development account (published in Microsoft's Azurite docs), not a secret.
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
AZURITE_FLAGS = ("--skipApiVersionCheck", "--loose", "--disableTelemetry")
TENANCY = "ocid1.tenancy.oc1..aaaaaaaacloudcosttestdouble"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def delivery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real demo CUR 2.0 delivery (Parquet + Manifest.json) in the S3 layout, as a local folder."""
    root = tmp_path_factory.mktemp("delivery")
    write_delivery(root, [DAY])
    return root


@pytest.fixture(scope="module")
def big_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~10 MB of incompressible Parquet: 8 row groups x 3 columns of ~400 KB each."""
    path = tmp_path_factory.mktemp("big") / "wide.parquet"
    rows = 8_000
    with pq.ParquetWriter(path, pa.schema([(name, pa.binary(50)) for name in "abc"]), compression="none") as writer:
        for _ in range(8):
            columns = [pa.array([os.urandom(50) for _ in range(rows)], pa.binary(50)) for _ in "abc"]
            writer.write_table(pa.table(dict(zip("abc", columns, strict=True))), row_group_size=rows)
    assert path.stat().st_size > 9_000_000
    return path


def _export_of(store: ObjectStore, spool: Path) -> tuple[list[tuple[str, str, tuple]], pa.Table]:
    """The delivery the day is made of, and its files' rows as DuckDB reads the local copies."""
    export = AwsDataExport(store, "cur", "demo-cur2", "cur2")
    status = export.status(DAY)
    assert status.complete, status.reason
    assert status.reason == "manifest and all data files present"
    deliveries = export.deliveries(DAY)
    connection = duckdb.connect()
    tables = []
    for delivery in deliveries:
        for item in delivery.files:
            file = describe(connection, export.local_path(item, spool), item.key)
            tables.append(connection.sql(f"select * from {file.relation}").to_arrow_table())
    identity = [(d.key, d.version, tuple(f.key for f in d.files)) for d in deliveries]
    return identity, pa.concat_tables(tables)


def _assert_same_export_as_local(store: ObjectStore, delivery: Path, spool: Path) -> None:
    remote_identity, remote = _export_of(store, spool)
    local_identity, local = _export_of(LocalObjectStore(delivery), spool)
    assert local.num_rows > 1000
    assert remote_identity == local_identity
    different = [n for n in local.column_names if not remote[n].equals(local[n])]
    assert remote.schema == local.schema and not different, different
    copies = [p for p in spool.rglob("*") if p.is_file()]
    assert copies and all(p.stat().st_mode & 0o777 == 0o600 for p in copies), "spooled copies are private"


def _assert_seeks_and_reads(store: ObjectStore, key: str, local: Path) -> None:
    data = local.read_bytes()
    with store.open(key) as handle:
        assert handle.seekable()
        middle = len(data) // 2
        handle.seek(middle)
        assert handle.read(100) == data[middle : middle + 100]
        assert handle.tell() == middle + 100
        handle.seek(-10, io.SEEK_END)
        assert handle.read() == data[-10:]
        assert handle.read(5) == b""
        handle.seek(0)
        assert handle.read(4) == b"PAR1"


def _assert_one_column_chunk_is_cheap(store: ObjectStore, local: Path, fetched: Callable[[], list[int]]) -> None:
    """Reading one column of one row group must fetch a small part of the object, by ranges.

    ``fetched()`` gives the body length of every ranged GET seen so far.
    """
    size = local.stat().st_size
    before = len(fetched())
    with store.open(BIG_KEY) as handle:
        remote = pq.ParquetFile(handle).read_row_group(5, columns=["b"])
    assert remote.equals(pq.ParquetFile(local).read_row_group(5, columns=["b"]))
    lengths = fetched()[before:]
    assert lengths, "no ranged GET was observed"
    assert sum(lengths) < size / 4, f"fetched {sum(lengths)} of {size} bytes"
    assert max(lengths) <= 8 << 20


# ---------------------------------------------------------------------------------------------- S3


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _session(key_id: str = "AKIAINTEGRATIONTEST", secret: str = SECRET) -> boto3.Session:
    return boto3.Session(aws_access_key_id=key_id, aws_secret_access_key=secret, region_name="us-east-1")


@pytest.fixture(scope="module")
def s3(moto_endpoint: str) -> object:
    return s3_client(endpoint_url=moto_endpoint, region_name="us-east-1", session=_session())


@pytest.fixture(scope="module")
def s3_bucket(s3: object, delivery: Path, big_parquet: Path) -> str:
    """A bucket holding the demo delivery under the same keys, plus the big Parquet file."""
    bucket = "demo-billing-exports"
    s3.create_bucket(Bucket=bucket)
    for key, path in _files(delivery).items():
        s3.upload_file(str(path), bucket, key)
    s3.put_object(Bucket=bucket, Key=BIG_KEY, Body=big_parquet.read_bytes())
    return bucket


def _count_s3_calls(client: object, operation: str) -> list[int]:
    """Content lengths of every ``operation`` response the client receives, as the server stated them."""
    seen: list[int] = []

    def after_call(http_response: object, parsed: dict, **_: object) -> None:
        seen.append(int(parsed.get("ContentLength", 0)))

    client.meta.events.register(f"after-call.s3.{operation}", after_call)
    return seen


def test_s3_client_uses_bounded_standard_retries() -> None:
    config = s3_client(region_name="us-east-1", max_attempts=4, session=_session()).meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 4}


def test_s3_list_follows_pages_past_1000_keys(moto_endpoint: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    client = s3_client(endpoint_url=moto_endpoint, region_name="us-east-1", session=_session())
    bucket = "paging-bucket"
    client.create_bucket(Bucket=bucket)
    keys = [f"exports/part-{i:05d}.csv" for i in range(1_050)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: client.put_object(Bucket=bucket, Key=k, Body=k.encode()), keys))
    client.put_object(Bucket=bucket, Key="exports/folder/", Body=b"")  # console-made folder marker
    client.put_object(Bucket=bucket, Key="exports-old/part-00000.csv", Body=b"x")
    pages = _count_s3_calls(client, "ListObjectsV2")
    listed = S3ObjectStore(bucket, client).list("exports/")
    assert [info.key for info in listed] == keys
    assert [info.size for info in listed] == [len(k) for k in keys]
    assert all(abs(info.modified - datetime.now(UTC)) < timedelta(minutes=10) for info in listed)  # LastModified
    assert len(pages) >= 2, "a single ListObjectsV2 request cannot return 1050 keys"


def test_s3_exists(s3: object, s3_bucket: str) -> None:
    store = S3ObjectStore(s3_bucket, s3)
    assert store.uri == "s3://demo-billing-exports"
    assert store.exists("cur/demo-cur2/metadata/BILLING_PERIOD=2026-11/demo-cur2-Manifest.json")
    assert not store.exists("cur/demo-cur2/metadata/BILLING_PERIOD=2026-12/demo-cur2-Manifest.json")
    assert not store.exists("cur/demo-cur2")  # a prefix is not an object
    with pytest.raises(ObjectNotFound, match=re.escape("s3://demo-billing-exports/nope.parquet: no such object")):
        store.open("nope.parquet")


def test_s3_open_is_seekable_and_reads_by_ranges(s3: object, s3_bucket: str, big_parquet: Path) -> None:
    store = S3ObjectStore(s3_bucket, s3)
    fetched = _count_s3_calls(s3, "GetObject")
    _assert_seeks_and_reads(store, BIG_KEY, big_parquet)
    assert 0 < sum(fetched) < big_parquet.stat().st_size / 4
    _assert_one_column_chunk_is_cheap(store, big_parquet, lambda: list(fetched))


def test_s3_data_export_reads_like_the_local_folder(s3: object, s3_bucket: str, delivery: Path, tmp_path: Path) -> None:
    _assert_same_export_as_local(S3ObjectStore(s3_bucket, s3), delivery, tmp_path)


def test_s3_missing_bucket_is_a_permanent_error(s3: object) -> None:
    store = S3ObjectStore("no-such-billing-bucket", s3)
    with pytest.raises(ObjectStoreAccessError, match="bucket 'no-such-billing-bucket' does not exist") as exists:
        store.exists("cur/x.parquet")
    assert "s3://no-such-billing-bucket/cur/x.parquet" in str(exists.value)
    with pytest.raises(ObjectStoreAccessError, match="bucket 'no-such-billing-bucket' does not exist") as listed:
        store.list("cur/")
    with pytest.raises(ObjectStoreAccessError, match="does not exist"):
        store.open("cur/x.parquet")
    for error in (exists.value, listed.value):
        assert SECRET not in str(error)


def test_s3_access_denied_is_a_permanent_error(moto_endpoint: str, s3: object, s3_bucket: str) -> None:
    """Turn on moto's IAM enforcement, then read as a user without any policy."""
    import urllib.request

    def reset_auth(count: str) -> None:
        request = urllib.request.Request(
            f"{moto_endpoint}/moto-api/reset-auth",
            data=count.encode(),
            method="POST",
            headers={"Content-Type": "application/octet-stream"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200

    reset_auth("2")  # the next two requests (creating the user and its key) pass unauthenticated
    try:
        iam = _session().client("iam", endpoint_url=moto_endpoint)
        iam.create_user(UserName="no-permissions")
        key = iam.create_access_key(UserName="no-permissions")["AccessKey"]
        client = s3_client(endpoint_url=moto_endpoint, session=_session(key["AccessKeyId"], key["SecretAccessKey"]))
        store = S3ObjectStore(s3_bucket, client)
        manifest = "cur/demo-cur2/metadata/BILLING_PERIOD=2026-11/demo-cur2-Manifest.json"
        with pytest.raises(ObjectStoreAccessError, match="access denied") as exists:
            store.exists(manifest)
        assert f"s3://{s3_bucket}/{manifest}" in str(exists.value)
        with pytest.raises(ObjectStoreAccessError, match=f"list 'cur/' in s3://{s3_bucket}: access denied"):
            store.list("cur/")
        assert key["SecretAccessKey"] not in str(exists.value)
    finally:
        reset_auth("inf")


def test_s3_object_replaced_mid_read_fails(s3: object, s3_bucket: str) -> None:
    key = "replace/me.bin"
    first = os.urandom(3 << 20)
    s3.put_object(Bucket=s3_bucket, Key=key, Body=first)
    store = S3ObjectStore(s3_bucket, s3)
    with store.open(key) as handle:
        assert handle.read(10) == first[:10]
        s3.put_object(Bucket=s3_bucket, Key=key, Body=os.urandom(3 << 20))
        with pytest.raises(ObjectChanged, match="replaced while being read"):
            handle.read()


class _AlwaysSlowDown(BaseHTTPRequestHandler):
    """An S3 endpoint that throttles every request, counting them."""

    requests = 0

    def do_HEAD(self) -> None:
        type(self).requests += 1
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_s3_throttling_is_retried_a_bounded_number_of_times() -> None:
    _AlwaysSlowDown.requests = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AlwaysSlowDown)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        client = s3_client(endpoint_url=endpoint, region_name="us-east-1", max_attempts=3, session=_session())
        with pytest.raises(ClientError) as raised:
            S3ObjectStore("throttled-bucket", client).exists("a/key")
        assert not isinstance(raised.value, ObjectStoreAccessError)
        assert _AlwaysSlowDown.requests == 3
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------------------------------- Azure


def _azurite_blob() -> str:
    """``azurite-blob`` from PATH, else from the repo-local npm prefix, installing it there if needed."""
    found = shutil.which("azurite-blob")
    if found:
        return found
    local = AZURITE_PREFIX / "node_modules" / ".bin" / "azurite-blob"
    if not local.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("azurite-blob is not on PATH and npm is not installed (Node.js 18+ with npm is required)")
        try:
            result = subprocess.run(
                [
                    npm,
                    "install",
                    "--prefix",
                    str(AZURITE_PREFIX),
                    "--no-audit",
                    "--no-fund",
                    f"azurite@{AZURITE_VERSION}",
                ],
                capture_output=True,
                text=True,
                timeout=600,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"npm install azurite@{AZURITE_VERSION} into {AZURITE_PREFIX} took over 600 s")
        if result.returncode != 0 or not local.exists():
            pytest.fail(
                f"npm install azurite@{AZURITE_VERSION} into {AZURITE_PREFIX} failed (exit {result.returncode}):\n"
                + (result.stdout + result.stderr)[-3000:]
            )
    return str(local)


@pytest.fixture(scope="module")
def azurite_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    command = _azurite_blob()
    location = tmp_path_factory.mktemp("azurite")
    port = _free_port()
    log = (location / "azurite.log").open("wb")
    process = subprocess.Popen(
        [command, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(location), *AZURITE_FLAGS],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, killed whole at teardown
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"azurite-blob exited with {process.returncode}:\n{(location / 'azurite.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"azurite-blob did not listen within 30 s:\n{(location / 'azurite.log').read_text()}")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        except ProcessLookupError:
            pass
        log.close()


def _connection_string(endpoint: str, key: str = AZURITE_KEY) -> str:
    return f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={key};BlobEndpoint={endpoint};"


class _AzureFetches:
    """Content lengths of every ranged blob download the client receives (a ``raw_response_hook``)."""

    def __init__(self) -> None:
        self.lengths: list[int] = []
        self.list_requests = 0

    def __call__(self, response: object) -> None:
        request = response.http_request
        if request.method == "GET" and "comp=list" in request.url:
            self.list_requests += 1
        elif request.method == "GET":
            assert "x-ms-range" in request.headers or "Range" in request.headers, "unranged blob download"
            self.lengths.append(int(response.http_response.headers.get("Content-Length", 0)))


@pytest.fixture(scope="module")
def azure_container(azurite_endpoint: str, delivery: Path, big_parquet: Path) -> tuple[ContainerClient, _AzureFetches]:
    name = "billing-exports"
    BlobServiceClient.from_connection_string(_connection_string(azurite_endpoint)).create_container(name)
    fetches = _AzureFetches()
    container = ContainerClient.from_connection_string(
        _connection_string(azurite_endpoint), name, raw_response_hook=fetches
    )
    for key, path in _files(delivery).items():
        container.upload_blob(key, path.read_bytes())
    container.upload_blob(BIG_KEY, big_parquet.read_bytes())
    for i in range(5):
        container.upload_blob(f"paging/blob-{i}.csv", b"x" * (i + 1))
    container.upload_blob("paging-old/blob.csv", b"old")
    return container, fetches


def test_azure_list_follows_pages(azure_container: tuple[ContainerClient, _AzureFetches]) -> None:
    container, fetches = azure_container
    store = AzureBlobObjectStore(container, page_size=2)
    before = fetches.list_requests
    listed = store.list("paging/")
    assert [(i.key, i.size) for i in listed] == [(f"paging/blob-{i}.csv", i + 1) for i in range(5)]
    assert all(abs(i.modified - datetime.now(UTC)) < timedelta(minutes=10) for i in listed)  # Last-Modified
    assert fetches.list_requests - before == 3  # 2 + 2 + 1 blobs
    everything = {info.key for info in AzureBlobObjectStore(container).list("")}
    assert {"paging-old/blob.csv", BIG_KEY} <= everything


def test_azure_exists_and_uri(azure_container: tuple[ContainerClient, _AzureFetches], azurite_endpoint: str) -> None:
    store = AzureBlobObjectStore(azure_container[0])
    assert store.uri == f"{azurite_endpoint}/billing-exports"
    assert store.exists("cur/demo-cur2/metadata/BILLING_PERIOD=2026-11/demo-cur2-Manifest.json")
    assert not store.exists("cur/demo-cur2/metadata/BILLING_PERIOD=2026-12/demo-cur2-Manifest.json")
    assert not store.exists("cur/demo-cur2")
    with pytest.raises(ObjectNotFound, match=re.escape("billing-exports/nope.parquet: no such object")):
        store.open("nope.parquet")


def test_azure_open_is_seekable_and_reads_by_ranges(
    azure_container: tuple[ContainerClient, _AzureFetches], big_parquet: Path
) -> None:
    container, fetches = azure_container
    store = AzureBlobObjectStore(container)
    before = len(fetches.lengths)
    _assert_seeks_and_reads(store, BIG_KEY, big_parquet)
    assert 0 < sum(fetches.lengths[before:]) < big_parquet.stat().st_size / 4
    _assert_one_column_chunk_is_cheap(store, big_parquet, lambda: list(fetches.lengths))
    with store.open(BIG_KEY) as handle:
        assert pq.read_table(handle).equals(pq.read_table(big_parquet))


def test_azure_data_export_reads_like_the_local_folder(
    azure_container: tuple[ContainerClient, _AzureFetches], delivery: Path, tmp_path: Path
) -> None:
    _assert_same_export_as_local(AzureBlobObjectStore(azure_container[0]), delivery, tmp_path)


def test_azure_missing_container_and_bad_key_are_permanent_errors(
    azure_container: tuple[ContainerClient, _AzureFetches], azurite_endpoint: str
) -> None:
    missing = AzureBlobObjectStore(ContainerClient.from_connection_string(_connection_string(azurite_endpoint), "nope"))
    with pytest.raises(ObjectStoreAccessError, match="container 'nope' does not exist"):
        missing.exists("a.parquet")
    with pytest.raises(ObjectStoreAccessError, match="container 'nope' does not exist"):
        missing.list("")
    wrong_key = "QUJD" * 21 + "QQ=="
    denied = AzureBlobObjectStore(
        ContainerClient.from_connection_string(_connection_string(azurite_endpoint, wrong_key), "billing-exports")
    )
    with pytest.raises(ObjectStoreAccessError, match="access denied") as raised:
        denied.exists(BIG_KEY)
    assert "billing-exports/big/wide.parquet" in str(raised.value)
    assert wrong_key not in str(raised.value)
    with pytest.raises(ObjectStoreAccessError, match="access denied"):
        denied.list("")


def test_azure_blob_replaced_mid_read_fails(azure_container: tuple[ContainerClient, _AzureFetches]) -> None:
    container = azure_container[0]
    first = os.urandom(3 << 20)
    container.upload_blob("replace/me.bin", first)
    with AzureBlobObjectStore(container).open("replace/me.bin") as handle:
        assert handle.read(10) == first[:10]
        container.upload_blob("replace/me.bin", os.urandom(3 << 20), overwrite=True)
        with pytest.raises(ObjectChanged, match="replaced while being read"):
            handle.read()


def test_azure_uri_drops_a_sas_token() -> None:
    client = ContainerClient.from_container_url(
        "https://acct.blob.core.windows.net/exports?sv=2024-11-04&sp=rl&sig=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D"
    )
    assert AzureBlobObjectStore(client).uri == "https://acct.blob.core.windows.net/exports"


# --------------------------------------------------------------------------------------------- OCI


class OciDouble:
    """Recorded-response double of the OCI Object Storage REST API (see the module docstring): not OCI."""

    def __init__(self, namespace: str, bucket: str, page_size: int = 3) -> None:
        self.namespace = namespace
        self.bucket = bucket
        self.page_size = page_size
        self.objects: dict[str, bytes] = {}
        self.modified: dict[str, str] = {}  # RFC 3339, as OCI writes timeModified
        self.requests: list[tuple[str, str, dict]] = []  # (method, path + query, headers)
        self.truncate_next_gets = 0
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_HEAD(self) -> None:
                double.handle(self, "HEAD")

            def do_GET(self) -> None:
                double.handle(self, "GET")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    def put(self, name: str, data: bytes) -> None:
        self.objects[name] = data
        self.modified[name] = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def etag(self, name: str) -> str:
        return hashlib.md5(self.objects[name]).hexdigest()

    def _send(self, handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", **headers: str) -> None:
        handler.send_response(status)
        named = {name.replace("_", "-"): value for name, value in headers.items()}
        named.setdefault("Content-Length", str(len(body)))
        for name, value in named.items():
            handler.send_header(name, value)
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)

    def _error(self, handler: BaseHTTPRequestHandler, status: int, code: str, message: str) -> None:
        self._send(
            handler, status, json.dumps({"code": code, "message": message}).encode(), Content_Type="application/json"
        )

    def handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        self.requests.append((method, handler.path, dict(handler.headers)))
        authorization = handler.headers.get("authorization", "")
        if not (
            authorization.startswith("Signature ") and 'keyId="' in authorization and 'signature="' in authorization
        ):
            return self._error(
                handler, 401, "NotAuthenticated", "The required information to authenticate was not provided."
            )
        url = urlsplit(handler.path)
        parts = url.path.split("/")
        if len(parts) < 5 or parts[1] != "n" or parts[3] != "b":
            return self._error(handler, 404, "NotFound", "unknown path")
        namespace, bucket = unquote(parts[2]), unquote(parts[4])
        if (namespace, bucket) != (self.namespace, self.bucket):
            if method == "HEAD":
                return self._send(handler, 404)
            return self._error(
                handler,
                404,
                "BucketNotFound",
                f"Either the bucket named '{bucket}' does not exist in the namespace '{namespace}' or you are not "
                "authorized to access it",
            )
        if len(parts) == 5:
            return self._send(handler, 200, ETag="bucket-etag")
        if len(parts) == 6 and parts[5] == "o" and method == "GET":
            return self._list(handler, parse_qs(url.query))
        name = unquote("/".join(parts[6:]))
        if name not in self.objects:
            if method == "HEAD":
                return self._send(handler, 404)
            return self._error(
                handler, 404, "ObjectNotFound", f"The object '{name}' was not found in the bucket '{bucket}'"
            )
        data, etag = self.objects[name], self.etag(name)
        if method == "HEAD":
            return self._send(handler, 200, Content_Length=str(len(data)), ETag=etag)
        if handler.headers.get("if-match") not in (None, etag):
            return self._error(handler, 412, "IfMatchFailed", "The If-Match precondition failed")
        wanted = handler.headers.get("range")
        if wanted is None:
            return self._send(handler, 200, data, ETag=etag)
        first, last = (int(v) for v in wanted.removeprefix("bytes=").split("-"))
        body = data[first : last + 1]
        if self.truncate_next_gets:
            self.truncate_next_gets -= 1
            handler.send_response(206)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body[: len(body) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            return None
        return self._send(handler, 206, body, ETag=etag, Content_Range=f"bytes {first}-{last}/{len(data)}")

    def _list(self, handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
        prefix = query.get("prefix", [""])[0]
        start = query.get("start", [""])[0]
        fields = {f.strip().lower() for f in query.get("fields", ["name"])[0].split(",")}
        names = [n for n in sorted(self.objects) if n.startswith(prefix) and n >= start]
        page, rest = names[: self.page_size], names[self.page_size :]
        objects = [
            {
                "name": n,
                **({"size": len(self.objects[n])} if "size" in fields else {}),
                **({"timeModified": self.modified[n]} if "timemodified" in fields else {}),
            }
            for n in page
        ]
        document: dict = {"objects": objects, "prefixes": []}
        if rest:
            document["nextStartWith"] = rest[0]
        self._send(handler, 200, json.dumps(document).encode(), Content_Type="application/json")


@pytest.fixture(scope="module")
def oci_double(delivery: Path, big_parquet: Path) -> Iterator[OciDouble]:
    double = OciDouble("bling", TENANCY)
    for key, path in _files(delivery).items():
        double.put(key, path.read_bytes())
    double.put(BIG_KEY, big_parquet.read_bytes())
    for i in range(7):
        double.put(f"reports/cost/2026-11/report_{i:03d}.csv.gz", b"r" * (i + 10))
    double.put("reports/costly/other.csv.gz", b"other")
    thread = threading.Thread(target=double.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield double
    finally:
        double.server.shutdown()
        double.server.server_close()


@pytest.fixture(scope="module")
def oci_client(oci_double: OciDouble) -> object:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    config = {
        "user": "ocid1.user.oc1..aaaaaaaacloudcosttestuser",
        "fingerprint": "11:22:33:44:55:66:77:88:99:00:aa:bb:cc:dd:ee:ff",
        "key_content": pem,
        "tenancy": TENANCY,
        "region": "us-ashburn-1",
    }
    # Fewer, quicker retries than the SDK default (8 attempts within 600 s) keep a failing test short.
    retry_strategy = oci.retry.RetryStrategyBuilder(max_attempts=2, total_elapsed_time_seconds=10).get_retry_strategy()
    return oci.object_storage.ObjectStorageClient(
        config, service_endpoint=oci_double.endpoint, retry_strategy=retry_strategy
    )


def test_oci_list_follows_next_start_with(oci_double: OciDouble, oci_client: object) -> None:
    store = OciObjectStore(oci_client, namespace="bling", bucket=TENANCY)
    assert store.uri == f"oci://{TENANCY}@bling"
    before = len(oci_double.requests)
    listed = store.list("reports/cost/")
    assert [(i.key, i.size) for i in listed] == [
        (f"reports/cost/2026-11/report_{i:03d}.csv.gz", i + 10) for i in range(7)
    ]
    assert all(abs(i.modified - datetime.now(UTC)) < timedelta(minutes=10) for i in listed)  # timeModified
    pages = [urlsplit(path) for method, path, _ in oci_double.requests[before:] if method == "GET"]
    assert len(pages) == 3  # 3 + 3 + 1 objects
    assert [parse_qs(p.query).get("start") for p in pages] == [
        None,
        ["reports/cost/2026-11/report_003.csv.gz"],
        ["reports/cost/2026-11/report_006.csv.gz"],
    ]
    assert all(p.path == f"/n/bling/b/{TENANCY}/o" for p in pages)


def test_oci_exists_and_names_with_slashes(oci_double: OciDouble, oci_client: object) -> None:
    store = OciObjectStore(oci_client, namespace="bling", bucket=TENANCY)
    manifest = "cur/demo-cur2/metadata/BILLING_PERIOD=2026-11/demo-cur2-Manifest.json"
    assert store.exists(manifest)
    assert not store.exists(manifest.replace("2026-11", "2026-12"))
    assert not store.exists("cur/demo-cur2")
    with pytest.raises(ObjectNotFound, match=re.escape(f"oci://{TENANCY}@bling/nope.csv.gz: no such object")):
        store.open("nope.csv.gz")


def test_oci_open_is_seekable_and_reads_by_ranges(oci_double: OciDouble, oci_client: object, big_parquet: Path) -> None:
    store = OciObjectStore(oci_client, namespace="bling", bucket=TENANCY)
    before = len(oci_double.requests)
    _assert_seeks_and_reads(store, BIG_KEY, big_parquet)
    gets = [headers for method, path, headers in oci_double.requests[before:] if method == "GET"]
    assert gets and all("range" in {h.lower() for h in headers} for headers in gets)

    _assert_one_column_chunk_is_cheap(store, big_parquet, lambda: _range_lengths(oci_double.requests))


def _range_lengths(requests: list[tuple[str, str, dict]]) -> list[int]:
    lengths = []
    for method, _, headers in requests:
        wanted = {k.lower(): v for k, v in headers.items()}.get("range")
        if method == "GET" and wanted:
            first, last = (int(v) for v in wanted.removeprefix("bytes=").split("-"))
            lengths.append(last - first + 1)
    return lengths


def test_oci_data_export_reads_like_the_local_folder(oci_client: object, delivery: Path, tmp_path: Path) -> None:
    _assert_same_export_as_local(OciObjectStore(oci_client, namespace="bling", bucket=TENANCY), delivery, tmp_path)


def test_oci_broken_body_is_fetched_again(oci_double: OciDouble, oci_client: object, big_parquet: Path) -> None:
    store = OciObjectStore(oci_client, namespace="bling", bucket=TENANCY)
    data = big_parquet.read_bytes()
    with store.open(BIG_KEY) as handle:
        oci_double.truncate_next_gets = 1
        handle.seek(1000)
        assert handle.read(5000) == data[1000:6000]
    assert oci_double.truncate_next_gets == 0
    with store.open(BIG_KEY) as handle:
        oci_double.truncate_next_gets = 3  # every attempt breaks off: the error surfaces
        with pytest.raises(OSError):
            handle.read(10)
    oci_double.truncate_next_gets = 0


def test_oci_object_replaced_mid_read_fails(oci_double: OciDouble, oci_client: object) -> None:
    oci_double.put("replace/me.bin", os.urandom(3 << 20))
    store = OciObjectStore(oci_client, namespace="bling", bucket=TENANCY)
    with store.open("replace/me.bin") as handle:
        handle.read(10)
        oci_double.put("replace/me.bin", os.urandom(3 << 20))
        with pytest.raises(ObjectChanged, match="replaced while being read"):
            handle.read()


def test_oci_missing_bucket_is_a_permanent_error(oci_client: object) -> None:
    store = OciObjectStore(oci_client, namespace="bling", bucket="ocid1.tenancy.oc1..someoneelse")
    with pytest.raises(ObjectStoreAccessError, match="does not exist or these credentials may not read it") as listed:
        store.list("reports/")
    assert "oci://ocid1.tenancy.oc1..someoneelse@bling" in str(listed.value)
    with pytest.raises(ObjectStoreAccessError, match="does not exist or these credentials may not read it"):
        store.exists("reports/cost/a.csv.gz")


# ---- org files select these stores: a whole load through the registry, with the org's stored credential


def _point_org_at(config_dir: Path, provider: str, location: str, endpoint_url: str | None = None) -> None:
    import yaml

    org_file = config_dir / "orgs" / "demo.yml"
    org = yaml.safe_load(org_file.read_text())
    org["providers"] = {provider: org["providers"][provider]}
    org["providers"][provider]["export"]["location"] = location
    if endpoint_url:
        org["providers"][provider]["export"]["endpoint_url"] = endpoint_url
    org_file.write_text(yaml.safe_dump(org))


def _load_and_check(provider: str, day: date) -> dict:
    from cloudcost.pipeline.stages import (
        export_status,
        make_run_context,
        run_checks,
        run_convert_to_focus,
        run_land_raw,
    )

    assert export_status("demo", provider, day).complete
    run = make_run_context("demo", provider, day, "t", f"cloud_{provider}_cost_billing", day, datetime.now(UTC))
    landed = run_land_raw(run)
    run_convert_to_focus(run)
    assert run_checks(run)["mismatches"] == []
    return landed


def test_org_reads_its_azure_export_from_blob_storage(
    azurite_endpoint: str, config_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    """location azure://<account>/<container>: the registry builds the client from the stored connection string."""
    from decimal import Decimal

    from cloudcost.demo import azure_cost_details
    from cloudcost.vault import default_vault

    local = tmp_path / "azure"
    azure_cost_details.write_exports(local, [DAY])
    container = BlobServiceClient.from_connection_string(_connection_string(azurite_endpoint)).create_container(
        "org-cost-exports"
    )
    for key, path in _files(local).items():
        container.upload_blob(key, path.read_bytes())
    _point_org_at(config_dir, "azure", f"azure://{AZURITE_ACCOUNT}/org-cost-exports")
    credential = {"connection_string": _connection_string(azurite_endpoint)}
    default_vault().add("demo", "azure", "azure-demo-local", json.dumps(credential).encode())
    landed = _load_and_check("azure", DAY)
    assert landed["objects"] == 2
    expected = azure_cost_details.expected_billed_cost([DAY])
    assert sum(expected.values()) == Decimal(landed["billed_cost"])


def test_org_reads_its_oci_reports_from_object_storage(
    oci_double: OciDouble, config_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    """location oci://<tenancy OCID>@bling, against the recorded-response double (no OCI emulator exists);
    the client is built from the stored API-key config."""
    from decimal import Decimal

    from cloudcost.demo import oci_cost_reports
    from cloudcost.vault import default_vault

    local = tmp_path / "oci"
    oci_cost_reports.write_reports(local, [DAY], prefix="reports/cost-csv")
    for key, path in _files(local).items():
        oci_double.put(key, path.read_bytes())
    _point_org_at(config_dir, "oci", f"oci://{TENANCY}@bling", oci_double.endpoint)
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
        .decode()
    )
    credential = {
        "user": "ocid1.user.oc1..aaaaaaaacloudcosttestuser",
        "fingerprint": "11:22:33:44:55:66:77:88:99:00:aa:bb:cc:dd:ee:ff",
        "tenancy": TENANCY,
        "region": "us-ashburn-1",
        "key_content": pem,
    }
    default_vault().add("demo", "oci", "oci-demo-local", json.dumps(credential).encode())
    landed = _load_and_check("oci", DAY)
    assert landed["objects"] == 4
    expected = oci_cost_reports.expected_billed_cost([DAY])[(oci_cost_reports.TENANCY, DAY)]
    assert Decimal(landed["billed_cost"]) == expected


def test_org_credential_that_lacks_keys_is_named_not_shown(config_dir: Path, data_dir: Path) -> None:
    from cloudcost.config import load_org_by_slug
    from cloudcost.sources.registry import UnsupportedExport, object_store_for

    _point_org_at(config_dir, "oci", f"oci://{TENANCY}@bling")
    with pytest.raises(UnsupportedExport, match="lacks fingerprint, key_content") as error:
        object_store_for(
            load_org_by_slug("demo"),
            "oci",
            json.dumps({"user": "u", "tenancy": "t", "region": "r", "extra": SECRET}).encode(),
        )
    assert SECRET not in str(error.value)
