"""FOCUS 1.4 beside 1.3: the shared statements of ``procedures/sp_cloud_1_focus_1_4/``, filled with table names.

Both engines run them in the convert's transaction, right after the 1.3 slice is written (DuckDB:
``duckdb_convert.py``; BigQuery: the convert procedure of ``bigquery_ddl.py``), so a 1.4 slice and its billing
periods never disagree with the 1.3 slice they come from.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from cloudcost.paths import procedures_dir
from cloudcost.schemas import billing_period_1_4_schema, focus_1_4_schema, focus_schema

FOLDER = "sp_cloud_1_focus_1_4"
COST_AND_USAGE = f"{FOLDER}/cost_and_usage.sql"
BILLING_PERIOD = f"{FOLDER}/billing_period.sql"
BILLING_PERIOD_ORPHANS = f"{FOLDER}/billing_period_orphans.sql"
REPLACED_PERIODS = f"{FOLDER}/replaced_periods.sql"

# The convert's temporary table of the billing-period keys the replaced slice held: unqualified, because both
# engines keep temporary tables outside the org's dataset (DuckDB's temp schema, BigQuery's script/session).
REPLACED_PERIODS_TABLE = "cloudcost_replaced_periods_1_4"
REPLACED_PERIODS_COLUMNS = [
    "x_cloud_provider",
    "BillingAccountId",
    "BillingCurrency",
    "BillingPeriodStart",
    "InvoiceIssuerName",
]

_TOKEN = re.compile(r"\{\{\s*([a-z0-9_]+)\s*\}\}")


class Focus14ProcedureError(ValueError):
    """A 1.4 statement is malformed: an unknown placeholder, or output columns that are not the 1.4 table's."""


def table_names() -> dict[str, str]:
    """Placeholder -> table name (unqualified); each engine qualifies them its own way."""
    return {
        "focus_1_3": focus_schema().table,
        "focus_1_4": focus_1_4_schema().table,
        "billing_period": billing_period_1_4_schema().table,
    }


def render(relative_path: str, qualify: Callable[[str], str]) -> str:
    """The statement with each ``{{placeholder}}`` replaced by ``qualify(table name)``, and
    ``{{replaced_periods}}`` by the unqualified temporary table's name."""
    path = procedures_dir() / relative_path
    names = table_names()

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "replaced_periods":
            return REPLACED_PERIODS_TABLE
        if name not in names:
            raise Focus14ProcedureError(f"{path}: unknown placeholder {{{{{name}}}}}")
        return qualify(names[name])

    return _TOKEN.sub(replace, path.read_text(encoding="utf-8"))


def check_columns(relative_path: str, produced: list[str], expected: list[str]) -> None:
    """Refuse a statement whose SELECT does not give exactly the target table's columns."""
    if sorted(produced) != sorted(expected):
        missing = sorted(set(expected) - set(produced))
        extra = sorted(set(produced) - set(expected))
        raise Focus14ProcedureError(
            f"procedures/{relative_path}: output columns differ from the table's: missing {missing}, extra {extra}"
        )
