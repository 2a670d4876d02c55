"""The referee's memory: one row per rule and referee run in ``<org>_prod.focus_conformance_history``, and the
regressions it shows (a rule failing now whose last result in the same FOCUS version, provider and dataset that was
not a fail was a pass or an erratum).

Comparing with the last result that was not a fail keeps a regression red on every run until the rule passes
again: against the latest run only, the run after a red one would compare fail with fail and turn green. Looking
only at *other* runs, and replacing a run's own rows when it is run again, keeps a cleared or retried task from
comparing a failure with itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice

from cloudcost.identifiers import qualified
from cloudcost.schemas import load_table_schema
from cloudcost.validate.conformance import COST_AND_USAGE, FocusDataset
from cloudcost.validate.results import EXCUSED, FAIL, PASS
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
    "focus_dataset",
)
_REGRESSES_FROM = {PASS: "passed", EXCUSED: "was an erratum"}  # a fail after these is a regression


class ConformanceRegressed(AssertionError):
    """A FOCUS rule that last passed (or was an erratum) fails now; one line per rule."""


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
    focus_dataset: FocusDataset = COST_AND_USAGE

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
    previous_result: str = PASS
    focus_dataset: FocusDataset = COST_AND_USAGE

    def line(self) -> str:
        dataset = "" if self.focus_dataset == COST_AND_USAGE else f" {self.focus_dataset}"
        return (
            f"FOCUS {self.focus_version}{dataset} rule {self.rule_id} regressed for {self.provider} on {self.days}: "
            f"{_REGRESSES_FROM[self.previous_result]} in referee run {self.previous_run_id}, fails now"
        )


def _chunks(rows: list[tuple], size: int) -> Iterator[list[tuple]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


PASSING = (PASS, EXCUSED)  # what a failing rule can regress from


def last_passing(session: Session, sample: JudgedSample) -> dict[str, tuple[str, str]]:
    """Rule id -> (result, referee run) of each rule's latest pass or erratum, in runs other than the sample's own,
    of the sample's version, provider and FOCUS dataset. A skip is not a pass: a rule with nothing to check in one
    sample (pass, skipped, fail) has still regressed, and stays red until it passes again."""
    rows = session.fetchall(
        "select rule_id, result, referee_run_id from ("
        "select rule_id, result, referee_run_id, "
        "row_number() over (partition by rule_id order by judged_at desc, referee_run_id desc) as latest "
        f"from {qualified(sample.dataset, 'focus_conformance_history')} "
        "where focus_version = ? and provider = ? and coalesce(focus_dataset, ?) = ? and referee_run_id <> ? "
        "and result in (?, ?)) as passing where latest = 1",
        [sample.focus_version, sample.provider, COST_AND_USAGE, sample.focus_dataset, sample.referee_run_id, *PASSING],
    )
    return {str(rule_id): (str(result), str(run_id)) for rule_id, result, run_id in rows}


def regressions(sample: JudgedSample, before: dict[str, tuple[str, str]]) -> list[Regression]:
    """Rules failing in ``sample`` that passed (or were excused by an erratum) in an earlier run; a rule that has
    never passed is no regression."""
    found = []
    for rule_id, result in sorted(sample.results.items()):
        previous, run_id = before.get(rule_id, ("", ""))
        if result == FAIL and previous in _REGRESSES_FROM:
            found.append(
                Regression(
                    sample.focus_version,
                    sample.provider,
                    rule_id,
                    sample.sampled_days,
                    run_id,
                    previous,
                    sample.focus_dataset,
                )
            )
    return found


def record(warehouse: Warehouse, sample: JudgedSample) -> list[Regression]:
    """Store the sample's rows (replacing the run's own earlier rows) and return its regressions against the
    earlier runs of the same version, provider and FOCUS dataset (none on the first run: it is the baseline)."""
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
            sample.focus_dataset,
        )
        for rule_id, result in sorted(sample.results.items())
    ]

    def store() -> dict[str, tuple[str, str]]:
        with warehouse.session(sample.dataset) as session:
            warehouse.ensure_table(session, sample.dataset, schema)
            with warehouse.transaction(session):
                before = last_passing(session, sample)
                session.execute(
                    f"delete from {table} where referee_run_id = ? and focus_version = ? and provider = ? "
                    "and coalesce(focus_dataset, ?) = ?",
                    [
                        sample.referee_run_id,
                        sample.focus_version,
                        sample.provider,
                        COST_AND_USAGE,
                        sample.focus_dataset,
                    ],
                )
                placeholders = "(" + ", ".join("?" for _ in _COLUMNS) + ")"
                for chunk in _chunks(rows, _INSERT_ROWS):
                    session.execute(
                        f"insert into {table} ({', '.join(_COLUMNS)}) values {', '.join(placeholders for _ in chunk)}",
                        [value for row in chunk for value in row],
                    )
        return before

    # the org's history is shared by its providers and versions: a referee run beside the nightly one (the
    # command line) can cancel this transaction (warehouse/conflicts.py)
    what = f"conformance history {sample.dataset} {sample.focus_version} {sample.provider} {sample.focus_dataset}"
    return regressions(sample, warehouse.retry_conflicts(store, what))


def raise_if_regressed(found: list[Regression]) -> None:
    """Fail the referee run, one line per regressed rule, once everything is recorded."""
    if found:
        raise ConformanceRegressed("\n".join(regression.line() for regression in found))
