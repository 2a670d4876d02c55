"""Table schemas, kept once as YAML under ``schemas/``; every back end's DDL is generated from them."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cloudcost.paths import schemas_dir
from cloudcost.yaml_text import YAMLError, parse_yaml

LogicalType = Literal["string", "decimal", "timestamp", "date", "json", "int64", "bool"]
COLUMN_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,127}$")

# Money and quantities: 38 digits, 10 after the point. Exact, and wide enough for any bill
# (BigQuery maps it to BIGNUMERIC(38, 10)).
DECIMAL_PRECISION = 38
DECIMAL_SCALE = 10


class SchemaError(ValueError):
    """A file under schemas/ is invalid; the message names the file."""


class Column(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=COLUMN_NAME.pattern)
    type: LogicalType
    nullable: bool = True
    required: bool = False
    source: str | None = Field(default=None, description="where the export has it, e.g. service.id")
    aliases: list[str] = Field(default_factory=list, description="other spellings, matched case-insensitively")
    formats: list[str] = Field(default_factory=list, description="strptime formats tried when text is not ISO 8601")
    wrap_json_object: bool = Field(default=False, description="text may be a JSON object without its braces")
    collect_prefix: str | None = Field(default=None, description="json: gather columns named <prefix><key>")
    check: Literal["iso_4217"] | None = Field(default=None, description="string: value must be an ISO 4217 code")
    focus: str | None = None
    description: str | None = None


class TableSchema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    description: str | None = None
    day_column: str | None = None
    period_start_column: str | None = None
    period_end_column: str | None = None
    period_end_inclusive: bool = False
    partition_by: str | None = None
    cluster_by: list[str] = Field(default_factory=list)
    columns: list[Column]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.table} has no column {name!r}")


def _load(path: Path) -> dict:
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise SchemaError(f"{path}: cannot read schema: {exc}") from exc
    if not isinstance(data, dict):
        raise SchemaError(f"{path}: expected a mapping")
    return data


@cache
def load_table_schema(relative: str, with_lineage: bool | None = None) -> TableSchema:
    """Load ``schemas/<relative>``; raw tables (under ``raw/``) get the shared lineage columns appended."""
    path = schemas_dir() / relative
    data = _load(path)
    if with_lineage is None:
        with_lineage = relative.startswith("raw/")
    if with_lineage:
        data = {**data, "columns": [*data.get("columns", []), *_load(schemas_dir() / "raw/_lineage.yml")["columns"]]}
    try:
        schema = TableSchema.model_validate(data)
    except ValidationError as exc:
        raise SchemaError(f"{path}: {exc}") from None
    names = schema.column_names
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SchemaError(f"{path}: duplicated columns {duplicates}")
    return schema


# The FOCUS versions whose Cost and Usage table we build, each with its schema file under schemas/. Everything that
# works per version (the daily rules, the referee) reads this, so a new version's table plugs in with one line.
FOCUS_SCHEMA_FILES: dict[str, str] = {
    "1.3": "focus/cost_data_standard_1_3.yml",
    "1.4": "focus/cost_data_standard_1_4.yml",
}
PRIMARY_FOCUS_VERSION = "1.3"  # the table every stage writes first; the default wherever a version is optional


def focus_schema(version: str = PRIMARY_FOCUS_VERSION) -> TableSchema:
    """The FOCUS table of ``version`` (1.3, the primary output, by default)."""
    relative = FOCUS_SCHEMA_FILES.get(version)
    if relative is None:
        known = ", ".join(FOCUS_SCHEMA_FILES)
        raise SchemaError(f"FOCUS {version} has no table in this build (tables are built for FOCUS {known})")
    return load_table_schema(relative)


def focus_1_4_schema() -> TableSchema:
    """FOCUS 1.4 Cost and Usage: derived from the 1.3 table, which stays the primary output."""
    return focus_schema("1.4")


def billing_period_1_4_schema() -> TableSchema:
    return load_table_schema("focus/focus_billing_period_1_4.yml")


def load_focus_schemas() -> None:
    """Parse every FOCUS table's schema now (each is cached): a task resolves its run before it takes its turn at
    the embedded warehouse, so the convert and the check do not parse them while other tasks wait for the file."""
    for version in FOCUS_SCHEMA_FILES:
        focus_schema(version)
    billing_period_1_4_schema()


def quote_column(name: str) -> str:
    if not COLUMN_NAME.fullmatch(name):
        raise SchemaError(f"invalid column name {name!r}")
    return f'"{name}"'


def quote_header(name: str) -> str:
    """Quote a column name exactly as an export file spells it (e.g. ``service.id``), escaping quotes."""
    if not name or "\x00" in name:
        raise SchemaError(f"invalid header {name!r}")
    return '"' + name.replace('"', '""') + '"'


_DUCKDB_TYPES = {
    "string": "VARCHAR",
    "decimal": f"DECIMAL({DECIMAL_PRECISION},{DECIMAL_SCALE})",
    "timestamp": "TIMESTAMPTZ",
    "date": "DATE",
    "json": "JSON",
    "int64": "BIGINT",
    "bool": "BOOLEAN",
}


def duckdb_type(logical: str) -> str:
    return _DUCKDB_TYPES[logical]


def duckdb_create_table(schema: TableSchema, qualified_name: str) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for DuckDB (partitioning is logical there: a column we delete by)."""
    cols = ",\n  ".join(
        f"{quote_column(c.name)} {duckdb_type(c.type)}{'' if c.nullable else ' NOT NULL'}" for c in schema.columns
    )
    return f"CREATE TABLE IF NOT EXISTS {qualified_name} (\n  {cols}\n)"
