"""The AWS DAG run through Airflow itself (`airflow dags test`), then the warehouse checked.

Each run is a real Airflow DAG run against the session's SQLite metadata database; the test process
only prepares the landing zone and reads the results.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from cloudcost.demo.aws_cur2 import expected_billed_cost, write_delivery
from cloudcost.paths import landing_dir, warehouse_file, warehouse_path
from cloudcost.vault import default_vault
from tests.conftest import REPO, VENV_BIN
from tests.helpers import RESTATE_TASKS, load_day

pytestmark = [pytest.mark.airflow, pytest.mark.usefixtures("demo_credentials")]
DAG_ID = "cloud_aws_cost_billing"
DAY = date(2026, 11, 2)


def dags_test(day: date, conf: dict, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "airflow"), "dags", "test", DAG_ID, day.isoformat(), "-c", json.dumps(conf)],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def focus_slice(day: date) -> tuple[int, Decimal, set[tuple]]:
    connection = duckdb.connect(str(warehouse_file("demo_prod")), read_only=True)
    try:
        count, billed = connection.execute(
            "select count(*), sum(BilledCost) from demo_prod.cost_data_standard_1_3 where x_ingestion_date = ?", [day]
        ).fetchone()
        lineage = set(
            connection.execute(
                "select distinct x_pipeline_id, x_credential_id, x_run_id, x_pipeline_run_date "
                "from demo_prod.cost_data_standard_1_3 where x_ingestion_date = ? "
                "union select distinct x_pipeline_id, x_credential_id, x_run_id, x_pipeline_run_date "
                "from demo_prod.cloud_aws_billing_raw_daily where ingestion_date = ?",
                [day, day],
            ).fetchall()
        )
        return count, billed, lineage
    finally:
        connection.close()


def task_states(airflow_home: Path, run_id: str) -> dict[str, str]:
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        rows = db.execute(
            "select task_id, state from task_instance where dag_id = ? and run_id = ?", (DAG_ID, run_id)
        ).fetchall()
    return dict(rows)


def mapped_states(airflow_home: Path, run_id: str, task_like: str) -> dict[tuple[str, int], str]:
    """(task id, map index) -> state of the run's task instances whose id is LIKE ``task_like``."""
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        rows = db.execute(
            "select task_id, map_index, state from task_instance where dag_id = ? and run_id = ? and task_id like ?",
            (DAG_ID, run_id, task_like),
        ).fetchall()
    return {(task_id, index): state for task_id, index, state in rows}


def run_id_of(output: str) -> str:
    marker = "run_id="
    line = next(line for line in output.splitlines() if "DagRun Finished" in line)
    return line.split(marker, 1)[1].split(",", 1)[0]


def _files_containing(root: Path, needle: bytes) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_dag_lands_converts_and_reconciles_one_day(airflow_home: Path, data_dir: Path) -> None:
    secret = f"cloudcost-leak-canary-{uuid.uuid4().hex}"
    default_vault().rotate("demo", "aws", "aws-demo-local", secret.encode())
    write_delivery(landing_dir("demo", "aws"), [date(2026, 11, 1), DAY, date(2026, 11, 3)])
    first = dags_test(DAY, {"org_slug": "demo"})
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    # the run decrypted the secret (land_raw fails without it), yet it is nowhere: not in the task logs, the
    # Airflow metadata database (XCom, params, rendered fields), the warehouse, or the vault file's plaintext.
    # `airflow dags test` streams the task logs to its own output, which is searched first.
    assert secret not in first.stdout + first.stderr
    assert _files_containing(airflow_home, secret.encode()) == []
    assert _files_containing(data_dir, secret.encode()) == []
    assert default_vault().decrypt("demo", "aws", "aws-demo-local").reveal() == secret.encode()
    count, billed, lineage = focus_slice(DAY)
    assert count > 1000
    assert billed == expected_billed_cost([DAY])[("111111111111", DAY)]
    run_id = run_id_of(first.stdout + first.stderr)
    assert lineage == {(DAG_ID, "aws-demo-local", run_id, DAY)}, "every raw and FOCUS row carries the run's lineage"
    assert focus_slice(date(2026, 11, 1))[0] == 0, "a run loads its own billing day only"
    connection = duckdb.connect(str(warehouse_file("demo_prod")), read_only=True)
    try:
        state = connection.execute(
            "select status, focus_rows, billed_cost, run_id, source_version from demo_prod.load_state "
            "where provider = 'aws' and billing_day = ?",
            [DAY],
        ).fetchall()
    finally:
        connection.close()
    assert len(state) == 1 and state[0][:4] == ("succeeded", count, billed, run_id) and state[0][4]
    # nothing restated: the restate group maps zero instances, skipped (not failed, not run)
    restate = mapped_states(airflow_home, run_id, "restate.%")
    assert restate == {(task_id, -1): "skipped" for task_id in RESTATE_TASKS}

    second = dags_test(DAY, {"org_slug": "demo"})
    assert second.returncode == 0, second.stdout[-4000:]
    again_count, again_billed, again_lineage = focus_slice(DAY)
    assert (again_count, again_billed) == (count, billed), "re-running a day replaces its slice exactly"
    # the delivery was landed once, by the first run, and its rows keep that lineage into FOCUS; the second run
    # converted, checked and recorded the day again
    assert again_lineage == lineage
    connection = duckdb.connect(str(warehouse_file("demo_prod")), read_only=True)
    try:
        recorded_by = connection.execute(
            "select run_id from demo_prod.load_state where provider = 'aws' and billing_day = ?", [DAY]
        ).fetchall()
    finally:
        connection.close()
    assert recorded_by == [(run_id_of(second.stdout + second.stderr),)]

    from cloudcost.airflow.run_counts import airflow_run_counts  # the health figure reads these runs from Airflow's DB

    succeeded, finished = airflow_run_counts(datetime(2000, 1, 1, tzinfo=UTC))
    assert succeeded >= 1 and finished >= succeeded  # `dags test` of the same day reuses its DagRun row


def test_failed_load_fails_the_run_and_stops_downstream(airflow_home: Path, data_dir: Path, config_dir: Path) -> None:
    billing = config_dir / "cloud" / "aws" / "cost" / "billing.yml"
    config = yaml.safe_load(billing.read_text())
    config["dag"]["retries"] = 0  # fail at once instead of waiting for the retry delay
    billing.write_text(yaml.safe_dump(config))
    write_delivery(landing_dir("demo", "aws"), [DAY])
    data_file = next(landing_dir("demo", "aws").rglob("*.parquet"))
    data_file.write_bytes(data_file.read_bytes()[: data_file.stat().st_size // 2])  # a half-delivered file

    result = dags_test(DAY, {"org_slug": "demo"})
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "demo-cur2-00001.snappy.parquet: cannot be read" in output
    states = task_states(airflow_home, run_id_of(output))
    assert states["org.land_raw"] == "failed"
    assert states["org.convert_to_focus"] == "upstream_failed"
    assert states["org.check"] == "upstream_failed"
    assert states["org.record"] == "upstream_failed"
    assert states["org.recheck_window"] == "upstream_failed"
    connection = duckdb.connect(str(warehouse_file("demo_prod")), read_only=True)
    try:
        raw_rows = connection.execute("select count(*) from demo_prod.cloud_aws_billing_raw_daily").fetchone()[0]
        focus_tables = connection.execute(
            "select count(*) from information_schema.tables where table_name = 'cost_data_standard_1_3'"
        ).fetchone()[0]
    finally:
        connection.close()
    assert raw_rows == 0, "the failed load wrote nothing"
    assert focus_tables == 0, "convert_to_focus never ran"


def test_invalid_org_param_is_refused(airflow_home: Path, data_dir: Path) -> None:
    result = dags_test(DAY, {"org_slug": "demo; drop schema demo_prod"})
    assert result.returncode != 0
    assert "org_slug" in result.stdout + result.stderr
    assert not warehouse_path().exists()


def test_demo_run_records_when_its_runs_really_started_and_names_them(airflow_home: Path, data_dir: Path) -> None:
    """``cloudcost demo run`` (``dag.test`` per day): the UI's duration is the run's own, not "since the
    logical date" as ``dag.test`` records it, and the run's note names its org and day."""
    write_delivery(landing_dir("demo", "aws"), [DAY, date(2026, 11, 3)])
    before = datetime.now(UTC)
    code = f"from cloudcost.airflow.demo_runs import run_days; run_days([{DAG_ID!r}], [{DAY!r}], 'demo')"
    env = {**os.environ, "PYTHONPATH": str(REPO / "plugins")}
    code = "import datetime; " + code  # DAY!r is datetime.date(...)
    result = subprocess.run(
        [str(VENV_BIN / "python"), "-c", code], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        start, end, note = db.execute(
            "select r.start_date, r.end_date, n.content from dag_run r left join dag_run_note n on n.dag_run_id = r.id "
            "where r.dag_id = ? order by r.id desc limit 1",
            (DAG_ID,),
        ).fetchone()
    started, ended = (datetime.fromisoformat(t).replace(tzinfo=UTC) for t in (start, end))
    assert before <= started <= ended, (before, started, ended)
    assert note == f"demo · {DAY}"


def test_restated_days_are_reloaded_as_mapped_task_instances(
    airflow_home: Path, data_dir: Path, config_dir: Path
) -> None:
    """Two loaded days restated: the next night's run reloads each as its own instance of the ``restate`` group.
    One day's check failing (injected in the run's process) fails that instance and its record only, and the
    run; the other day is reloaded, and the failed day stays refused by the rollup gate."""
    billing = config_dir / "cloud" / "aws" / "cost" / "billing.yml"
    config = yaml.safe_load(billing.read_text())
    config["dag"]["retries"] = 0  # fail at once instead of waiting for the retry delay
    billing.write_text(yaml.safe_dump(config))
    days = [date(2026, 11, 1), DAY, date(2026, 11, 3)]
    write_delivery(landing_dir("demo", "aws"), days)
    for day in days[:2]:
        load_day("aws", day)
    write_delivery(landing_dir("demo", "aws"), days, seed=8)  # AWS restates the month

    code = (
        "import datetime, cloudcost.pipeline.stages as stages\n"
        "from cloudcost.airflow.demo_runs import run_days\n"
        "real = stages.run_checks\n"
        "def failing(run):\n"
        "    if run.run.billing_day == datetime.date(2026, 11, 1):\n"
        "        raise RuntimeError('injected: the check of 2026-11-01 fails')\n"
        "    return real(run)\n"
        "stages.run_checks = failing\n"
        f"run_days([{DAG_ID!r}], [datetime.date(2026, 11, 3)], 'demo')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "plugins")}
    result = subprocess.run(
        [str(VENV_BIN / "python"), "-c", code], env=env, capture_output=True, text=True, timeout=600
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "cloud_aws_cost_billing for 2026-11-03 ended in state failed" in output
    assert "RuntimeError: injected: the check of 2026-11-01 fails" in output, "the failure is in the log, loudly"
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        (run_id,) = db.execute(
            "select run_id from dag_run where dag_id = ? and logical_date like '2026-11-03%'", (DAG_ID,)
        ).fetchone()
    states = mapped_states(airflow_home, run_id, "%")
    assert states[("org.recheck_window", 0)] == states[("restated_days", -1)] == "success"
    # one mapped instance per restated day, in day order: 0 is 2026-11-01, 1 is 2026-11-02
    assert {k: v for k, v in states.items() if k[0].startswith("restate.")} == {
        ("restate.land", 0): "success",
        ("restate.convert_to_focus", 0): "success",
        ("restate.check", 0): "failed",
        ("restate.record", 0): "upstream_failed",
        ("restate.land", 1): "success",
        ("restate.convert_to_focus", 1): "success",
        ("restate.check", 1): "success",
        ("restate.record", 1): "success",
    }, output[-3000:]
    connection = duckdb.connect(str(warehouse_file("demo_prod")), read_only=True)
    try:
        loads = dict(
            connection.execute(
                "select billing_day, (status, run_id) from demo_prod.load_state where provider = 'aws'"
            ).fetchall()
        )
    finally:
        connection.close()
    assert loads == {
        days[0]: ("landed", run_id),  # not converted and checked: the rollup gate refuses it until it is cleared
        days[1]: ("succeeded", run_id),
        days[2]: ("succeeded", run_id),
    }
    _, billed, lineage = focus_slice(DAY)
    assert billed == expected_billed_cost(days, seed=8)[("111111111111", DAY)], "the restated figures, to the cent"
    assert lineage == {(DAG_ID, "aws-demo-local", run_id, date(2026, 11, 3))}, "reloaded and landed by this run"
