"""A stub of ``google.cloud.bigquery.Client`` for tests: no network, records every call.

It answers at the client library's API level (``query``, ``load_table_from_file``, ``get_table``,
``delete_table``, ``get_routine``) and receives the real library objects (``QueryJobConfig`` with
``ScalarQueryParameter``, ``LoadJobConfig``, ``SchemaField``), so tests check what the code would send to
BigQuery. It does not execute SQL: ``answer`` decides each query's rows. BigQuery's own behaviour (SQL
semantics, the REST wire format) is not exercised here.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from google.api_core.exceptions import NotFound
from google.cloud import bigquery
from google.cloud.bigquery import Row


@dataclass
class StubJob:
    rows: list[tuple] = field(default_factory=list)
    num_dml_affected_rows: int | None = None
    session_id: str | None = None
    batches: list[pa.RecordBatch] = field(default_factory=list)

    @property
    def session_info(self) -> Any:
        return type("SessionInfo", (), {"session_id": self.session_id})()

    def result(self) -> StubJob:
        return self

    def __iter__(self):
        """Rows as the library gives them: ``google.cloud.bigquery.Row``."""
        return iter(Row(values, {f"f{i}": i for i in range(len(values))}) for values in self.rows)

    def to_arrow_iterable(self):
        return iter(self.batches)


@dataclass
class Query:
    sql: str
    config: bigquery.QueryJobConfig | None

    @property
    def params(self) -> dict[str | None, Any]:
        return {
            p.name: p.values if isinstance(p, bigquery.ArrayQueryParameter) else p.value
            for p in (self.config.query_parameters if self.config else [])
        }

    @property
    def session(self) -> str | None:
        props = (self.config.connection_properties if self.config else None) or []
        return next((p.value for p in props if p.key == "session_id"), None)


class StubClient:
    """Records calls; ``answer(sql, config)`` returns a StubJob or raises (default: an empty result)."""

    def __init__(self, answer: Callable[[str, Any], StubJob] | None = None, tables: dict | None = None) -> None:
        self.answer = answer or (lambda sql, config: StubJob())
        self.queries: list[Query] = []
        self.loads: list[tuple[str, bigquery.LoadJobConfig, bytes]] = []
        self.deleted: list[str] = []
        self.tables: dict[str, list[bigquery.SchemaField]] = tables or {}
        self.routines: dict[str, str] = {}

    def query(self, sql: str, job_config: bigquery.QueryJobConfig | None = None, location: str | None = None):
        self.queries.append(Query(sql, job_config))
        job = self.answer(sql, job_config)
        if job_config is not None and job_config.create_session:
            job.session_id = "session-1"
        return job

    def load_table_from_file(self, handle, destination: str, job_config=None, location=None) -> StubJob:
        self.loads.append((destination, job_config, handle.read()))
        return StubJob()

    def get_table(self, ref: str) -> bigquery.Table:
        if ref not in self.tables:
            raise NotFound(f"Not found: Table {ref}")
        return bigquery.Table(ref, schema=self.tables[ref])

    def delete_table(self, ref: str, not_found_ok: bool = False) -> None:
        self.deleted.append(ref)

    def get_routine(self, ref: str) -> Any:
        if ref not in self.routines:
            raise NotFound(f"Not found: Routine {ref}")
        return type("Routine", (), {"description": self.routines[ref]})()

    def loaded_table(self, index: int = 0) -> pa.Table:
        return pq.read_table(io.BytesIO(self.loads[index][2]))
