"""Google Cloud Billing detailed export read where Google writes it: a BigQuery table.

``export.location: bigquery://<project>.<dataset>`` and ``export.name: <table>`` in the org file; the org's
stored gcp credential is the service account's JSON key. Every value reaches BigQuery as a query
parameter (``@day``, ``@partition_start``, ...); only the validated table name is part of the SQL text.

The export table is partitioned by ``_PARTITIONTIME`` (when rows were exported), so each query limits it to
``[day - 1, day + late_days]``: a usage day's rows are exported from that day on, late ones within days.
The watermark is the day's ``MAX(export_time)`` (status and source version), and the rows read are those
exported up to that watermark, so the slice loaded is the version recorded.

Throttling and transient errors (429, 500, 502, 503, 504) are retried with bounded exponential backoff;
access denied or a missing table fails at once, naming the org, the provider and the table, never a key.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Any, TypeVar

from cloudcost.sources.base import BadExport, Delivery, DeliveryFile, ExportStatus
from cloudcost.sources.completeness import day_closed, require_complete
from cloudcost.sources.store_errors import ObjectStoreAccessError

log = logging.getLogger(__name__)
T = TypeVar("T")
_PROJECT = re.compile(r"^[a-z][a-z0-9\-]{4,28}[a-z0-9]$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,1023}$")
MAX_ATTEMPTS = 5
LATE_DAYS = 10


class ExportAccessError(ObjectStoreAccessError):
    """Permanent: the export table is missing or the service account may not read it."""


def _retryable() -> tuple[type[BaseException], ...]:
    from google.api_core import exceptions as gax

    return (
        gax.TooManyRequests,
        gax.InternalServerError,
        gax.BadGateway,
        gax.ServiceUnavailable,
        gax.GatewayTimeout,
    )


def _permanent() -> tuple[type[BaseException], ...]:
    from google.api_core import exceptions as gax

    return (gax.Forbidden, gax.NotFound, gax.Unauthorized, gax.BadRequest)


def with_retries(
    call: Callable[[], T],
    what: str,
    attempts: int = MAX_ATTEMPTS,
    base_delay: float = 1.0,
    max_delay: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``call()``, again after 1, 2, 4, ... s (at most ``max_delay``) on throttling or transient errors, at most
    ``attempts`` times; a permanent error raises ``ExportAccessError`` at once with ``what`` in its message."""
    from google.auth.exceptions import RefreshError

    for attempt in range(1, attempts + 1):
        try:
            return call()
        except _permanent() as exc:
            code = getattr(exc, "code", "")
            reason = str(getattr(exc, "message", exc)).splitlines()[0][:300]
            raise ExportAccessError(f"{what}: {type(exc).__name__} ({code}): {reason}") from None
        except RefreshError:
            raise ExportAccessError(f"{what}: the service account's key was refused (token refresh failed)") from None
        except _retryable() as exc:
            if attempt == attempts:
                raise
            delay = min(max_delay, base_delay * 2 ** (attempt - 1))
            name = type(exc).__name__
            log.warning("%s: %s, attempt %d of %d, retrying in %.0f s", what, name, attempt, attempts, delay)
            sleep(delay)
    raise AssertionError("unreachable")


def bigquery_client(secret: bytes, org: str, default_project: str) -> Any:
    """A BigQuery client from the org's service-account JSON key; jobs run in the key's project (where it
    needs roles/bigquery.jobUser), else in the export's project. Errors name the org, never key material."""
    from google.cloud import bigquery
    from google.oauth2 import service_account

    try:
        info = json.loads(secret)
        credentials = service_account.Credentials.from_service_account_info(
            info, scopes=["https://www.googleapis.com/auth/bigquery.readonly"]
        )
    except (ValueError, TypeError, KeyError) as exc:
        missing = f" (missing key {exc.args[0]!r})" if isinstance(exc, KeyError) else ""
        raise ExportAccessError(
            f"org {org}, provider gcp: the stored credential is not a service account JSON key{missing}"
        ) from None
    return bigquery.Client(project=info.get("project_id") or default_project, credentials=credentials)


class GcpBigQueryExport:
    """One org's detailed billing export table, queried per usage day."""

    format = "detailed"

    def __init__(
        self,
        client: Any,
        org: str,
        project: str,
        dataset: str,
        table: str,
        lag_hours: float,
        late_days: int = LATE_DAYS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not _PROJECT.fullmatch(project) or not _NAME.fullmatch(dataset) or not _NAME.fullmatch(table):
            raise ValueError(f"org {org}: invalid BigQuery export table {project}.{dataset}.{table}")
        self.client = client
        self.org = org
        self.table = f"{project}.{dataset}.{table}"
        self.lag_hours = lag_hours
        self.late_days = late_days
        self.sleep = sleep

    @property
    def uri(self) -> str:
        return f"bigquery://{self.table}"

    def _what(self) -> str:
        return f"org {self.org}, provider gcp, table {self.table}"

    def _params(self, day: date) -> list[Any]:
        from google.cloud import bigquery

        start = datetime.combine(day, day_time(0), tzinfo=UTC)
        return [
            bigquery.ScalarQueryParameter("day", "DATE", day),
            bigquery.ScalarQueryParameter("partition_start", "TIMESTAMP", start - timedelta(days=1)),
            bigquery.ScalarQueryParameter("partition_end", "TIMESTAMP", start + timedelta(days=1 + self.late_days)),
        ]

    def _where(self) -> str:
        return (
            "_PARTITIONTIME >= @partition_start AND _PARTITIONTIME < @partition_end "
            "AND DATE(usage_start_time, 'UTC') = @day"
        )

    def watermark_sql(self) -> str:
        return f"SELECT MAX(export_time) AS watermark, COUNT(*) AS row_count FROM `{self.table}` WHERE {self._where()}"

    def rows_sql(self) -> str:
        return f"SELECT * FROM `{self.table}` WHERE {self._where()} AND export_time <= @watermark"

    def _query(self, sql: str, params: list[Any]) -> Any:
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(query_parameters=params, use_legacy_sql=False)
        return with_retries(lambda: self.client.query(sql, job_config=config).result(), self._what(), sleep=self.sleep)

    def watermark(self, day: date) -> tuple[datetime | None, int]:
        rows = list(self._query(self.watermark_sql(), self._params(day)))
        if not rows:
            return None, 0
        mark, count = rows[0][0], int(rows[0][1] or 0)
        if mark is not None and mark.tzinfo is None:
            mark = mark.replace(tzinfo=UTC)
        return mark, count

    def status(self, day: date) -> ExportStatus:
        mark, count = self.watermark(day)
        if count == 0 or mark is None:
            return ExportStatus(False, f"{self.uri}: no rows exported yet for usage day {day}")
        due = day_closed(day, self.lag_hours)
        if mark < due:
            return ExportStatus(
                False,
                f"{self.uri}: export_time watermark {mark.isoformat()} has not reached {due.isoformat()} "
                f"(day end + {self.lag_hours:g} h)",
                mark.isoformat(),
            )
        reason = f"watermark {mark.isoformat()} past day end + lag"
        return ExportStatus(True, reason, mark.isoformat(), (self.uri,), f"{count} rows")

    def deliveries(self, day: date) -> list[Delivery]:
        """The usage day's rows exported up to its watermark: the whole truth for that one day."""
        status = require_complete(self.status(day))
        rows = DeliveryFile(f"{self.uri}?usage_day={day.isoformat()}&watermark={status.version}")
        key = f"{self.uri}?usage_day={day.isoformat()}"
        return [Delivery(key, status.version or "", (rows,), (day, day), status.fingerprint)]

    def local_path(self, file: DeliveryFile, directory: Path) -> Path:
        """The day's rows exported up to the watermark, page by page into a local Parquet file (typed as
        BigQuery types them: FLOAT64 money arrives as a double, see ``sources/normalize.py``)."""
        import pyarrow.parquet as pq
        from google.cloud import bigquery

        query = dict(part.split("=", 1) for part in file.key.split("?", 1)[1].split("&"))
        day, mark = date.fromisoformat(query["usage_day"]), datetime.fromisoformat(query["watermark"])
        params = [*self._params(day), bigquery.ScalarQueryParameter("watermark", "TIMESTAMP", mark)]
        rows = self._query(self.rows_sql(), params)
        path = directory / f"gcp-{day.isoformat()}.parquet"
        writer = None
        try:
            for batch in rows.to_arrow_iterable():
                if writer is None:
                    writer = pq.ParquetWriter(path, batch.schema)
                writer.write_batch(batch)
        finally:
            if writer is not None:
                writer.close()
        if writer is None:  # the status query counted rows a moment ago
            raise BadExport(f"{self.uri}: usage day {day} returned no rows exported up to {mark.isoformat()}")
        path.chmod(0o600)
        return path
