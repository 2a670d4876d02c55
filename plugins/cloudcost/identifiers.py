"""Validation of names that end up inside SQL identifiers (org slugs, table names).

Values always travel as bound parameters; identifiers cannot, so every identifier is checked against a
strict pattern here and then quoted.
"""

from __future__ import annotations

import re

ORG_SLUG_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"
_ORG_SLUG = re.compile(ORG_SLUG_PATTERN)
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class InvalidIdentifier(ValueError):
    """A name that would be used as a SQL identifier is not a safe one."""


def validate_org_slug(slug: object) -> str:
    """Return ``slug`` if it is a valid org slug (lower-case letter, then letters, digits, ``_``)."""
    if not isinstance(slug, str) or not _ORG_SLUG.fullmatch(slug):
        raise InvalidIdentifier(
            f"invalid org slug {slug!r}: use 2-40 characters, a lower-case letter first, "
            "then lower-case letters, digits or '_'"
        )
    return slug


def quote_identifier(name: str) -> str:
    """Quote a validated identifier for DuckDB/BigQuery-standard SQL."""
    if not _IDENTIFIER.fullmatch(name):
        raise InvalidIdentifier(f"invalid SQL identifier {name!r}")
    return f'"{name}"'


def qualified(schema: str, table: str) -> str:
    """``"schema"."table"`` from two validated identifiers."""
    return f"{quote_identifier(schema)}.{quote_identifier(table)}"
