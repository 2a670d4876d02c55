"""A load SIGKILLed in the middle of writing its slice leaves the previous slice intact.

The task process is played by a child Python process running the same stage function the DAG's
``land_raw`` task calls (``run_land_raw``). To kill it at a known point rather than at a random one,
the child pauses once DuckDB has inserted every row of the new delivery (after the DELETE of the days it
covers, inside the transaction, before it commits) and says so; the test then sends SIGKILL. The warehouse
must come back with the old slice, and the next run must land the new delivery with exact totals.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from cloudcost.demo.aws_cur2 import expected_billed_cost, write_delivery
from cloudcost.paths import landing_dir, warehouse_file
from cloudcost.pipeline.stages import make_run_context, run_checks, run_convert_to_focus, run_land_raw
from tests.conftest import REPO

DAY = date(2026, 11, 1)
PAYER = "111111111111"
SCALE = 60  # ~150 k rows: more than DuckDB keeps in memory before it writes row groups to the file

CHILD = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, date, datetime
    from cloudcost.pipeline import land_raw
    from cloudcost.pipeline.stages import make_run_context, run_land_raw

    def pausing_record_delivery(*args, **kwargs):
        print("MID-WRITE", flush=True)  # the delivery's rows are inserted, uncommitted
        time.sleep(600)

    land_raw.record_delivery = pausing_record_delivery
    day = date(2026, 11, 1)
    run_land_raw(make_run_context("demo", "aws", day, "killed", "cloud_aws_cost_billing", day, datetime.now(UTC)))
    print("FINISHED", flush=True)
    """
)


def _slice() -> tuple[int, Decimal, int, Decimal]:
    """(raw rows, raw billed, FOCUS rows, FOCUS billed) of the day."""
    connection = duckdb.connect(str(warehouse_file("demo_prod")), read_only=True)
    try:
        raw = connection.execute(
            "select count(*), sum(line_item_unblended_cost) from demo_prod.cloud_aws_billing_raw_daily "
            "where ingestion_date = ?",
            [DAY],
        ).fetchone()
        focus = connection.execute(
            "select count(*), sum(BilledCost) from demo_prod.cost_data_standard_1_3 where x_ingestion_date = ?",
            [DAY],
        ).fetchone()
        return raw[0], raw[1], focus[0], focus[1]
    finally:
        connection.close()


def _run(run_id: str) -> None:
    run = make_run_context("demo", "aws", DAY, run_id, "cloud_aws_cost_billing", DAY, datetime.now(UTC))
    run_land_raw(run)
    run_convert_to_focus(run)
    assert run_checks(run)["mismatches"] == []


def test_sigkill_mid_write_keeps_the_old_slice_and_the_next_run_is_exact(
    data_dir: Path, demo_credentials: list[str]
) -> None:
    write_delivery(landing_dir("demo", "aws"), [DAY])
    _run("first")
    before = _slice()
    assert before[1] == before[3] == expected_billed_cost([DAY])[(PAYER, DAY)]

    write_delivery(landing_dir("demo", "aws"), [DAY], scale=SCALE)  # a restated delivery, several batches
    env = os.environ | {"PYTHONPATH": f"{REPO / 'plugins'}{os.pathsep}{REPO}"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        line = child.stdout.readline().strip()
        assert line == "MID-WRITE", f"child did not reach the pause: {line!r} {child.stderr.read()[-2000:]}"
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()

    assert _slice() == before, "a killed load must leave the previous slice as it was"
    _run("after-kill")
    rows, raw_billed, _, focus_billed = _slice()
    assert rows == SCALE * before[0]
    assert raw_billed == focus_billed == expected_billed_cost([DAY], scale=SCALE)[(PAYER, DAY)]
