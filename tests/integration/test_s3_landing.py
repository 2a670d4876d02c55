"""An org whose AWS export lives in S3: the real stage path (vault -> boto3 -> land -> FOCUS) against moto's
S3 server on 127.0.0.1, a real HTTP S3 endpoint. Only the bucket is local."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
import yaml
from moto.server import ThreadedMotoServer

from cloudcost.demo.aws_cur2 import expected_billed_cost, write_delivery
from cloudcost.pipeline.stages import (
    export_status,
    make_run_context,
    run_checks,
    run_convert_to_focus,
    run_land_raw,
)
from cloudcost.sources.store_errors import ObjectStoreAccessError
from cloudcost.vault import default_vault

DAY = date(2026, 11, 2)
BUCKET = "acme-billing-exports"


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def org_in_s3(s3_endpoint: str, config_dir: Path, data_dir: Path, tmp_path: Path) -> str:
    """Upload a real delivery to the bucket and point the demo org at it (s3:// location, stored keys)."""
    local = tmp_path / "delivery"
    write_delivery(local, [DAY])
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIAORGKEY",
        aws_secret_access_key="org-secret-key",
    )
    client.create_bucket(Bucket=BUCKET)
    for path in local.rglob("*"):
        if path.is_file():
            client.upload_file(str(path), BUCKET, path.relative_to(local).as_posix())
    org_file = config_dir / "orgs" / "demo.yml"
    org = yaml.safe_load(org_file.read_text())
    org["providers"] = {"aws": org["providers"]["aws"]}
    org["providers"]["aws"]["export"].update(location=f"s3://{BUCKET}", endpoint_url=s3_endpoint)
    org_file.write_text(yaml.safe_dump(org))
    keys = {"aws_access_key_id": "AKIAORGKEY", "aws_secret_access_key": "org-secret-key", "region": "us-east-1"}
    default_vault().add("demo", "aws", "aws-demo-local", json.dumps(keys).encode())
    return s3_endpoint


def _run():
    return make_run_context("demo", "aws", DAY, "t", "cloud_aws_cost_billing", DAY, datetime(2026, 11, 23, tzinfo=UTC))


def test_export_in_s3_lands_and_reconciles(org_in_s3: str) -> None:
    landed = run_land_raw(_run())
    assert landed["objects"] == 1 and landed["rows"] > 1000
    assert Decimal(landed["billed_cost"]) == expected_billed_cost([DAY])[("111111111111", DAY)]
    run_convert_to_focus(_run())
    assert run_checks(_run())["mismatches"] == []


def test_sensor_lists_the_bucket_with_the_orgs_credential(org_in_s3: str, tmp_path: Path) -> None:
    """wait_for_export decrypts the org's credential too, and reads the manifest's LastModified from S3."""
    assert export_status("demo", "aws", DAY).complete
    assert "manifest not delivered yet" in export_status("demo", "aws", date(2026, 12, 1)).reason
    # a delivery uploaded now holds today only in part: S3's LastModified (now) is before today's end + lag
    today, local = datetime.now(UTC).date(), tmp_path / "today"
    write_delivery(local, [today])
    client = boto3.client(
        "s3", endpoint_url=org_in_s3, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    for path in local.rglob("*"):
        if path.is_file():
            client.upload_file(str(path), BUCKET, path.relative_to(local).as_posix())
    status = export_status("demo", "aws", today)
    assert not status.complete and "may still be partial" in status.reason, status.reason


def test_credential_that_is_not_aws_keys_is_named_not_shown(org_in_s3: str) -> None:
    default_vault().rotate("demo", "aws", "aws-demo-local", b'{"token": "not-aws-keys-value"}')
    with pytest.raises(Exception, match="missing key 'aws_access_key_id'") as error:
        run_land_raw(_run())
    assert "not-aws-keys-value" not in str(error.value)


def test_missing_bucket_fails_at_once_naming_it(org_in_s3: str, s3_endpoint: str) -> None:
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIAORGKEY",
        aws_secret_access_key="org-secret-key",
    )
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)
    with pytest.raises(ObjectStoreAccessError, match=BUCKET) as error:
        run_land_raw(_run())
    assert "org-secret-key" not in str(error.value)
