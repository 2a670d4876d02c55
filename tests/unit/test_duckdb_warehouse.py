"""The DuckDB warehouse's catalog and lookups (the ``Warehouse`` methods the pipeline uses instead of its own
``information_schema`` queries)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from cloudcost.config import DuckDBSettings
from cloudcost.identifiers import InvalidIdentifier
from cloudcost.lookups import lookup_files
from cloudcost.paths import WarehouseLayoutError, warehouse_file, warehouse_path
from cloudcost.warehouse.duckdb import DuckDBWarehouse


def test_catalog_names_the_tables_and_columns_of_one_dataset_only(data_dir: Path, tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    with warehouse.session("demo_prod") as session:
        session.execute('create schema "demo_prod"')
        session.execute('create schema "acme_prod"')
        session.execute('create table "demo_prod"."Load_State" (provider varchar, billing_day date, status varchar)')
        session.execute('create table "acme_prod"."other" (z int)')
        tables = warehouse.tables(session, "demo_prod")
        exists = [warehouse.table_exists(session, "demo_prod", t) for t in ("Load_State", "other")]
        columns = warehouse.columns(session, "demo_prod", "Load_State")
        none = warehouse.columns(session, "demo_prod", "missing")
    assert tables == {"load_state"}
    assert exists == [True, False]
    assert columns == ["provider", "billing_day", "status"]
    assert none == []


def test_register_lookups_loads_each_file_as_text_and_names_its_table(data_dir: Path, tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    name = "aws_regions"
    path = lookup_files()[name]
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line]
    with warehouse.session("demo_prod") as session:
        tables = warehouse.register_lookups(session, [name])
        (count,) = session.fetchall(f"select count(*) from {tables[name]}")[0]
        types = session.fetchall(
            "select distinct data_type from information_schema.columns where table_schema = ? and table_name = ?",
            ["cloudcost_ref", name],
        )
    assert tables == {name: f'"cloudcost_ref"."{name}"'}
    assert count == len(lines) - 1
    assert types == [("VARCHAR",)]


def test_ensure_table_adds_a_newer_schemas_nullable_columns_and_refuses_not_null_ones(
    data_dir: Path, tmp_path: Path
) -> None:
    import pytest

    from cloudcost.schemas import Column, TableSchema
    from cloudcost.warehouse.duckdb import SchemaMigrationNeeded

    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    old = TableSchema(table="t", columns=[Column(name="a", type="string", nullable=False)])
    newer = TableSchema(table="t", columns=[*old.columns, Column(name="b", type="decimal")])
    stricter = TableSchema(table="t", columns=[*newer.columns, Column(name="c", type="date", nullable=False)])
    with warehouse.session("demo_prod") as session:
        warehouse.ensure_table(session, "acme_prod", old)
        session.execute("""insert into "acme_prod"."t" values ('kept')""")
        warehouse.ensure_table(session, "demo_prod", old)  # same table name in another dataset: left alone
        warehouse.ensure_table(session, "acme_prod", newer)
        warehouse.ensure_table(session, "acme_prod", newer)  # twice: nothing more to add
        with pytest.raises(SchemaMigrationNeeded, match="lacks NOT NULL column c"):
            warehouse.ensure_table(session, "acme_prod", stricter)
        rows = session.fetchall('select * from "acme_prod"."t"')
        acme, demo = (warehouse.columns(session, d, "t") for d in ("acme_prod", "demo_prod"))
    assert (acme, demo, rows) == (["a", "b"], ["a"], [("kept", None)])


def test_each_org_dataset_has_a_file_of_its_own(tmp_path: Path) -> None:
    """A folder warehouse: a session for one dataset opens that dataset's file only; its turns queue beside it."""
    warehouse = DuckDBWarehouse(tmp_path / "warehouse")
    for dataset in ("demo_prod", "acme_prod"):
        with warehouse.session(dataset) as session:
            warehouse.ensure_dataset(session, dataset)
            session.execute(f'create table "{dataset}"."t" as select 1 as n')
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.duckdb"))
    assert files == ["warehouse/acme_prod/warehouse.duckdb", "warehouse/demo_prod/warehouse.duckdb"]
    connection = duckdb.connect(str(warehouse.file_for("demo_prod")), read_only=True)
    try:
        schemas = {s for (s,) in connection.execute("select schema_name from duckdb_schemas()").fetchall()}
    finally:
        connection.close()
    assert "demo_prod" in schemas and "acme_prod" not in schemas, "an org's file holds no other org"
    assert (tmp_path / "warehouse" / "demo_prod" / "warehouse.duckdb.turns").is_dir(), "a queue per file"


def test_a_dataset_name_never_becomes_a_path(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "warehouse")
    with pytest.raises(InvalidIdentifier):
        warehouse.file_for("../elsewhere")


def test_a_single_file_warehouse_made_before_is_kept(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An existing ``data/warehouse.duckdb`` (every org in one file) stays the warehouse; without it, the folder."""
    monkeypatch.delenv("CLOUDCOST_WAREHOUSE", raising=False)
    assert warehouse_path() == data_dir / "warehouse"
    assert warehouse_file("demo_prod") == data_dir / "warehouse" / "demo_prod" / "warehouse.duckdb"
    duckdb.connect(str(data_dir / "warehouse.duckdb")).close()
    assert warehouse_path() == data_dir / "warehouse.duckdb"
    assert warehouse_file("demo_prod") == warehouse_file("acme_prod") == data_dir / "warehouse.duckdb"


def test_both_layouts_at_once_are_refused(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A single file appearing beside the per-org folder must not switch every task to it."""
    monkeypatch.delenv("CLOUDCOST_WAREHOUSE", raising=False)
    with DuckDBWarehouse(warehouse_path()).session("demo_prod"):  # the per-org folder, as a first run makes it
        pass
    (data_dir / "warehouse.duckdb").touch()
    with pytest.raises(WarehouseLayoutError, match="both exist"):
        warehouse_path()


@pytest.mark.parametrize("name", ["cost.db", "cost.ddb", "cost.duckdb"])
def test_a_configured_single_file_keeps_every_org(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDCOST_WAREHOUSE", str(tmp_path / name))
    assert warehouse_file("demo_prod") == warehouse_file("acme_prod") == tmp_path / name


def test_an_existing_file_is_one_file_whatever_its_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    duckdb.connect(str(tmp_path / "costs")).close()
    monkeypatch.setenv("CLOUDCOST_WAREHOUSE", str(tmp_path / "costs"))
    assert warehouse_file("demo_prod") == tmp_path / "costs"


def test_a_session_for_another_file_inside_a_session_is_refused(tmp_path: Path) -> None:
    """Two processes nesting two orgs' sessions in opposite orders would wait for each other until the timeout."""
    warehouse = DuckDBWarehouse(tmp_path / "warehouse", lock_wait_seconds=5)
    with warehouse.session("demo_prod"):
        with warehouse.session("demo_prod"):  # the same file: nested, fine
            pass
        with pytest.raises(RuntimeError, match="holds another file"), warehouse.session("acme_prod"):
            pass
    with warehouse.session("acme_prod"):  # and once the first is closed, fine
        pass


def test_concurrent_databases_spill_to_folders_of_their_own(tmp_path: Path) -> None:
    """DuckDB names spill files without a process id and deletes the ones in its folder when it closes: each
    database of each process gets its own folder, removed once it closes."""
    warehouse = DuckDBWarehouse(tmp_path / "warehouse", settings=DuckDBSettings(temp_directory=str(tmp_path / "spill")))
    with warehouse.session("demo_prod") as session:
        (setting,) = session.fetchall("select current_setting('temp_directory')")[0]
        assert setting == str(tmp_path / "spill" / f"{os.getpid()}-demo_prod")
    assert not (tmp_path / "spill" / f"{os.getpid()}-demo_prod").exists(), "removed once the database closed"
