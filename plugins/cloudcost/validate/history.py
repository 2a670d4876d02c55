"""The referee's memory: one row per rule and referee run in ``<org>_prod.focus_conformance_history``, and the
regressions it shows (a rule that passed in the previous run of the same FOCUS version and provider, failing now).

Comparing with the previous *other* run, and replacing a run's own rows when it is run again, keeps a cleared
or retried task from comparing a failure with itself and turning green.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice

from cloudcost.identifiers import qualified
from cloudcost.schemas import load_table_schema
from cloudcost.validate.results import FAIL, PASS
from cloudcost.warehouse.base import Session, Warehouse

HISTORY = "state/focus_conformance_history.yml"
_INSERT_ROWS = 500  # rows per insert statement: few statements, few enough bound parameters for BigQuery
_COLUMNS = (
    "referee_run_id",
    "judged_at",
    "focus_version",
    "provider",
    "dataset",
    "sampled_days",
    "rule_id",
    "result",
    "model_version",
)


class ConformanceRegressed(AssertionError):
    """A FOCUS rule that passed in the previous referee run fails now; one line per rule."""


@dataclass(frozen=True)
class JudgedSample:
    """What one referee run made of one provider's sampled days of one FOCUS version."""

    referee_run_id: str
    judged_at: datetime
    focus_version: str
    provider: str
    dataset: str
    days: tuple[date, ...]
    model_version: str
    results: dict[str, str] = field(default_factory=dict)  # rule id -> pass | fail | skipped | erratum

    @property
    def sampled_days(self) -> str:
        return ",".join(day.isoformat() for day in sorted(self.days))


@dataclass(frozen=True)
class Regression:
    focus_version: str
    provider: str
    rule_id: str
    days: str
    previous_run_id: str

    def line(self) -> str:
        return (
            f"FOCUS {self.focus_version} rule {self.rule_id} regressed for {self.provider} on {self.days}: "
            f"passed in referee run {self.previous_run_id}, fails now"
        )


def _chunks(rows: list[tuple], size: int) -> Iterator[list[tuple]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def previous_run(session: Session, dataset: str, version: str, provider: str, other_than: str) -> str | None:
    """The latest recorded referee run of ``version`` and ``provider`` other than ``other_than``."""
    rows = session.fetchall(
        f"select referee_run_id from {qualified(dataset, 'focus_conformance_history')} "
        "where focus_version = ? and provider = ? and referee_run_id <> ? "
        "group by referee_run_id order by max(judged_at) desc, referee_run_id desc limit 1",
        [version, provider, other_than],
    )
    return str(rows[0][0]) if rows else None


def results_of(session: Session, dataset: str, run_id: str, version: str, provider: str) -> dict[str, str]:
    rows = session.fetchall(
        f"select rule_id, result from {qualified(dataset, 'focus_conformance_history')} "
        "where referee_run_id = ? and focus_version = ? and provider = ?",
        [run_id, version, provider],
    )
    return {str(rule_id): str(result) for rule_id, result in rows}


def regressions(sample: JudgedSample, previous: dict[str, str], previous_run_id: str) -> list[Regression]:
    """Rules that passed in ``previous`` and fail in ``sample``; a rule failing in both is no regression."""
    return [
        Regression(sample.focus_version, sample.provider, rule_id, sample.sampled_days, previous_run_id)
        for rule_id, result in sorted(sample.results.items())
        if result == FAIL and previous.get(rule_id) == PASS
    ]


def record(warehouse: Warehouse, sample: JudgedSample) -> list[Regression]:
    """Store the sample's rows (replacing the run's own earlier rows) and return its regressions against the
    previous recorded run of the same version and provider (none on the first run: it is the baseline)."""
    schema = load_table_schema(HISTORY)
    table = qualified(sample.dataset, schema.table)
    rows = [
        (
            sample.referee_run_id,
            sample.judged_at,
            sample.focus_version,
            sample.provider,
            sample.dataset,
            sample.sampled_days,
            rule_id,
            result,
            sample.model_version,
        )
        for rule_id, result in sorted(sample.results.items())
    ]

    def store() -> tuple[str | None, dict[str, str]]:
        with warehouse.session() as session:
            warehouse.ensure_table(session, sample.dataset, schema)
            with warehouse.transaction(session):
                before = previous_run(
                    session, sample.dataset, sample.focus_version, sample.provider, sample.referee_run_id
                )
                previous = (
                    results_of(session, sample.dataset, before, sample.focus_version, sample.provider) if before else {}
                )
                session.execute(
                    f"delete from {table} where referee_run_id = ? and focus_version = ? and provider = ?",
                    [sample.referee_run_id, sample.focus_version, sample.provider],
                )
                placeholders = "(" + ", ".join("?" for _ in _COLUMNS) + ")"
                for chunk in _chunks(rows, _INSERT_ROWS):
                    session.execute(
                        f"insert into {table} ({', '.join(_COLUMNS)}) values {', '.join(placeholders for _ in chunk)}",
                        [value for row in chunk for value in row],
                    )
        return before, previous

    # the org's history is shared by its providers and versions: a referee run beside the nightly one (the
    # command line) can cancel this transaction (warehouse/conflicts.py)
    what = f"conformance history {sample.dataset} {sample.focus_version} {sample.provider}"
    before, previous = warehouse.retry_conflicts(store, what)
    return regressions(sample, previous, before) if before else []
