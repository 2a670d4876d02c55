"""Landing on DuckDB: each pending delivery's files inserted whole into the raw table, in the caller's transaction.

Files of one layout (same columns and types) are inserted by one statement that reads them all, so DuckDB reads
them in parallel (a gzipped CSV is read by one thread; an Azure run pair or a day's OCI reports are several).
Which delivery and file a row came from is joined in from a small per-file table of the connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cloudcost.core.results import Landed
from cloudcost.core.run_context import RunContext
from cloudcost.identifiers import qualified
from cloudcost.schemas import TableSchema, quote_column
from cloudcost.sources.bad_input import is_data_error, problem
from cloudcost.sources.base import Delivery, DeliveryFile
from cloudcost.sources.delivery_checks import check_count, refuse_identical_files
from cloudcost.sources.export_file import ExportFile, describe, first_line, layout, together
from cloudcost.sources.normalize import (
    FILE_COLUMN,
    FILES_VIEW,
    BadValue,
    check_required,
    json_keys,
    per_file,
    select_sql,
)
from cloudcost.sources.spool import spool_directory
from cloudcost.warehouse.lineage import RUN_PARAMETERS, lineage_parameters

if TYPE_CHECKING:
    from cloudcost.warehouse.base import LandingJob
    from cloudcost.warehouse.duckdb import DuckDBSession, DuckDBWarehouse


def land_deliveries(warehouse: DuckDBWarehouse, session: DuckDBSession, job: LandingJob) -> Landed:
    """Replace what each delivery covers by its rows, inside the caller's transaction (the pipeline's
    ``land_guarded`` records the ledger and judges the result before it commits)."""
    export, todo, schema, run = job.export, job.deliveries, job.schema, job.run
    if not todo:
        return Landed()
    table = qualified(job.dataset, schema.table)
    # Row order in the table carries no meaning. Reset on success only: after a failure the transaction is
    # aborted (a RESET would fail too) and the caller closes the connection with its rollback.
    session.execute("SET preserve_insertion_order = false")
    with spool_directory(warehouse.spool_directory) as directory:
        _delete_scopes(session, table, todo)
        entries = []
        for delivery in todo:
            for item in delivery.files:
                path = export.local_path(item, directory)
                file = describe(session.connection, path, item.key, json_keys(schema))
                check_required(schema, file, dict(item.constants))
                entries.append(FileToLand(delivery, item, file))
        groups: dict[tuple, list[FileToLand]] = {}
        for entry in entries:
            groups.setdefault((layout(entry.file), tuple(sorted(dict(entry.item.constants)))), []).append(entry)
        for group in groups.values():
            _insert_together(session, schema, table, run, group)
        counts = _landed_counts(session, table, run, entries)
        landed = {}
        for delivery in todo:
            files = [e for e in entries if e.delivery is delivery]
            for entry in files:
                check_count(entry.item, counts.get(entry.item.key, 0))
            refuse_identical_files(delivery, [(e.item.key, e.file.path) for e in files if counts.get(e.item.key, 0)])
            landed[delivery.key] = sum(counts.get(e.item.key, 0) for e in files)
    session.execute("RESET preserve_insertion_order")
    return Landed(landed)


@dataclass(frozen=True)
class FileToLand:
    """One delivered file and what DuckDB's reader learned of it: files of one layout are inserted together."""

    delivery: Delivery
    item: DeliveryFile
    file: ExportFile


def _delete_scopes(session: DuckDBSession, table: str, deliveries: Sequence[Delivery]) -> None:
    """What the deliveries replace: every row of their days, or the rows of their own files (one statement for
    all of those: a first run over a year of OCI reports deletes once, not once a report)."""
    for delivery in deliveries:
        if delivery.days is not None:
            session.execute(f"delete from {table} where ingestion_date between ? and ?", list(delivery.days))
    keys = [f.key for d in deliveries if d.days is None for f in d.files]
    if keys:
        session.execute(f"delete from {table} where x_source_object in ({', '.join('?' for _ in keys)})", keys)


def _register_files(session: DuckDBSession, group: list[FileToLand]) -> None:
    """``FILES_VIEW``, one row per file: its local path, object key, delivery version, day bounds and the reader's
    constants (a temporary table of this connection, values bound as parameters)."""
    constants = list(dict(group[0].item.constants))
    columns = [per_file(name) for name in ("path", "key", "version")]
    columns += [f"{per_file(name)} date" for name in ("first_day", "last_day")]
    columns += [per_file(f"const_{name}") for name in constants]
    typed = ", ".join(c if c.endswith(" date") else f"{c} varchar" for c in columns)
    session.execute(f"create or replace temp table {FILES_VIEW} ({typed})")
    rows = [
        [
            str(e.file.path),
            e.item.key,
            e.delivery.version,
            *(e.delivery.days or (None, None)),
            *(dict(e.item.constants)[name] for name in constants),
        ]
        for e in group
    ]
    session.connection.executemany(f"insert into {FILES_VIEW} values ({', '.join('?' for _ in columns)})", rows)


def _insert_together(
    session: DuckDBSession, schema: TableSchema, table: str, run: RunContext, group: list[FileToLand]
) -> None:
    constants = dict(group[0].item.constants)
    together_file = together([e.file for e in group], FILE_COLUMN)
    targets, select = select_sql(schema, together_file, constants, days_bound=True, files_view=True)
    columns = ", ".join(quote_column(t) for t in targets)
    lineage = lineage_parameters(run, group[0].item, group[0].delivery)
    params = {name: lineage[name] for name in RUN_PARAMETERS}
    _register_files(session, group)
    try:
        session.execute(f"insert into {table} ({columns}) {select}", params)
    except Exception as exc:
        if not is_data_error(exc):
            raise
        raise _explain_group(exc, schema, group) from None


def _explain_group(exc: Exception, schema: TableSchema, group: list[FileToLand]) -> Exception:
    """Which file of the statement failed, and where: each is read alone until one shows the problem."""
    for entry in group:
        found = problem(str(exc), entry.file, schema, dict(entry.item.constants), entry.delivery)
        if found is not None:
            return found
    return BadValue(f"{group[0].file.name}: {first_line(exc)}")


def _landed_counts(session: DuckDBSession, table: str, run: RunContext, entries: list[FileToLand]) -> dict[str, int]:
    """Rows this run inserted, per object (the run's ingestion time prunes the table to its new row groups)."""
    keys = sorted({e.item.key for e in entries})
    counted = session.fetchall(
        f"select x_source_object, count(*) from {table} where x_ingested_at = ? and x_run_id = ? "
        f"and x_source_object in ({', '.join('?' for _ in keys)}) group by 1",
        [run.ingested_at, run.run_id, *keys],
    )
    return {key: int(count) for key, count in counted}
