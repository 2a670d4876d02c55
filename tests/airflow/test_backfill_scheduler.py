"""History through Airflow's own backfill, run by a real scheduler, dag-processor and api-server.

The test starts each Airflow component itself (LocalExecutor, SQLite metadata database in a fresh
AIRFLOW_HOME), unpauses the AWS DAG, creates a 5-day backfill for the demo org with
``airflow backfill create ... --dag-run-conf '{"org_slug": "demo"}'`` exactly as the README shows, waits
for it and checks the warehouse: each billing day loaded once by the run of that logical date, FOCUS
BilledCost equal to the raw rows and to the generator's own totals to the cent, no duplicate line item.
The same backfill is then created again, plain (Airflow skips days that already ran) and with
``--reprocess-behavior completed`` (the same runs are cleared and run again), and the warehouse must be
unchanged except for the load timestamps.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from cloudcost.demo.aws_cur2 import expected_billed_cost
from cloudcost.local_airflow import write_airflow_config
from tests.airflow.airflow_stack import AirflowStack, free_port, stack_env

pytestmark = pytest.mark.airflow

DAG_ID = "cloud_aws_cost_billing"
ORG = "demo"
FIRST, LAST = date(2026, 11, 1), date(2026, 11, 5)
DAYS = [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
# One day more is generated than backfilled: a demo export planted as still incomplete is always the last
# generated day, so every backfilled day is a complete one whatever the generator does with the last.
GENERATED_TO = LAST + timedelta(days=1)
CONF = {"org_slug": ORG}
BACKFILL_TIMEOUT = 900  # seconds; a 5-day backfill took 35 s on the idle 2-core machine, 1.5 min under load


@pytest.fixture
def stack(tmp_path: Path, data_dir: Path, config_dir: Path) -> Iterator[AirflowStack]:
    """A fresh Airflow home with demo exports for FIRST..GENERATED_TO and every component running.

    The JWT secret all components share and the execution API URL on the api-server's port come from the
    home's airflow.cfg (``cloudcost airflow-config``), as for ``make airflow-home``.
    """
    billing = config_dir / "cloud" / "aws" / "cost" / "billing.yml"
    config = yaml.safe_load(billing.read_text())
    config["dag"]["retries"] = 0  # a failing task fails the run at once instead of after the retry delay
    billing.write_text(yaml.safe_dump(config))

    home = tmp_path / "airflow"
    port = free_port()
    write_airflow_config(home, api_port=port)
    # CLOUDCOST_DATA_DIR and CLOUDCOST_CONFIG_DIR come from the fixtures above
    airflow = AirflowStack(home=home, port=port, env=stack_env(home))
    airflow.cloudcost("demo", "credentials", "--org", ORG)
    airflow.cloudcost("demo", "generate", "--org", ORG, "--from", FIRST.isoformat(), "--to", GENERATED_TO.isoformat())
    airflow.prepare()  # db migrate, and the provider API pools the DAG's tasks run in
    try:
        airflow.start_components()
        yield airflow
    finally:
        airflow.stop()


def backfill(stack: AirflowStack, *extra: str) -> int:
    """``airflow backfill create`` for FIRST..LAST and the org (the README's command); returns its id.

    As the README says for SQLite, the backfill is created while the DAG is paused and the DAG unpaused
    afterwards. On SQLite, the runs ``backfill create`` makes become visible one by one while the command
    is still writing; with the DAG unpaused the scheduler starts the first ones at once, holds the
    database's write lock meanwhile, and the command can fail with "database is locked". Airflow then
    deletes the half-made backfill, runs included, under the scheduler, which stopped with
    ObjectDeletedError when this test still created backfills unpaused. If the command meets
    another (short) write and fails all the same, it is simply given again (at most twice more): Airflow
    has removed what it had made.
    """
    dates = ["--from-date", FIRST.isoformat(), "--to-date", LAST.isoformat()]
    args = ["backfill", "create", "--dag-id", DAG_ID, *dates, "--dag-run-conf", json.dumps(CONF), *extra]
    before = stack.metadata("select coalesce(max(id), 0) from backfill where dag_id = ?", (DAG_ID,))[0][0]
    if not stack.metadata("select is_paused from dag where dag_id = ?", (DAG_ID,))[0][0]:
        stack.cli("dags", "pause", DAG_ID)
    for attempt in range(1, 4):
        started = time.monotonic()
        result = stack.cli(*args, check=False)
        output = result.stdout + result.stderr
        if result.returncode == 0 or "database is locked" not in output or attempt == 3:
            break
        print(f"backfill create attempt {attempt}: database is locked after {time.monotonic() - started:.1f} s")
        left = stack.metadata("select count(*) from backfill where dag_id = ? and id > ?", (DAG_ID, before))[0][0]
        assert left == 0, "Airflow left the failed backfill behind"
    assert result.returncode == 0, f"airflow {' '.join(args)}:\n{output[-6000:]}"
    created = stack.metadata("select id from backfill where dag_id = ? and id > ?", (DAG_ID, before))
    assert len(created) == 1, created
    stack.cli("dags", "unpause", DAG_ID)
    return created[0][0]


def wait_for_backfill(stack: AirflowStack, backfill_id: int) -> None:
    """The scheduler marks a backfill completed once none of its runs is queued or running."""
    stack.wait_for(
        f"backfill {backfill_id} to complete",
        lambda: stack.metadata("select completed_at from backfill where id = ?", (backfill_id,))[0][0],
        BACKFILL_TIMEOUT,
        interval=3,
    )


@dataclass(frozen=True)
class Run:
    run_id: str
    day: date
    interval: tuple[datetime, datetime]
    state: str
    run_type: str
    conf: dict
    clear_number: int
    backfill_id: int | None


def runs_by_day(stack: AirflowStack) -> dict[date, list[Run]]:
    rows = stack.metadata(
        "select run_id, logical_date, data_interval_start, data_interval_end, state, run_type, conf, "
        "clear_number, backfill_id from dag_run where dag_id = ? order by logical_date",
        (DAG_ID,),
    )
    runs: dict[date, list[Run]] = {}
    for run_id, logical, start, end, state, run_type, conf, clear_number, backfill_id in rows:
        logical_date = datetime.fromisoformat(logical)
        interval = (datetime.fromisoformat(start), datetime.fromisoformat(end))
        conf = json.loads(conf or "{}")
        run = Run(run_id, logical_date.date(), interval, state, run_type, conf, clear_number, backfill_id)
        runs.setdefault(run.day, []).append(run)
    return runs


def cli_run_states(stack: AirflowStack) -> dict[date, str]:
    """What a user sees: ``airflow dags list-runs -o json``, by logical date."""
    output = stack.cli("dags", "list-runs", DAG_ID, "-o", "json").stdout
    listed = json.loads(next(line for line in output.splitlines() if line.startswith("[")))
    return {datetime.fromisoformat(run["logical_date"]).date(): run["state"] for run in listed}


@dataclass(frozen=True)
class DaySlice:
    focus_rows: int
    focus_billed: Decimal
    raw_rows: int
    raw_billed: Decimal
    run_ids: frozenset[str]
    raw_run_ids: frozenset[str]
    recorded_by: str
    loaded_at: datetime


def warehouse_by_day(data_dir: Path) -> dict[date, DaySlice]:
    connection = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        connection.execute("SET TimeZone = 'UTC'")
        focus = connection.execute(
            "select x_ingestion_date, count(*), sum(BilledCost), list(distinct x_run_id), "
            "count(*) filter (where cast(ChargePeriodStart as date) <> x_ingestion_date) "
            "from demo_prod.cost_data_standard_1_3 where x_cloud_provider = 'aws' group by 1"
        ).fetchall()
        raw = {
            day: (rows, billed, set(run_ids))
            for day, rows, billed, run_ids in connection.execute(
                "select ingestion_date, count(*), sum(line_item_unblended_cost), list(distinct x_run_id) "
                "from demo_prod.cloud_aws_billing_raw_daily group by 1"
            ).fetchall()
        }
        duplicates = connection.execute(
            "select (select count(*) from (select x_source_line_item_id, x_ingestion_date "
            "from demo_prod.cost_data_standard_1_3 group by all having count(*) > 1)), "
            "(select count(*) from (select identity_line_item_id, ingestion_date "
            "from demo_prod.cloud_aws_billing_raw_daily group by all having count(*) > 1))"
        ).fetchone()
        states = connection.execute(
            "select billing_day, count(*), min(status), min(loaded_at), min(run_id) from demo_prod.load_state "
            "where provider = 'aws' group by 1"
        ).fetchall()
    finally:
        connection.close()

    assert duplicates == (0, 0), "a line item appears twice for a day (FOCUS, raw)"
    # the month's delivery lands whole, once: raw holds every day it covers, also days not converted (yet)
    assert sorted(raw) == [*DAYS, GENERATED_TO], "raw holds every day of the delivery"
    assert {day: (count, status) for day, count, status, *_ in states} == {d: (1, "succeeded") for d, *_ in focus}
    loaded_at = {day: at for day, _, _, at, _ in states}
    recorded_by = {day: run for day, *_, run in states}
    slices = {}
    for day, rows, billed, run_ids, off_day in focus:
        assert off_day == 0, f"{day}: FOCUS rows whose ChargePeriodStart is another day"
        raw_rows, raw_billed, raw_run_ids = raw[day]
        assert set(run_ids) == raw_run_ids, f"{day}: FOCUS rows carry the lineage of the raw rows they come from"
        slices[day] = DaySlice(
            rows,
            billed,
            raw_rows,
            raw_billed,
            frozenset(run_ids),
            frozenset(raw_run_ids),
            recorded_by[day],
            loaded_at[day],
        )
    return slices


def check_backfilled(
    stack: AirflowStack, data_dir: Path, backfill_id: int, clear_number: int, with_cli: bool = False
) -> dict[date, DaySlice]:
    """Every day ran once in ``backfill_id`` and succeeded; the warehouse holds exactly those days, exact."""
    runs = runs_by_day(stack)
    assert sorted(runs) == DAYS, "one run per billing day, nothing else (no scheduled run, no run for the extra day)"
    for day, (run, *others) in runs.items():
        assert not others, f"{day}: more than one run"
        assert run.state == "success", f"{day}: run {run.run_id} is {run.state}"
        origin = (run.run_type, run.backfill_id, run.conf, run.clear_number)
        assert origin == ("backfill", backfill_id, CONF, clear_number), f"{day}: {origin}"
        # the custom timetable: logical date = billing day, data interval = that UTC day
        assert [t.date() for t in run.interval] == [day, day + timedelta(days=1)]
        assert all(t.time() == datetime.min.time() for t in run.interval)
    if with_cli:
        assert cli_run_states(stack) == dict.fromkeys(DAYS, "success")

    slices = warehouse_by_day(data_dir)
    assert sorted(slices) == DAYS, "FOCUS and load_state hold exactly the backfilled days"
    landed_by = {run for piece in slices.values() for run in piece.raw_run_ids}
    backfill_runs = {runs[day][0].run_id for day in DAYS}
    assert len(landed_by) == 1 and landed_by <= backfill_runs, "one run of the backfill landed the delivery, once"
    expected = expected_billed_cost(DAYS)  # the generator's own totals, per (payer, day)
    for day, piece in slices.items():
        assert piece.recorded_by == runs[day][0].run_id, f"{day} was converted by the run of its own logical date"
        assert piece.focus_billed == piece.raw_billed, f"{day}: FOCUS BilledCost != raw unblended cost"
        assert piece.raw_billed == sum(cost for (_, d), cost in expected.items() if d == day), day
        assert piece.raw_rows > 1000 and piece.focus_rows > 1000
    return slices


def test_backfill_through_the_scheduler_loads_each_day_once(stack: AirflowStack, data_dir: Path) -> None:
    try:
        _backfill_and_rerun(stack, data_dir)
    except BaseException:
        print(stack.diagnostics([DAG_ID]))
        raise


def _backfill_and_rerun(stack: AirflowStack, data_dir: Path) -> None:
    stack.wait_until_ready([DAG_ID])

    first_id = backfill(stack)
    wait_for_backfill(stack, first_id)
    first = check_backfilled(stack, data_dir, first_id, clear_number=0)

    # The same command again: Airflow creates no run for a day that already has one (reprocess "none").
    plain_id = backfill(stack)
    assert plain_id > first_id
    wait_for_backfill(stack, plain_id)
    skipped = stack.metadata(
        "select logical_date, dag_run_id, exception_reason from backfill_dag_run where backfill_id = ?", (plain_id,)
    )
    assert sorted(datetime.fromisoformat(d).date() for d, _, _ in skipped) == DAYS
    assert {(run, reason) for _, run, reason in skipped} == {(None, "already exists")}
    assert warehouse_by_day(data_dir) == first, "a plain re-run changes nothing"

    # Re-running completed days: Airflow clears the existing runs (same run ids) and the scheduler runs them
    # again; each run converts its day again, so rows and totals are identical and only the stamps move. The
    # delivery is not read again: it is landed at this version already, so its raw rows keep their lineage.
    again_id = backfill(stack, "--reprocess-behavior", "completed")
    wait_for_backfill(stack, again_id)
    again = check_backfilled(stack, data_dir, again_id, clear_number=1, with_cli=True)
    for day in DAYS:
        before, after = first[day], again[day]
        unchanged = after == DaySlice(**{**vars(before), "loaded_at": after.loaded_at})
        assert unchanged, f"{day}: re-running the backfill changed the slice: {before} -> {after}"
        assert after.loaded_at > before.loaded_at, f"{day} was not loaded again"
