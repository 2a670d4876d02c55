"""Validation of names that end up inside SQL identifiers (org slugs, table names).

Values always travel as bound parameters; identifiers cannot, so every identifier is checked against a
strict pattern here and then quoted.
"""

from __future__ import annotations

import re
from typing import NewType

ORG_SLUG_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"
_ORG_SLUG = re.compile(ORG_SLUG_PATTERN)
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class InvalidIdentifier(ValueError):
    """A name that would be used as a SQL identifier is not a safe one."""


OrgSlug = NewType("OrgSlug", str)
"""An org slug that ``parse_org_slug`` accepted: safe in a SQL identifier and a file name. Only the edges
(Airflow's param, the command line, the org files, the vault's API) parse one; inner code takes ``OrgSlug``, so the
type checker proves no raw ``str`` reaches a dataset name or a path unparsed."""


def parse_org_slug(slug: object) -> OrgSlug:
    """``slug`` as an ``OrgSlug`` if it is a valid org slug (lower-case letter, then letters, digits, ``_``): the
    only place a slug is validated."""
    if not isinstance(slug, str) or not _ORG_SLUG.fullmatch(slug):
        raise InvalidIdentifier(
            f"invalid org slug {slug!r}: use 2-40 characters, a lower-case letter first, "
            "then lower-case letters, digits or '_'"
        )
    return OrgSlug(slug)


def quote_identifier(name: str) -> str:
    """Quote a validated identifier for DuckDB/BigQuery-standard SQL."""
    if not _IDENTIFIER.fullmatch(name):
        raise InvalidIdentifier(f"invalid SQL identifier {name!r}")
    return f'"{name}"'


def qualified(schema: str, table: str) -> str:
    """``"schema"."table"`` from two validated identifiers."""
    return f"{quote_identifier(schema)}.{quote_identifier(table)}"
