"""`cloudcost warehouse-split`: a one-file warehouse made before per-org files becomes one file per org, every row
and constraint kept, the old file renamed only after the counts agree."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from cloudcost.cli import main
from cloudcost.paths import warehouse_file, warehouse_path
from cloudcost.schemas import load_table_schema
from cloudcost.warehouse.duckdb import DuckDBWarehouse, register_lookups
from cloudcost.warehouse.split import SplitRefused, split_warehouse

LOAD_STATE = load_table_schema("state/load_state.yml")


def _one_file_warehouse(path: Path, orgs: dict[str, int]) -> None:
    """Every org a schema of ``path`` with ``rows`` load_state rows, and the lookups, as the old layout made it."""
    warehouse = DuckDBWarehouse(path)
    with warehouse.session("cloudcost_ref") as session:
        register_lookups(session, ["aws_regions"])
        for dataset, rows in orgs.items():
            warehouse.ensure_table(session, dataset, LOAD_STATE)
            for day in range(1, rows + 1):
                session.execute(
                    f"insert into {dataset}.load_state (provider, billing_day, status, source_format, raw_rows, "
                    "focus_rows, billed_cost, run_id, loaded_at) values ('aws', ?, 'succeeded', 'cur2', 1, 1, ?, "
                    "'old', now())",
                    [date(2026, 11, day), Decimal("1.2345678901")],
                )


def test_every_org_gets_its_file_with_every_row(data_dir: Path, config_dir: Path) -> None:
    shared = data_dir / "warehouse.duckdb"
    _one_file_warehouse(shared, {"demo_prod": 3, "acme_prod": 2})
    assert warehouse_path() == shared, "before: the one file is the warehouse"

    copied = split_warehouse(shared, data_dir / "warehouse")

    assert copied == {"acme_prod": {"load_state": 2}, "demo_prod": {"load_state": 3}}
    assert not shared.exists() and len(list(data_dir.glob("warehouse.duckdb.split-*"))) == 1, "renamed, not lost"
    assert warehouse_path() == data_dir / "warehouse", "after: the per-org files are the warehouse"
    connection = duckdb.connect(str(warehouse_file("demo_prod")))
    try:
        assert connection.execute("select sum(billed_cost) from demo_prod.load_state").fetchone() == (
            Decimal("3.7037036703"),
        )
        assert connection.execute("select count(*) from cloudcost_ref.aws_regions").fetchone()[0] > 0
        schemas = {s for (s,) in connection.execute("select schema_name from duckdb_schemas()").fetchall()}
        assert "acme_prod" not in schemas
        with pytest.raises(duckdb.ConstraintException):  # NOT NULL kept: the table's own DDL, not a CTAS
            connection.execute("insert into demo_prod.load_state (provider) values ('aws')")
    finally:
        connection.close()


def test_a_folder_with_org_files_is_never_merged_into(data_dir: Path) -> None:
    shared = data_dir / "warehouse.duckdb"
    _one_file_warehouse(shared, {"demo_prod": 1})
    with DuckDBWarehouse(data_dir / "warehouse").session("acme_prod"):
        pass
    with pytest.raises(SplitRefused, match="already holds per-org files"):
        split_warehouse(shared, data_dir / "warehouse")
    assert shared.is_file(), "the old file is kept"


def test_the_command_prints_what_it_moved(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _one_file_warehouse(data_dir / "warehouse.duckdb", {"demo_prod": 2})
    assert main(["warehouse-split"]) == 0
    out = capsys.readouterr().out
    assert "demo_prod: 1 tables, 2 rows" in out
