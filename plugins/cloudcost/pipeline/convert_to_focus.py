"""Stage ``convert_to_focus``: the provider's part of ``sp_cloud_1_convert_to_focus`` for one day, run by the
org's warehouse its own way (``Warehouse.convert_to_focus``: the procedure's CTE chain rendered, or the stored
procedure called), then the stage's one log line."""

from __future__ import annotations

import logging

from cloudcost.config import OrgConfig, RawFormat
from cloudcost.core.results import ConvertResult
from cloudcost.core.run_context import RunContext
from cloudcost.money_format import cents
from cloudcost.warehouse.base import Warehouse

log = logging.getLogger(__name__)


def convert_to_focus(
    warehouse: Warehouse, org: OrgConfig, source_format: str, fmt: RawFormat, run: RunContext
) -> ConvertResult:
    """Replace the run's (provider, day) slice of the org's FOCUS table; the figures of the slice after."""
    result = warehouse.convert_to_focus(org, source_format, fmt, run)
    log.info(
        "convert_to_focus %s/%s %s: wrote %s FOCUS rows (replacing %s), BilledCost %s, EffectiveCost %s "
        "(billing currency, to the cent).",
        run.org,
        run.provider,
        run.billing_day,
        f"{result.rows:,}",
        f"{result.replaced_rows:,}",
        cents(result.billed_cost),
        cents(result.effective_cost),
    )
    return result
