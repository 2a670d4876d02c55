"""A FOCUS 1.3 row as a pulumicost ``FocusCostRecord`` in proto3 JSON, so tools built on that model read it as is.

The field list, the enums and our FOCUS value -> enum name mapping are data (configs/pulumicost_focus_record.yml,
which names the proto files and commits read); this module loads them, checks them against the FOCUS schema, and
applies them. Values the proto cannot hold exactly (decimals as doubles, enum values that share a name, tags that
are not strings) keep their exact FOCUS text in ``extended_columns`` under the FOCUS column name.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cloudcost.paths import config_dir
from cloudcost.schemas import focus_schema
from cloudcost.yaml_text import YAMLError, parse_yaml

MAPPING_FILE = "pulumicost_focus_record.yml"
EXTENDED_COLUMNS = "extended_columns"


class MappingError(ValueError):
    """configs/pulumicost_focus_record.yml is invalid; the message names the file and the problem."""


class ProtoFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    commit: str = Field(pattern=r"^[0-9a-f]{40}$")


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    repository: str
    message: str
    files: list[ProtoFile]


class RecordField(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    number: int = Field(ge=1)
    type: Literal["string", "double", "timestamp", "enum", "map"]
    enum: str | None = None
    focus: str | None = None


class EnumMapping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str
    values: dict[str, int]
    when_null: str
    fallback: str
    map: dict[str, str]

    def name_for(self, value: str | None) -> str:
        """The enum name of a FOCUS value: mapped, else the fallback; NULL gives ``when_null``."""
        if value is None:
            return self.when_null
        return self.map.get(value, self.fallback)

    def keeps_exact(self, value: str | None) -> bool:
        """True when the enum name does not give ``value`` back (fallback, or a name shared by several values)."""
        if value is None:
            return False
        name = self.map.get(value)
        return name is None or sum(1 for target in self.map.values() if target == name) > 1


class RecordMapping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Source
    fields: list[RecordField]
    enums: dict[str, EnumMapping]

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def enum_for(self, column: str) -> EnumMapping:
        for mapping in self.enums.values():
            if mapping.column == column:
                return mapping
        raise KeyError(f"no enum maps FOCUS column {column!r}")


def mapping_path() -> Path:
    return config_dir() / MAPPING_FILE


def _check(mapping: RecordMapping, path: Path) -> None:
    problems = []
    names, numbers = mapping.field_names, [f.number for f in mapping.fields]
    problems += [f"field {n!r} listed twice" for n in sorted({n for n in names if names.count(n) > 1})]
    problems += [f"field number {n} used twice" for n in sorted({n for n in numbers if numbers.count(n) > 1})]
    if EXTENDED_COLUMNS not in names:
        problems.append(f"no {EXTENDED_COLUMNS} field")
    focus_columns = [c.name for c in focus_schema().columns if not c.name.startswith("x_")]
    mapped = [f.focus for f in mapping.fields if f.focus]
    problems += [f"FOCUS column {c} has no field" for c in focus_columns if c not in mapped]
    problems += [f"field maps unknown FOCUS column {c}" for c in mapped if c not in focus_columns]
    problems += [f"FOCUS column {c} mapped twice" for c in sorted({c for c in mapped if mapped.count(c) > 1})]
    for field in mapping.fields:
        if (field.type == "enum") != (field.enum is not None):
            problems.append(f"field {field.name}: `enum:` goes with type enum, and only with it")
        elif field.enum is not None:
            enum = mapping.enums.get(field.enum)
            if enum is None:
                problems.append(f"field {field.name}: enum {field.enum} is not under enums")
            elif enum.column != field.focus:
                problems.append(f"field {field.name}: enum {field.enum} maps column {enum.column}, not {field.focus}")
    for name, enum in mapping.enums.items():
        targets = [enum.when_null, enum.fallback, *enum.map.values()]
        problems += [f"enum {name}: {t} is not one of its values" for t in targets if t not in enum.values]
        if 0 not in enum.values.values():
            problems.append(f"enum {name}: proto3 enums need a 0 value")
    if problems:
        raise MappingError(f"{path}: " + "; ".join(problems))


@cache
def _load(path: Path) -> RecordMapping:
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))
        mapping = RecordMapping.model_validate(data)
    except (OSError, YAMLError) as exc:
        raise MappingError(f"{path}: cannot read: {exc}") from exc
    except ValidationError as exc:
        raise MappingError(f"{path}: {exc}") from None
    _check(mapping, path)
    return mapping


def load_mapping() -> RecordMapping:
    """The checked mapping from configs/ (cached per path)."""
    return _load(mapping_path())


def rfc3339(value: datetime) -> str:
    """UTC with Z, fractional seconds only when present (proto3 JSON Timestamp, ISO 8601)."""
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{value.microsecond:06d}Z" if value.microsecond else f"{text}Z"


def exact_text(value: Any) -> str:
    """A column value as exact text: decimals without exponent, timestamps RFC 3339, dates ISO, text as is."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _string_map(text: str | None) -> tuple[dict[str, str], bool]:
    """A FOCUS JSON object as map<string, string>; False when that loses anything (non-string values, no object)."""
    if text is None:
        return {}, True
    try:
        parsed = json.loads(text)
    except ValueError:
        return {}, False
    if not isinstance(parsed, dict):
        return {}, False
    exact = all(isinstance(v, str) for v in parsed.values())
    return {str(k): v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for k, v in parsed.items()}, exact


class RecordBuilder:
    """Turns FOCUS rows into FocusCostRecords with the mapping resolved once (the per-row work is dict lookups)."""

    def __init__(self, mapping: RecordMapping) -> None:
        self.field_names = mapping.field_names
        self.plan: list[tuple[str, str, str, EnumMapping | None, str]] = [
            (f.name, f.focus, f.type, mapping.enums[f.enum] if f.enum else None, f.enum or "")
            for f in mapping.fields
            if f.focus
        ]
        self.mapped = frozenset(f.focus for f in mapping.fields if f.focus)
        # per enum: FOCUS value -> (enum name, whether extended_columns must keep the value)
        self.enums = {
            name: {value: (target, enum.keeps_exact(value)) for value, target in enum.map.items()}
            for name, enum in mapping.enums.items()
        }

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {}
        extended: dict[str, str] = {}
        for name, column, kind, enum, enum_name in self.plan:
            value = row.get(column)
            if kind == "string":
                record[name] = "" if value is None else value if type(value) is str else exact_text(value)
            elif kind == "double":
                if value is None:
                    record[name] = 0.0
                else:
                    record[name] = float(value)
                    extended[column] = value if type(value) is str else exact_text(value)
            elif kind == "timestamp":
                record[name] = None if value is None else value if type(value) is str else exact_text(value)
            elif enum is not None:
                if value is None:
                    record[name] = enum.when_null
                else:
                    record[name], keep = self.enums[enum_name].get(value, (enum.fallback, True))
                    if keep:
                        extended[column] = str(value)
            else:
                record[name], exact = _string_map(value)
                if not exact:
                    extended[column] = str(value)
        for column, value in row.items():
            if value is not None and column not in self.mapped:
                extended[column] = value if type(value) is str else exact_text(value)
        record[EXTENDED_COLUMNS] = dict(sorted(extended.items()))
        return {name: record[name] for name in self.field_names}


@cache
def _builder(path: Path) -> RecordBuilder:
    return RecordBuilder(_load(path))


def to_record(row: dict[str, Any], mapping: RecordMapping | None = None) -> dict[str, Any]:
    """One FOCUS row (column -> Python value or its exact text, JSON columns as text) as a FocusCostRecord.

    Every field is present. Columns without a field (the x_ ones in ``row``) go to ``extended_columns`` as text.
    """
    return (_builder(mapping_path()) if mapping is None else RecordBuilder(mapping))(row)
