"""History through Airflow's own backfill, run by a real scheduler, dag-processor and api-server.

The test starts each Airflow component itself (LocalExecutor, SQLite metadata database in a fresh
AIRFLOW_HOME), unpauses the AWS DAG, creates a 5-day backfill for the demo org with
``airflow backfill create ... --dag-run-conf '{"org_slug": "demo"}'`` exactly as the README shows, waits
for it and checks the warehouse: each billing day loaded once by the run of that logical date, FOCUS
BilledCost equal to the raw rows and to the generator's own totals to the cent, no duplicate line item.
The same backfill is then created again, plain (Airflow skips days that already ran) and with
``--reprocess-behavior completed`` (the same runs are cleared and run again), and the warehouse must be
unchanged except for the load timestamps.

The same stack (shared by the module; a second org, ``acme``, is configured) then takes a re-run of one
backfilled day for ``demo`` through ``POST /api/v2/dags/{dag_id}/dagRuns`` with ``billing_day`` and no logical
date, as the trigger form and the README's curl send it, and shows Airflow's trigger form in headless Chromium.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from cloudcost.airflow.local_home import write_airflow_config
from cloudcost.demo.aws_cur2 import expected_billed_cost
from tests.airflow.airflow_stack import AirflowStack, ApiClient, free_port, stack_env
from tests.airflow.browser import chromium_page
from tests.conftest import REPO

pytestmark = pytest.mark.airflow

DAG_ID = "cloud_aws_cost_billing"
ORG = "demo"
FIRST, LAST = date(2026, 11, 1), date(2026, 11, 5)
DAYS = [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
# One day more is generated than backfilled: a demo export planted as still incomplete is always the last
# generated day, so every backfilled day is a complete one whatever the generator does with the last.
GENERATED_TO = LAST + timedelta(days=1)
CONF = {"org_slug": ORG}
ACME = (
    "slug: acme\ndisplay_name: Acme Inc\nenvironment: prod\nproviders:\n"
    "  aws:\n    credential_id: acme-aws\n    export: {format: cur2, prefix: cur, name: acme-cur2}\n"
)
BACKFILL_TIMEOUT = 900  # seconds; a 5-day backfill took 35 s on the idle 2-core machine, 1.5 min under load


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's CLOUDCOST_DATA_DIR, shared by its tests as the stack is (given to the components)."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of configs/ with a second valid org, ``acme`` (AWS, no exports): a run for ``demo`` must not
    touch it, and the trigger form must offer it."""
    path = tmp_path_factory.mktemp("configs")
    shutil.copytree(REPO / "configs", path, dirs_exist_ok=True)
    (path / "orgs" / "acme.yml").write_text(ACME)
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, data_dir: Path, config_dir: Path) -> Iterator[AirflowStack]:
    """A fresh Airflow home with demo exports for FIRST..GENERATED_TO and every component running, shared by
    the tests of this module (starting it is most of their cost).

    The JWT secret all components share and the execution API URL on the api-server's port come from the
    home's airflow.cfg (``cloudcost airflow-config``), as for ``make airflow-home``.
    """
    billing = config_dir / "cloud" / "aws" / "cost" / "billing.yml"
    config = yaml.safe_load(billing.read_text())
    config["dag"]["retries"] = 0  # a failing task fails the run at once instead of after the retry delay
    billing.write_text(yaml.safe_dump(config))

    home = tmp_path_factory.mktemp("airflow")
    port = free_port()
    write_airflow_config(home, api_port=port)
    env = stack_env(home, CLOUDCOST_DATA_DIR=str(data_dir), CLOUDCOST_CONFIG_DIR=str(config_dir))
    airflow = AirflowStack(home=home, port=port, env=env)
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
    connection = duckdb.connect(str(data_dir / "warehouse" / "demo_prod" / "warehouse.duckdb"), read_only=True)
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


# --------------------------------------------------------------------------- re-running one org's day

RERUN_DAY = date(2026, 11, 2)
RUN_TIMEOUT = 600


def loaded_day(stack: AirflowStack) -> Run:
    """The run whose logical date is RERUN_DAY, succeeded (the backfill's; made here if this test runs alone)."""
    runs = runs_by_day(stack).get(RERUN_DAY) or []
    if not runs:
        wait_for_backfill(stack, backfill(stack))
        runs = runs_by_day(stack)[RERUN_DAY]
    (run,) = runs
    assert run.state == "success", run
    return run


def test_rerun_of_a_loaded_day_for_one_org_through_the_rest_api(stack: AirflowStack, data_dir: Path) -> None:
    """What the trigger form and the README's curl send: the day in the conf, no logical date. 200, the run
    loads that day for that org only, its note names both, and the DAG's pause state is left alone."""
    try:
        _rerun_one_org(stack, data_dir)
    except BaseException:
        print(stack.diagnostics([DAG_ID]))
        raise


def _rerun_one_org(stack: AirflowStack, data_dir: Path) -> None:
    stack.wait_until_ready([DAG_ID])
    before = loaded_day(stack)
    loaded = warehouse_by_day(data_dir)
    sliced = loaded[RERUN_DAY]
    client = ApiClient(f"http://127.0.0.1:{stack.port}", "admin", "")  # the local home: everyone is admin
    paused = client.request("GET", f"/api/v2/dags/{DAG_ID}")[1]["is_paused"]
    runs_path = f"/api/v2/dags/{DAG_ID}/dagRuns"

    # the logical date of a day that already ran is taken: Airflow refuses a second run for it
    status, body = client.request(
        "POST", runs_path, {"logical_date": f"{RERUN_DAY}T00:00:00Z", "conf": {"org_slug": ORG}}
    )
    assert status == 409, body
    bad = {"logical_date": None, "conf": {"org_slug": ORG, "billing_day": "2026-13-01"}}
    status, body = client.request("POST", runs_path, bad)
    assert status == 400 and "billing_day" in str(body), (status, body)  # the param's date format

    status, run = client.request(
        "POST", runs_path, {"logical_date": None, "conf": {"org_slug": ORG, "billing_day": RERUN_DAY.isoformat()}}
    )
    assert status == 200, run
    assert (run["logical_date"], run["data_interval_start"], run["run_type"]) == (None, None, "manual"), run
    run_id = run["dag_run_id"]

    def finished() -> dict | None:
        now = client.request("GET", f"{runs_path}/{run_id}")[1]
        return now if now["state"] in ("success", "failed") else None

    done = stack.wait_for(f"run {run_id} to finish", finished, RUN_TIMEOUT, interval=3)
    assert done["state"] == "success", done
    assert done["note"] == f"{ORG} · {RERUN_DAY}", "the run is named by the org and day it loads"

    select = client.request("GET", f"{runs_path}/{run_id}/taskInstances/select_orgs/xcomEntries/return_value")[1]
    assert select["value"] in ([ORG], json.dumps([ORG])), select  # acme is configured too, and left out
    mapped = stack.metadata(
        "select count(*) from task_instance where dag_id = ? and run_id = ? and task_id = 'org.land_raw'",
        (DAG_ID, run_id),
    )
    assert mapped == [(1,)], "one org's task group ran"
    assert client.request("GET", f"/api/v2/dags/{DAG_ID}")[1]["is_paused"] == paused, "pause state changed"

    again = warehouse_by_day(data_dir)
    assert again[RERUN_DAY].recorded_by == run_id, "the re-run converted and recorded the day"
    assert again[RERUN_DAY].loaded_at > sliced.loaded_at
    unchanged = {"recorded_by": again[RERUN_DAY].recorded_by, "loaded_at": again[RERUN_DAY].loaded_at}
    assert again[RERUN_DAY] == DaySlice(**{**vars(sliced), **unchanged}), "same rows and totals"
    others = {day: piece for day, piece in again.items() if day != RERUN_DAY}
    assert others == {day: piece for day, piece in loaded.items() if day != RERUN_DAY}, "no other day touched"
    assert not (data_dir / "warehouse" / "acme_prod").exists(), "nothing was written for the other org"
    own = stack.metadata(
        "select state, clear_number from dag_run where dag_id = ? and run_id = ?", (DAG_ID, before.run_id)
    )
    assert own == [(before.state, before.clear_number)], "the day's own run is untouched (not cleared)"

    # the run list (what the UI's list and grid read): every run names its org and day
    listed = client.request("GET", f"{runs_path}?order_by=run_after")[1]["dag_runs"]
    notes = {item["dag_run_id"]: item["note"] for item in listed}
    assert notes[run_id] == f"{ORG} · {RERUN_DAY}"
    assert notes[before.run_id] == f"{ORG} · {RERUN_DAY}", "backfilled runs are named too"


# --------------------------------------------------------------------------- the trigger form

CHROMIUM = Path(os.environ.get("CLOUDCOST_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOT = REPO / "docs" / "img" / "trigger-form.png"  # written with CLOUDCOST_UPDATE_SCREENSHOTS=1
FIND_BUTTON = "[...document.querySelectorAll('button')].find(b => b.textContent.trim() === {text!r})"
DIALOG_TEXT = "[...document.querySelectorAll('[role=dialog]')].map(d => d.innerText).join('\\n')"
ORG_CONTROL = """(() => {
  const control = document.querySelector('#element_org_slug');  // react-select's container
  if (!control || !control.innerText.trim()) return null;
  control.scrollIntoView({block: 'center'});
  const box = control.getBoundingClientRect();
  return {x: box.x + box.width / 2, y: box.y + box.height / 2, shown: control.innerText};
})()"""
OPTIONS = "[...document.querySelectorAll('#element_org_slug [role=option]')].map(o => o.innerText.trim())"


def test_trigger_form_shows_all_orgs_for_empty_and_the_orgs_by_name(stack: AirflowStack, tmp_path: Path) -> None:
    """Airflow's own trigger form, in headless Chromium: the Org field reads "all orgs" (not "null") and lists
    each configured org by its display name. The screenshot is kept in docs/img/ for the README."""
    if not os.access(CHROMIUM, os.X_OK):
        message = f"{CHROMIUM} missing: run `make chromium`"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    stack.wait_until_ready([DAG_ID])
    with chromium_page(CHROMIUM, tmp_path / "profile", f"http://127.0.0.1:{stack.port}/dags/{DAG_ID}") as page:
        page.wait_for("the DAG page's Trigger button", f"!!{FIND_BUTTON.format(text='Trigger')}", timeout=90)
        page.evaluate(f"{FIND_BUTTON.format(text='Trigger')}.click()")
        control = page.wait_for("the form's Org field", ORG_CONTROL)
        dialog = page.evaluate(DIALOG_TEXT)
        assert "Org" in dialog and "Billing day" in dialog, dialog
        assert control["shown"].strip() == "all orgs", f"the empty Org field shows {control['shown']!r}"
        page.click(control["x"], control["y"])
        options = page.wait_for("the Org field's options", f"{OPTIONS}.length ? {OPTIONS} : null")
        page.screenshot(tmp_path / "trigger-form.png")
        if os.environ.get("CLOUDCOST_UPDATE_SCREENSHOTS") == "1":
            SCREENSHOT.parent.mkdir(exist_ok=True)
            shutil.copyfile(tmp_path / "trigger-form.png", SCREENSHOT)
    assert options == ["all orgs", "Acme Inc (acme)", "Demo Corp (demo)"], options
    assert not any(option.strip().lower() == "null" for option in options)
