"""The GCP export read from its BigQuery table, against the client stub (tests/unit/bigquery_stub.py):
parameterized SQL, the watermark, bounded retries, and permanent errors that name org, provider and table."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from google.api_core import exceptions as gax

from cloudcost.config import OrgConfig
from cloudcost.sources.gcp_bigquery import ExportAccessError, GcpBigQueryExport, with_retries
from cloudcost.sources.registry import open_export
from cloudcost.warehouse.bigquery_sql import parse_bigquery
from tests.unit.bigquery_stub import StubClient, StubJob

DAY = date(2026, 11, 2)
TABLE = ("billing-project", "billing_export", "gcp_billing_export_resource_v1_01A2B3_C4D5E6_F7A8B9")
MARK = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)


def _export(answer, sleeps: list[float] | None = None) -> tuple[GcpBigQueryExport, StubClient]:
    client = StubClient(answer)
    export = GcpBigQueryExport(client, "demo", *TABLE, lag_hours=6, sleep=(sleeps if sleeps is not None else []).append)
    return export, client


def test_status_queries_the_day_with_parameters_only() -> None:
    export, client = _export(lambda sql, config: StubJob(rows=[(MARK, 120)]))
    status = export.status(DAY)
    assert status.complete and status.version == MARK.isoformat()
    (query,) = client.queries
    parse_bigquery(query.sql)
    assert query.sql == (
        "SELECT MAX(export_time) AS watermark, COUNT(*) AS row_count FROM "
        "`billing-project.billing_export.gcp_billing_export_resource_v1_01A2B3_C4D5E6_F7A8B9` "
        "WHERE _PARTITIONTIME >= @partition_start AND _PARTITIONTIME < @partition_end "
        "AND DATE(usage_start_time, 'UTC') = @day"
    )
    assert "2026" not in query.sql
    assert query.params == {
        "day": DAY,
        "partition_start": datetime(2026, 11, 1, tzinfo=UTC),
        "partition_end": datetime(2026, 11, 13, tzinfo=UTC),
    }
    types = {p.name: p.type_ for p in query.config.query_parameters}
    assert types == {"day": "DATE", "partition_start": "TIMESTAMP", "partition_end": "TIMESTAMP"}


def test_status_waits_for_the_watermark_to_pass_day_end_plus_lag() -> None:
    export, _ = _export(lambda sql, config: StubJob(rows=[(datetime(2026, 11, 3, 5, 0, tzinfo=UTC), 10)]))
    status = export.status(DAY)
    assert not status.complete and "has not reached 2026-11-03T06:00:00+00:00" in status.reason
    export, _ = _export(lambda sql, config: StubJob(rows=[(None, 0)]))
    assert "no rows exported yet" in export.status(DAY).reason


def test_rows_are_those_exported_up_to_the_watermark_spooled_to_a_private_parquet_file(tmp_path: Path) -> None:
    batches = [pa.RecordBatch.from_pylist([{"cost": 1.5}, {"cost": 2.0}]), pa.RecordBatch.from_pylist([{"cost": 3.0}])]

    def answer(sql: str, config) -> StubJob:
        return StubJob(rows=[(MARK, 3)]) if "MAX(export_time)" in sql else StubJob(batches=batches)

    export, client = _export(answer)
    (delivery,) = export.deliveries(DAY)
    assert (delivery.key, delivery.version, delivery.days) == (
        "bigquery://" + ".".join(TABLE) + "?usage_day=2026-11-02",
        MARK.isoformat(),
        (DAY, DAY),
    )
    path = export.local_path(delivery.files[0], tmp_path)
    assert pq.read_table(path).column("cost").to_pylist() == [1.5, 2.0, 3.0]
    assert path.stat().st_mode & 0o777 == 0o600
    rows_query = client.queries[-1]
    parse_bigquery(rows_query.sql)
    assert rows_query.sql.endswith("AND export_time <= @watermark")
    assert rows_query.params["watermark"] == MARK


def test_throttling_is_retried_with_backoff_then_succeeds() -> None:
    outcomes = [gax.TooManyRequests("rate"), gax.ServiceUnavailable("busy"), StubJob(rows=[(MARK, 1)])]

    def answer(sql: str, config) -> StubJob:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    sleeps: list[float] = []
    export, client = _export(answer, sleeps)
    assert export.status(DAY).complete
    assert len(client.queries) == 3 and sleeps == [1.0, 2.0]


def test_retries_are_bounded() -> None:
    sleeps: list[float] = []

    def always_busy():
        raise gax.ServiceUnavailable("busy")

    with pytest.raises(gax.ServiceUnavailable):
        with_retries(always_busy, "org demo, provider gcp, table t", attempts=5, sleep=sleeps.append)
    assert sleeps == [1.0, 2.0, 4.0, 8.0]


@pytest.mark.parametrize("error", [gax.Forbidden("Access Denied: Table x: no permission"), gax.NotFound("Not found")])
def test_permanent_errors_fail_at_once_naming_org_provider_and_table(error: Exception) -> None:
    def answer(sql: str, config) -> StubJob:
        raise error

    sleeps: list[float] = []
    export, client = _export(answer, sleeps)
    with pytest.raises(ExportAccessError) as failure:
        export.status(DAY)
    message = str(failure.value)
    assert "org demo" in message and "provider gcp" in message and ".".join(TABLE) in message
    assert len(client.queries) == 1 and sleeps == []


def _org(location: str = "bigquery://billing-project.billing_export") -> OrgConfig:
    return OrgConfig.model_validate(
        {
            "slug": "acme",
            "display_name": "Acme",
            "providers": {
                "gcp": {
                    "credential_id": "gcp-acme",
                    "export": {"format": "detailed", "location": location, "name": TABLE[2]},
                }
            },
        }
    )


def test_registry_builds_the_bigquery_reader_from_the_service_account_key() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key = {
        "type": "service_account",
        "project_id": "finops-jobs",
        "private_key_id": "k1",
        "private_key": pem.decode(),
        "client_email": "cloudcost@finops-jobs.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    export = open_export(_org(), "gcp", json.dumps(key).encode())
    assert isinstance(export, GcpBigQueryExport)
    assert export.table == ".".join(TABLE) and export.client.project == "finops-jobs"


def test_a_credential_that_is_not_a_key_is_refused_without_echoing_it() -> None:
    with pytest.raises(ExportAccessError) as failure:
        open_export(_org(), "gcp", b"hunter2-not-json")
    assert "acme" in str(failure.value) and "hunter2" not in str(failure.value)
