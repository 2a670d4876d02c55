"""Run a unit of warehouse work again when BigQuery cancelled its transaction for another writer's.

BigQuery's "Multi-statement transactions" page (https://cloud.google.com/bigquery/docs/transactions, section
"Transaction concurrency") says that while a transaction mutates (updates or deletes) rows of a table, no other
transaction or DML statement mutating that table runs at the same time: a conflicting *transaction* is cancelled,
while a conflicting DML statement outside any transaction is queued. The cancelled job fails with HTTP 400
(``google.api_core.exceptions.BadRequest``) and the message "Transaction is aborted due to concurrent update
against table <table>. Transaction ID: ..." (the convert procedure's ``EXCEPTION`` handler rolls back and raises
``@@error.message``, so its CALL fails with the same text).

The providers of one org share tables (FOCUS 1.3/1.4, billing periods, ledger, load state) and the days of one org
share its rollup and evaluation tables, so concurrent runs (the nightly DAGs, a backfill) cancel one another. A
cancelled transaction is rolled back whole, so the unit that opened it (one CALL of the convert procedure, one
landing, one rollup refresh) can simply run again, after a jittered, growing pause, within a bound; nothing else
is retried. ``BigQueryWarehouse.retry_conflicts`` calls this; DuckDB never cancels a transaction this way.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import tenacity

log = logging.getLogger(__name__)

T = TypeVar("T")

_ABORTED = "Transaction is aborted due to concurrent update"
_TABLE = re.compile(r"concurrent update against table ([\w.:`-]+?)\.?(?:\s|$)")


class ConcurrentUpdateRetriesExhausted(RuntimeError):
    """Another run kept winning the same tables for longer than the retry bound."""


@dataclass(frozen=True)
class RetryBound:
    """How long to keep trying: at most ``attempts`` runs within about ``seconds``, waiting a random time up to
    ``first_wait`` doubled after each abort (capped at ``max_wait``) so competing runs spread out; no wait
    that would end past ``seconds`` is started."""

    attempts: int = 5
    seconds: float = 120.0
    first_wait: float = 5.0
    max_wait: float = 60.0


DEFAULT_BOUND = RetryBound()


def is_concurrent_update(error: BaseException) -> bool:
    """Exactly BigQuery's transaction-conflict abort; every other error (another BadRequest included) is not."""
    try:
        from google.api_core.exceptions import BadRequest
    except ImportError:  # a DuckDB-only install: nothing to recognise
        return False
    return isinstance(error, BadRequest) and _ABORTED in str(error)


def conflicting_table(error: BaseException | None) -> str:
    """The table the other writer held, as BigQuery names it (no values, no credentials)."""
    match = _TABLE.search(str(error)) if error else None
    return match.group(1) if match else "a shared table"


def retry_concurrent_updates(
    work: Callable[[], T],
    what: str,
    bound: RetryBound = DEFAULT_BOUND,
    sleep: Callable[[float], None] | None = None,
) -> T:
    """``work()``, run again (whole) while BigQuery aborts it for a concurrent update, within ``bound``; ``what``
    names the unit in the log and the error. Any other error propagates at once. ``sleep`` is ``time.sleep``
    unless a test passes its own."""

    def before_sleep(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "%s: attempt %d of %d aborted by a concurrent update of %s; running it again in %.1fs.",
            what,
            state.attempt_number,
            bound.attempts,
            conflicting_table(error),
            wait,
        )

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(is_concurrent_update),
        stop=tenacity.stop_after_attempt(bound.attempts) | tenacity.stop_before_delay(bound.seconds),
        wait=tenacity.wait_random_exponential(multiplier=bound.first_wait, max=bound.max_wait),
        sleep=sleep or time.sleep,
        before_sleep=before_sleep,
    )
    try:
        return retrying(work)
    except tenacity.RetryError as gave_up:
        last = gave_up.last_attempt
        error = last.exception()
        raise ConcurrentUpdateRetriesExhausted(
            f"{what}: still aborted by a concurrent update of {conflicting_table(error)} "
            f"after {last.attempt_number} attempt(s); another run of the org keeps writing the same tables, run it "
            "again when that one has finished"
        ) from error
