"""cost_rollups through Airflow (`airflow dags test`): the gate fails naming what is missing, then refreshes.

The loads are made with the billing DAGs' stage functions (their own DAG runs are tested elsewhere); the
rollup DAG itself runs in Airflow against the session's SQLite metadata database.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from cloudcost.cli import main
from cloudcost.config import load_org_by_slug
from cloudcost.demo import aws_cur2
from cloudcost.paths import landing_dir, warehouse_file
from cloudcost.pipeline.stages import make_run_context, run_checks, run_convert_to_focus, run_land_raw, run_record
from cloudcost.rollups.refresh import refresh_rollups
from cloudcost.warehouse import open_warehouse
from tests.conftest import VENV_BIN
from tests.helpers import load_day, recheck_and_reload, stage_run

pytestmark = [pytest.mark.airflow, pytest.mark.usefixtures("demo_credentials")]
DAY = date(2026, 11, 1)


def _dags_test(conf: dict, day: date = DAY) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "airflow"), "dags", "test", "cost_rollups", day.isoformat(), "-c", json.dumps(conf)],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=600,
    )


def _states(airflow_home: Path, output: str) -> dict[str, str]:
    line = next(line for line in output.splitlines() if "DagRun Finished" in line)
    run_id = line.split("run_id=", 1)[1].split(",", 1)[0]
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        rows = db.execute(
            "select task_id, state from task_instance where dag_id = 'cost_rollups' and run_id = ?", (run_id,)
        ).fetchall()
    return dict(rows)


@pytest.fixture
def quick_gate(config_dir: Path) -> None:
    """The gate pokes every 5 s and gives up after ~4 s, so a closed gate fails at once."""
    path = config_dir / "rollups.yml"
    config = yaml.safe_load(path.read_text())
    config["gate"] = {"mode": "poke", "poke_interval_seconds": 5, "timeout_hours": 0.001}
    config["dag"]["retries"] = 0
    path.write_text(yaml.safe_dump(config))


def test_closed_gate_fails_naming_each_missing_load_then_opens(
    airflow_home: Path, data_dir: Path, quick_gate: None
) -> None:
    assert main(["demo", "generate", "--org", "demo", "--from", str(DAY), "--to", str(DAY)]) == 0
    run = make_run_context("demo", "aws", DAY, "t", "cloud_aws_cost_billing", DAY, datetime.now(UTC))
    run_record(run, run_land_raw(run), (run_convert_to_focus(run), run_checks(run))[1])

    closed = _dags_test({"org_slug": "demo"})
    output = closed.stdout + closed.stderr
    assert closed.returncode != 0
    for provider in ("gcp", "azure", "oci"):
        assert f"{provider} 2026-11-01: no load recorded" in output
    assert "aws 2026-11-01" not in output.split("loads missing", 1)[1].split("\n", 1)[0]
    states = _states(airflow_home, output)
    assert states["org.wait_for_loads"] == "failed"
    assert states["org.refresh"] == states["org.evaluate"] == "upstream_failed"

    for provider in ("gcp", "azure", "oci"):
        run = make_run_context("demo", provider, DAY, "t", f"cloud_{provider}_cost_billing", DAY, datetime.now(UTC))
        landed = run_land_raw(run)
        run_convert_to_focus(run)
        run_record(run, landed, run_checks(run))
    opened = _dags_test({"org_slug": "demo"})
    assert opened.returncode == 0, opened.stdout[-3000:] + opened.stderr[-3000:]
    connection = duckdb.connect(str(warehouse_file("demo_prod")), read_only=True)
    try:
        providers = connection.execute(
            "select distinct provider from demo_prod.daily_cost_by_team where charge_day = ?", [DAY]
        ).fetchall()
        budgets = connection.execute(
            "select count(*) from demo_prod.budget_status where as_of_day = ?", [DAY]
        ).fetchone()[0]
    finally:
        connection.close()
    assert {p for (p,) in providers} == {"aws", "gcp", "azure", "oci"}
    assert budgets == 3  # the demo org's three budgets, evaluated


def _billed(table: str, amount: str, day_column: str, provider_column: str, day: date) -> dict[str, object]:
    connection = duckdb.connect(str(warehouse_file("demo_prod")), read_only=True)
    try:
        return dict(
            connection.execute(
                f"select {provider_column}, sum({amount}) from demo_prod.{table} where {day_column} = ? group by 1",
                [day],
            ).fetchall()
        )
    finally:
        connection.close()


def test_next_run_refreshes_the_rollups_of_a_day_restated_since(airflow_home: Path, data_dir: Path) -> None:
    """The billing DAG reloads a restated day but refreshes no rollup: the next day's cost_rollups run does, in
    ``refresh_restated``, after its own day's refresh."""
    next_day = DAY + timedelta(days=1)
    assert main(["demo", "generate", "--org", "demo", "--from", str(DAY), "--to", str(next_day)]) == 0
    for day in (DAY, next_day):
        for provider in ("aws", "gcp", "azure", "oci"):
            load_day(provider, day)
    refresh_rollups(open_warehouse(), load_org_by_slug("demo"), DAY, datetime.now(UTC))  # DAY's own rollup run
    rolled_up = _billed("daily_cost_by_team", "billed_cost", "charge_day", "provider", DAY)
    aws_cur2.write_delivery(landing_dir("demo", "aws"), [DAY, next_day], seed=8)  # AWS restates the month
    assert [r["billing_day"] for r in recheck_and_reload(stage_run("aws", next_day + timedelta(days=1)))] == [
        str(DAY),
        str(next_day),
    ]
    focus = _billed("cost_data_standard_1_3", "BilledCost", "x_ingestion_date", "x_cloud_provider", DAY)
    assert focus["aws"] != rolled_up["aws"], "the restatement changed the day's FOCUS slice"
    assert _billed("daily_cost_by_team", "billed_cost", "charge_day", "provider", DAY) == rolled_up, "not the reload"

    run = _dags_test({"org_slug": "demo"}, next_day)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    states = _states(airflow_home, output)
    assert states["org.refresh"] == states["org.refresh_restated"] == states["org.evaluate"] == "success"
    assert f"org demo: rollups of 1 restated day(s) of 1 in the window refreshed: {DAY}" in output
    assert _billed("daily_cost_by_team", "billed_cost", "charge_day", "provider", DAY) == focus, "to the cent"
