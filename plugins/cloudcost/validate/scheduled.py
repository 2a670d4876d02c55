"""The referee on a schedule: each provider's latest succeeded days, every FOCUS version the org has a table of and
every dataset of that version (``run.DATASETS``: 1.4's Billing Period too), judged in full, remembered per rule
(``history.py``), and a loud failure, run after run, while a rule that passed before (or was an erratum) fails.

A sample of recent days, not the whole table: a mapping change shows on the days loaded since it, and the
validator's cost grows with the rows it reads. The sample ends on or before ``as_of`` so a backfilled run judges
the days that were latest then.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from cloudcost.config import Provider, load_org_by_slug
from cloudcost.identifiers import OrgSlug, qualified
from cloudcost.pipeline.focus_rules import versions_to_check
from cloudcost.validate.conformance import COST_AND_USAGE, FocusDataset
from cloudcost.validate.history import JudgedSample, Regression, raise_if_regressed, record
from cloudcost.validate.referee import DEFAULT_TIMEOUT_SECONDS
from cloudcost.validate.results import FAIL
from cloudcost.validate.run import DATASETS, VersionJudge, validate_provider
from cloudcost.validate.verdict import NO_DATA
from cloudcost.warehouse import open_warehouse
from cloudcost.warehouse.base import Warehouse

SAMPLE_DAYS = 3  # each provider's latest succeeded billing days the referee reads
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Run:
    """Which referee run is recording, and when it judged."""

    referee_run_id: str
    judged_at: datetime


@dataclass(frozen=True)
class SampleVerdict:
    """One provider, version and FOCUS dataset's judged sample, for the task's log and XCom."""

    focus_version: str
    provider: str
    days: str
    status: str
    rules: int
    failed: int
    regressed: int
    focus_dataset: FocusDataset = COST_AND_USAGE

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def latest_succeeded_days(warehouse: Warehouse, dataset: str, provider: str, as_of: date, count: int) -> list[date]:
    """The provider's last ``count`` billing days on or before ``as_of`` whose load succeeded, oldest first."""
    with warehouse.session(dataset) as session:
        if not warehouse.table_exists(session, dataset, "load_state"):
            return []
        rows = session.fetchall(
            f"select billing_day from {qualified(dataset, 'load_state')} "
            "where provider = ? and status = 'succeeded' and billing_day <= ? order by billing_day desc limit ?",
            [provider, as_of, count],
        )
    return sorted(day for (day,) in rows)


def judge_sample(
    warehouse: Warehouse,
    dataset: str,
    provider: Provider,
    judge: VersionJudge,
    days: list[date],
    workdir: Path,
    run: Run,
    focus_dataset: FocusDataset = COST_AND_USAGE,
) -> tuple[SampleVerdict, list[Regression]] | None:
    """Referee one provider's days of the judge's version and FOCUS dataset, record its rules; ``None`` when the
    days have no rows."""
    verdict = validate_provider(
        warehouse,
        dataset,
        provider,
        judge,
        workdir,
        details=False,
        include_custom=True,
        days=days,
        focus_dataset=focus_dataset,
    )
    if verdict.status == NO_DATA:
        log.info("FOCUS %s %s %s: no rows on %s", judge.version, focus_dataset, provider, days)
        return None
    sample = JudgedSample(
        run.referee_run_id,
        run.judged_at,
        judge.version,
        provider,
        dataset,
        tuple(days),
        judge.model.version,
        verdict.results,
        focus_dataset,
    )
    found = record(warehouse, sample)
    failed = sum(1 for result in verdict.results.values() if result == FAIL)
    summary = SampleVerdict(
        judge.version,
        provider,
        sample.sampled_days,
        verdict.status,
        len(verdict.results),
        failed,
        len(found),
        focus_dataset,
    )
    log.info(
        "FOCUS %s %s %s %s: %s, %d rules recorded, %d failing, %d regressed",
        *(judge.version, focus_dataset, provider, sample.sampled_days, verdict.status),
        *(len(verdict.results), failed, len(found)),
    )
    return summary, found


def judge_latest_days(
    org: OrgSlug,
    referee_run_id: str,
    judged_at: datetime,
    as_of: date,
    *,
    sample_days: int = SAMPLE_DAYS,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> list[SampleVerdict]:
    """Referee every enabled provider's sample for each FOCUS version the org has a table of and each dataset of
    the version, record one row per rule, and raise ``ConformanceRegressed`` (after recording everything) naming
    each regressed rule."""
    org_config = load_org_by_slug(org)
    warehouse = open_warehouse()
    providers = sorted(name for name, entry in org_config.providers.items() if entry.enabled)
    run = Run(referee_run_id, judged_at)
    verdicts: list[SampleVerdict] = []
    regressed: list[Regression] = []
    with tempfile.TemporaryDirectory(prefix="cloudcost-referee-") as scratch:
        for version in versions_to_check(warehouse, org_config.dataset):
            judge = VersionJudge.prepare(version, timeout)
            for provider in providers:
                days = latest_succeeded_days(warehouse, org_config.dataset, provider, as_of, sample_days)
                if not days:
                    log.info("FOCUS %s %s: no succeeded day on or before %s to judge", version, provider, as_of)
                    continue
                workdir = Path(scratch) / version  # validate_provider adds the provider's and dataset's folders
                for focus_dataset in DATASETS.get(version, (COST_AND_USAGE,)):
                    judged = judge_sample(
                        warehouse, org_config.dataset, provider, judge, days, workdir, run, focus_dataset
                    )
                    if judged:
                        verdicts.append(judged[0])
                        regressed += judged[1]
    raise_if_regressed(regressed)
    return verdicts
