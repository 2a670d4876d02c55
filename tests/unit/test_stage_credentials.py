"""Every land_raw decrypts its org's credential first: without one, the stage fails and names it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from cloudcost.demo.aws_cur2 import write_delivery
from cloudcost.paths import landing_dir
from cloudcost.pipeline.stages import make_run_context, run_land_raw
from cloudcost.vault import CredentialNotFound, default_vault

DAY = date(2026, 11, 1)


def _run():
    return make_run_context("demo", "aws", DAY, "t", "cloud_aws_cost_billing", DAY, datetime(2026, 11, 23, tzinfo=UTC))


def test_land_raw_without_stored_credential_fails_naming_it(data_dir: Path) -> None:
    write_delivery(landing_dir("demo", "aws"), [DAY])
    with pytest.raises(CredentialNotFound) as error:
        run_land_raw(_run())
    assert "demo" in str(error.value) and "aws" in str(error.value) and "aws-demo-local" in str(error.value)


def test_land_raw_decrypts_the_org_credential(data_dir: Path, demo_credentials: list[str]) -> None:
    assert "aws/aws-demo-local" in demo_credentials
    write_delivery(landing_dir("demo", "aws"), [DAY])
    assert run_land_raw(_run())["rows"] > 0
    listed = default_vault().list("demo")
    assert {(c.provider, c.credential_id) for c in listed} >= {("aws", "aws-demo-local")}
