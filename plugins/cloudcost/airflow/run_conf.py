"""Which orgs and billing days a DAG run covers: its conf, checked strictly, against the org files as they are now.

Airflow validates a trigger's conf only for keys the DAG declares as params (``org_slug`` and its enum,
``billing_day`` and its date format); any other key is stored and ignored. So a typo such as
``{"org": "demo"}`` would silently run every org. ``select_orgs``, the first task of each DAG, calls
``orgs_of_run``, which refuses such a conf naming the key.

``billing_day`` exists so a day can be loaded again by a *manual* run: a run's logical date is unique per DAG
(Airflow answers 409 to a second trigger for it), so a re-run names its day in the conf and carries no
logical date, or any (the UI fills in "now"). Scheduled and backfill runs load their logical date only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, TypeVar

from airflow.sdk import Param

from cloudcost.config import ConfigError, OrgLoad, Provider, load_orgs_tolerant
from cloudcost.identifiers import ORG_SLUG_PATTERN, InvalidIdentifier, OrgSlug, parse_org_slug

RUN_CONF_KEYS = ("org_slug", "billing_day")
ALL_ORGS = "all orgs"  # what the trigger form shows for an empty org_slug
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
T = TypeVar("T")
log = logging.getLogger(__name__)


class RunConfError(ValueError):
    """A run's conf has a key the DAGs do not know, or names an org that is not configured."""


def org_param(load: OrgLoad, description: str) -> Param:
    """The ``org_slug`` param: the valid orgs as its enum (Airflow refuses any other value at trigger time),
    shown in the trigger form by display name, and empty (``None``) as "all orgs" rather than "null"."""
    for problem in load.problems:  # the org_files task of each run fails with the same lines
        log.warning("org %s left out of this DAG: %s", problem.slug, str(problem.error).replace("\n", "; "))
    invalid = ", ".join(problem.path.name for problem in load.problems)
    return Param(
        None,
        type=["null", "string"],
        enum=[None, *(org.slug for org in load.orgs)],
        pattern=ORG_SLUG_PATTERN,
        title="Org",
        values_display=org_choices(load),
        description=description + (f" Not offered, their org file is invalid: {invalid}." if invalid else ""),
    )


def org_choices(load: OrgLoad) -> dict[str, str]:
    """The form's label per enum value. The UI looks a ``None`` value up as ``"null"``, then ``"None"``."""
    return {"null": ALL_ORGS, **{org.slug: f"{org.display_name} ({org.slug})" for org in load.orgs}}


def billing_day_param() -> Param:
    """The ``billing_day`` param: a date (Airflow refuses any other string at trigger time)."""
    return Param(
        None,
        type=["null", "string"],
        format="date",
        title="Billing day",
        description="Load this UTC day again (YYYY-MM-DD), e.g. after a restatement; the logical date is then "
        "only when you triggered. Empty: the day of the logical date.",
    )


def wanted_day(conf: Mapping[str, object] | None) -> date | None:
    """The conf's ``billing_day`` (``None``: the run's logical date decides); ``RunConfError`` if not a date."""
    value = (conf or {}).get("billing_day")
    if value is None or value == "":
        return None
    try:
        if not isinstance(value, str) or not _ISO_DAY.fullmatch(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise RunConfError(f"run conf key 'billing_day': {value!r} is not a date (YYYY-MM-DD)") from None


def run_days(conf: Mapping[str, object] | None, run_type: str, start: Any, end: Any) -> list[date]:
    """The billing days a run loads: its conf's ``billing_day`` (manual runs only), else its data interval."""
    from cloudcost.billing_window import billing_days

    day = wanted_day(conf)
    if day is None:
        return billing_days(start, end)
    if str(getattr(run_type, "value", run_type)) != "manual":
        raise RunConfError(
            f"run conf key 'billing_day' is for manual runs only; this {run_type} run loads its logical date "
            "(leave billing_day out of --dag-run-conf)"
        )
    return [day]


def days_of(context: Mapping[str, Any]) -> list[date]:
    """``run_days`` of a task's context. A run without a logical date has no data interval keys at all."""
    run = context["dag_run"]
    return run_days(run.conf, run.run_type, context.get("data_interval_start"), context.get("data_interval_end"))


def wanted_org(conf: Mapping[str, object] | None) -> OrgSlug | None:
    """The conf's ``org_slug`` (``None``: every org); ``RunConfError`` naming any other key."""
    conf = conf or {}
    for key in sorted(conf):
        if key not in RUN_CONF_KEYS:
            raise RunConfError(
                f"run conf key {key!r} is not known (typo?); the keys are 'org_slug' and 'billing_day'. Nothing "
                'ran: trigger again with {"org_slug": "<org>"} for one org, or no conf for every org'
            )
    wanted = conf.get("org_slug")
    if wanted is None or wanted == "":
        return None
    try:
        return parse_org_slug(wanted)
    except InvalidIdentifier as exc:
        raise RunConfError(f"run conf key 'org_slug': {exc}") from None


def restatement_org(restatement: Mapping[str, Any]) -> OrgSlug:
    """The org of a restated day handed on through XCom (``recheck_window`` -> ``restate``), parsed again: what
    comes back from the metadata database is input like the conf."""
    return parse_org_slug(str(restatement["org_slug"]))


def select_orgs_task(context: Mapping[str, Any], provider: Provider | None) -> list[OrgSlug]:
    """The ``select_orgs`` task: ``orgs_of_run`` and the run's days, failing at once (no retry: the conf or file
    will not change)."""
    orgs = _fail_without_retry(orgs_of_run, context["dag_run"].conf, provider)  # unknown keys first
    _fail_without_retry(days_of, context)
    return orgs


def org_files_task(conf: Mapping[str, object] | None, provider: Provider | None) -> str:
    """The ``org_files`` task: ``check_org_files``, failing at once (fix the file, then clear the task)."""
    return _fail_without_retry(check_org_files, conf, provider)


def _fail_without_retry(check: Callable[..., T], *args: Any) -> T:
    from airflow.sdk.exceptions import AirflowFailException

    try:
        return check(*args)
    except ValueError as exc:  # RunConfError, ConfigError, InvalidIdentifier: the message names key and file
        raise AirflowFailException(str(exc)) from None


def orgs_of_run(conf: Mapping[str, object] | None, provider: Provider | None) -> list[OrgSlug]:
    """The orgs this run covers: the conf's ``org_slug`` or every valid org enabling ``provider`` (``None``:
    every valid org). A named org whose file is invalid raises that file's ``ConfigError``."""
    wanted = wanted_org(conf)
    loaded = load_orgs_tolerant(provider)
    valid = [org.slug for org in loaded.orgs]
    if wanted is None:
        return valid
    if wanted in valid:
        return [wanted]
    for problem in loaded.problems:
        if problem.slug == wanted:
            raise problem.error
    scope = f"enabling {provider}" if provider else "configured"
    raise RunConfError(
        f"run conf key 'org_slug': org {wanted!r} is not configured"
        + (f" for {provider}" if provider else "")
        + f" (orgs {scope}: {', '.join(valid) or 'none'})"
    )


def org_file_errors(conf: Mapping[str, object] | None, provider: Provider | None) -> list[str]:
    """One line per bad key of each invalid org file this run would have covered (none when the run is for
    one named org: that org's own file is checked by ``orgs_of_run``)."""
    if wanted_org(conf) is not None:
        return []
    return [line for problem in load_orgs_tolerant(provider).problems for line in str(problem.error).splitlines()]


def check_org_files(conf: Mapping[str, object] | None, provider: Provider | None) -> str:
    """The ``org_files`` task: fails with a ``ConfigError`` naming each invalid org file and key of the run."""
    lines = org_file_errors(conf, provider)
    if lines:
        raise ConfigError("\n".join(lines))
    return "every org file of this run is valid"
