"""DuckDB SQL (the dialect ``procedures/`` is written in) to BigQuery GoogleSQL: sqlglot plus the rewrites it lacks.

sqlglot transpiles most of the procedures as they are. What it leaves as DuckDB, or turns into BigQuery that
does not mean the same, is rewritten here on its syntax tree, each rule for a construct the procedures use
(``docs/bigquery.md`` lists them):

- a cast to ``DECIMAL(38, 10)`` becomes ``ROUND(CAST(x AS BIGNUMERIC), 10)``: BigQuery's NUMERIC keeps at most
  9 decimals, and sqlglot drops the (38, 10) of a CAST, so the rounding DuckDB's cast does is written out;
- DuckDB lists built from JSON arrays (``json_extract_string(j, '$[*].f')``, ``cast(... as T[])``,
  ``list_transform``/``list_filter`` with lambdas) and their aggregates (``list_sum``, ``list_bool_or``,
  ``len``) become subqueries over ``UNNEST(JSON_QUERY_ARRAY(j))``: BigQuery has no lambdas, and its arrays
  cannot hold NULL, so no intermediate array is built;
- the GCP label maps (``map_from_entries(from_json(...))``, ``map_concat``, ``cardinality``, ``to_json``)
  become an ``ARRAY<STRUCT<key, value>>`` and a JSON object built from it;
- ``x + INTERVAL n unit`` becomes ``TIMESTAMP(DATETIME_ADD(DATETIME(x), INTERVAL n unit))``: TIMESTAMP
  arithmetic in BigQuery has no MONTH, and DATE + INTERVAL would give a DATETIME;
- ``regexp_extract`` and ``split_part`` keep DuckDB's empty string where BigQuery would give NULL;
- ``cast(<json column> as varchar)`` becomes ``TO_JSON_STRING`` (BigQuery cannot CAST JSON to STRING);
- ``json_keys(j)`` becomes the keys of ``JSON_KEYS(j, 1)`` (BigQuery's walks nested objects unless told the
  depth) with each one it quotes (a key holding ``.``, ``"``, ``\\``) read back, and a value looked up by a key
  held in a column, written for DuckDB as the key's JSON Pointer (``j ->> ('/' || replace(replace(k, '~', '~0'),
  '/', '~1'))``: DuckDB reads a bare ``j ->> k`` as a JSONPath when ``k`` starts with ``$``, as a pointer when it
  starts with ``/``), becomes ``JSON_VALUE(j[k])`` (a BigQuery JSONPath must be a literal; the subscript takes a
  field name as it is); any other computed path is refused;
- ``epoch_us(ts)`` becomes ``UNIX_MICROS(ts)``; ``any_value(x)`` stays ``ANY_VALUE(x)`` (sqlglot would add an
  ``IGNORE NULLS`` clause BigQuery's ANY_VALUE does not take: it skips NULLs anyway);
- ``QUALIFY`` gets a ``WHERE TRUE`` when the SELECT has no WHERE, GROUP BY or HAVING;
- ``$name`` parameters become ``@name`` query parameters, or bare variables inside a stored procedure.

Anything else DuckDB-only that is left (an unknown function, a lambda) raises ``TranslationError`` naming it,
rather than producing SQL that only fails once it reaches BigQuery.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.dialects.bigquery import BigQuery
from sqlglot.errors import ErrorLevel
from sqlglot.generators.bigquery import BigQueryGenerator

Parameters = Literal["query", "variables"]

# Functions the procedures may call that BigQuery has under the same name (after sqlglot's own renames).
BIGQUERY_FUNCTIONS = frozenset(
    {
        "ARRAY_LENGTH",
        "COALESCE",
        "CONCAT",
        "DATE",
        "DATETIME",
        "DATETIME_ADD",
        "ERROR",
        "IF",
        "JSON_EXTRACT_SCALAR",
        "JSON_QUERY_ARRAY",
        "JSON_VALUE",
        "LOGICAL_OR",
        "LOWER",
        "NULLIF",
        "PARSE_JSON",
        "PARSE_TIMESTAMP",
        "REGEXP_EXTRACT",
        "SPLIT",
        "STRING_AGG",
        "TIMESTAMP",
        "TIMESTAMP_TRUNC",
        "TO_JSON_STRING",
        "UNIX_MICROS",
        "UPPER",
    }
)
# Node types sqlglot leaves in a DuckDB tree that have no BigQuery meaning.
_DUCKDB_ONLY = (exp.Lambda, exp.Transform, exp.ArrayFilter, exp.MapFromEntries, exp.Map, exp.StructExtract)
_LABEL_ENTRY = re.compile(r'^\s*\[\s*\{\s*"key"\s*:\s*"VARCHAR"\s*,\s*"value"\s*:\s*"VARCHAR"\s*\}\s*\]\s*$')


class TranslationError(ValueError):
    """A DuckDB construct has no rule here: the message names it and the statement's first line."""


def bigquery_decimal(precision: int, scale: int) -> str:
    """The exact BigQuery type for DECIMAL(p, s): NUMERIC holds at most 9 decimals and 29 integer digits."""
    if scale <= 9 and precision - scale <= 29:
        return f"NUMERIC({precision}, {scale})"
    return f"BIGNUMERIC({precision}, {scale})"


def duckdb_to_bigquery(
    sql: str,
    *,
    json_columns: Iterable[str] = (),
    parameters: Parameters = "query",
    pretty: bool = True,
) -> str:
    """Translate one DuckDB statement. ``json_columns``: names of JSON-typed columns (their text form needs
    TO_JSON_STRING); ``parameters``: ``$x`` becomes ``@x`` ("query") or the variable ``x`` ("variables")."""
    translator = _Translator(frozenset(c.lower() for c in json_columns), parameters, sql)
    try:
        tree = sqlglot.parse_one(sql, read="duckdb", error_level=ErrorLevel.RAISE)
    except sqlglot.errors.ParseError as exc:
        raise TranslationError(f"{translator.where}: DuckDB SQL does not parse: {exc}") from exc
    tree = translator.rewrite(tree)
    translator.check(tree)
    try:
        return tree.sql(dialect=_Dialect, pretty=pretty, unsupported_level=ErrorLevel.RAISE)
    except sqlglot.errors.UnsupportedError as exc:
        raise TranslationError(f"{translator.where}: sqlglot cannot write it for BigQuery: {exc}") from exc


def parse_bigquery(sql: str) -> exp.Expr:
    """Parse one BigQuery statement with sqlglot, raising on any error (what the tests apply to every statement)."""
    return sqlglot.parse_one(sql, read="bigquery", error_level=ErrorLevel.RAISE)


class _Translator:
    def __init__(self, json_columns: frozenset[str], parameters: Parameters, sql: str) -> None:
        self.json_columns = json_columns
        self.parameters = parameters
        self.map_columns: set[str] = set()
        self.names = itertools.count(1)
        first = next((line.strip() for line in sql.splitlines() if line.strip()), "")
        self.where = f"statement starting {first[:80]!r}"

    # ------------------------------------------------------------------ driver

    def rewrite(self, node: exp.Expr) -> exp.Expr:
        """Top-down for list and map constructs (they consume a chain of calls), bottom-up for the rest."""
        special = self._special(node)
        if special is not None:
            return special
        # CTEs first: a map column defined in one is recognised where a later part of the query uses it
        for key, value in sorted(node.args.items(), key=lambda item: item[0] not in ("with", "with_")):
            if isinstance(value, exp.Expr):
                node.set(key, self.rewrite(value))
            elif isinstance(value, list):
                node.set(key, [self.rewrite(v) if isinstance(v, exp.Expr) else v for v in value])
        return self._scalar(node)

    def check(self, tree: exp.Expr) -> None:
        for node in tree.walk():
            if isinstance(node, _DUCKDB_ONLY):
                raise TranslationError(f"{self.where}: no BigQuery rule for DuckDB construct {node.sql('duckdb')!r}")
            if isinstance(node, exp.Anonymous) and node.name.upper() not in BIGQUERY_FUNCTIONS:
                raise TranslationError(f"{self.where}: no BigQuery rule for DuckDB function {node.name}()")

    def _name(self, prefix: str) -> str:
        return f"_{prefix}{next(self.names)}"

    # ------------------------------------------------------------------ list and map constructs

    def _special(self, node: exp.Expr) -> exp.Expr | None:
        if isinstance(node, exp.Alias) and self._is_map(node.this):
            self.map_columns.add(node.alias.lower())
            return exp.alias_(self._map_array(node.this), node.alias)
        if isinstance(node, exp.Anonymous):
            name = node.name.lower()
            if name in ("list_sum", "list_bool_or"):
                (argument,) = node.expressions
                aggregate = "SUM" if name == "list_sum" else "LOGICAL_OR"
                return self._aggregate(argument, lambda elem: f"{aggregate}({elem})")
            if name == "cardinality" and self._map_column(node.expressions[0]):
                return _parse(f"ARRAY_LENGTH({node.expressions[0].sql('bigquery')})")
            if name == "to_json" and self._map_column(node.expressions[0]):
                return self._map_json(node.expressions[0].sql("bigquery"))
            if name == "json_array_length":
                (argument,) = node.expressions
                return _parse(f"ARRAY_LENGTH(JSON_QUERY_ARRAY({self.rewrite(argument).sql('bigquery')}))")
        if isinstance(node, exp.Length) and self._is_list(node.this):
            return self._aggregate(node.this, lambda elem: "COUNT(*)")
        return None

    def _map_column(self, node: exp.Expr) -> bool:
        return isinstance(node, exp.Column) and node.name.lower() in self.map_columns

    def _is_list(self, node: exp.Expr) -> bool:
        if isinstance(node, exp.JSONExtractScalar):
            return _wildcard_path(node) is not None
        if isinstance(node, exp.Cast):
            return node.to.is_type(exp.DataType.Type.ARRAY) and self._is_list(node.this)
        if isinstance(node, exp.Transform | exp.ArrayFilter):
            return self._is_list(node.this)
        return False

    def _aggregate(self, list_node: exp.Expr, aggregate: Callable[[str], str]) -> exp.Expr:
        source, alias, elem, conditions = self._list(list_node)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        return _parse(f"(SELECT {aggregate(elem)} FROM {source} AS {alias}{where})")

    def _list(self, node: exp.Expr) -> tuple[str, str, str, list[str]]:
        """A DuckDB list as (FROM source, element alias, element expression, filters), all BigQuery text."""
        if isinstance(node, exp.JSONExtractScalar):
            rest = _wildcard_path(node)
            if rest is None:
                raise TranslationError(f"{self.where}: not a list: {node.sql('duckdb')!r}")
            alias = self._name("e")
            source = f"UNNEST(JSON_QUERY_ARRAY({self.rewrite(node.this).sql('bigquery')}))"
            return source, alias, f"JSON_VALUE({alias}, '{rest}')", []
        if isinstance(node, exp.Cast):
            source, alias, elem, conditions = self._list(node.this)
            element_type = node.to.expressions[0]
            typed = self._scalar(exp.cast(exp.column("__elem__"), element_type.copy())).sql("bigquery")
            return source, alias, typed.replace("__elem__", f"({elem})"), conditions
        if isinstance(node, exp.Transform | exp.ArrayFilter):
            source, alias, elem, conditions = self._list(node.this)
            body = self._lambda(node.expression, elem)
            if isinstance(node, exp.Transform):
                return source, alias, body, conditions
            return source, alias, elem, [*conditions, f"({body})"]
        raise TranslationError(f"{self.where}: no BigQuery rule for DuckDB list {node.sql('duckdb')!r}")

    def _lambda(self, lam: exp.Expr, elem: str) -> str:
        if not isinstance(lam, exp.Lambda) or len(lam.expressions) != 1:
            raise TranslationError(f"{self.where}: expected a one-argument lambda, got {lam.sql('duckdb')!r}")
        var = lam.expressions[0].name
        placeholder = "__lambda_elem__"

        def substitute(n: exp.Expr) -> exp.Expr:
            if isinstance(n, exp.Column | exp.Identifier) and n.name == var and not n.args.get("table"):
                return exp.column(placeholder)
            return n

        body = self.rewrite(lam.this.copy().transform(substitute))
        return body.sql("bigquery").replace(placeholder, f"({elem})")

    def _is_map(self, node: exp.Expr) -> bool:
        if isinstance(node, exp.Anonymous) and node.name.lower() == "map_concat":
            return True
        if isinstance(node, exp.Coalesce):
            return self._is_map(node.this)
        return isinstance(node, exp.MapFromEntries)

    def _map_sources(self, node: exp.Expr) -> list[str]:
        """The JSON arrays of ``{key, value}`` objects a DuckDB map is built from, later ones winning."""
        if isinstance(node, exp.Anonymous) and node.name.lower() == "map_concat":
            return [source for part in node.expressions for source in self._map_sources(part)]
        if isinstance(node, exp.Coalesce):
            rest = node.expressions
            if not (len(rest) == 1 and isinstance(rest[0], exp.Map) and not rest[0].args.get("keys")):
                raise TranslationError(
                    f"{self.where}: only coalesce(<map>, map()) is translated: {node.sql('duckdb')!r}"
                )
            return self._map_sources(node.this)
        if isinstance(node, exp.MapFromEntries) and isinstance(node.this, exp.FromJson):
            shape = node.this.expression
            if isinstance(shape, exp.Literal) and _LABEL_ENTRY.match(shape.this):
                return [self.rewrite(node.this.this).sql("bigquery")]
        raise TranslationError(f"{self.where}: no BigQuery rule for DuckDB map {node.sql('duckdb')!r}")

    def _map_array(self, node: exp.Expr) -> exp.Expr:
        """ARRAY<STRUCT<key, value>> with DuckDB's map semantics: one entry per key, the last source wins."""
        arms = []
        for rank, source in enumerate(self._map_sources(node)):
            arms.append(
                f"SELECT JSON_VALUE(_entry, '$.key') AS key, JSON_VALUE(_entry, '$.value') AS value, "
                f"{rank} AS _source, _position FROM UNNEST(JSON_QUERY_ARRAY({source})) AS _entry "
                "WITH OFFSET AS _position"
            )
        return _parse(
            f"ARRAY(SELECT AS STRUCT key, value FROM ({' UNION ALL '.join(arms)}) WHERE TRUE "
            "QUALIFY ROW_NUMBER() OVER (PARTITION BY key ORDER BY _source DESC, _position DESC) = 1 "
            "ORDER BY _source, _position)"
        )

    def _map_json(self, column: str) -> exp.Expr:
        """A JSON object from an ARRAY<STRUCT<key, value>> (what DuckDB's to_json(map) gives)."""
        return _parse(
            "(SELECT PARSE_JSON(CONCAT('{', STRING_AGG(CONCAT(TO_JSON_STRING(_label.key), ':', "
            f"TO_JSON_STRING(_label.value)), ',' ORDER BY _position), '}}')) FROM UNNEST({column}) AS _label "
            "WITH OFFSET AS _position)"
        )

    # ------------------------------------------------------------------ one node at a time

    def _scalar(self, node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.DataType):
            return self._type(node)
        if isinstance(node, exp.Placeholder):
            # sqlglot writes a named placeholder as @name; a procedure reads its arguments as plain names
            return exp.column(node.name) if node.name and self.parameters == "variables" else node
        if (
            isinstance(node, exp.Cast)
            and node.to.is_type(*exp.DataType.TEXT_TYPES)
            and isinstance(node.this, exp.Column)
            and node.this.name.lower() in self.json_columns
        ):
            return exp.func("TO_JSON_STRING", node.this)
        if isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.BIGDECIMAL, exp.DataType.Type.DECIMAL):
            scale = _scale(node.to)
            base = self._type(node.to).this  # NUMERIC or BIGNUMERIC, chosen on (p, s); the CAST drops (p, s)
            node.set("to", exp.DataType(this=base))
            if scale is not None and not isinstance(node.this, exp.Null):
                return exp.func("ROUND", node, exp.Literal.number(scale))
        if isinstance(node, exp.Add | exp.Sub) and isinstance(node.expression, exp.Interval):
            interval = node.expression
            amount = interval.this.name if isinstance(interval.this, exp.Literal) else interval.this.sql("bigquery")
            if not re.fullmatch(r"-?\d+", amount):
                raise TranslationError(f"{self.where}: interval amount must be an integer: {node.sql('duckdb')!r}")
            amount = str(-int(amount)) if isinstance(node, exp.Sub) else amount
            if interval.unit is None:
                raise TranslationError(f"{self.where}: interval without a unit: {node.sql('duckdb')!r}")
            unit = interval.unit.name.upper()
            return _parse(f"TIMESTAMP(DATETIME_ADD(DATETIME({node.this.sql('bigquery')}), INTERVAL {amount} {unit}))")
        if isinstance(node, exp.RegexpExtract):
            return self._regexp_extract(node)
        if isinstance(node, exp.IgnoreNulls) and isinstance(node.this, exp.AnyValue):
            return node.this  # BigQuery's ANY_VALUE skips NULLs by definition and has no IGNORE NULLS clause
        if isinstance(node, exp.Anonymous) and node.name.lower() == "epoch_us":
            return exp.Anonymous(this="UNIX_MICROS", expressions=node.expressions)
        if isinstance(node, exp.JSONKeys):
            return self._json_keys(node.this)
        if isinstance(node, exp.JSONExtractScalar) and not isinstance(node.expression, exp.JSONPath | exp.Literal):
            key = _pointer_key(node.expression)
            if key is None:
                raise TranslationError(
                    f"{self.where}: a JSON value looked up by a computed key must spell the key as a JSON Pointer, "
                    f"j ->> ('/' || replace(replace(k, '~', '~0'), '/', '~1')) (read literally on both engines): "
                    f"{node.sql('duckdb')!r}"
                )
            return exp.JSONExtractScalar(
                this=exp.Bracket(this=node.this, expressions=[key]),
                expression=exp.JSONPath(expressions=[exp.JSONPathRoot()]),
                scalar_only=True,
            )
        if isinstance(node, exp.SplitPart):
            index = node.args["part_index"]
            if not (isinstance(index, exp.Literal) and index.is_int and int(index.name) > 0):
                raise TranslationError(f"{self.where}: split_part needs a positive literal index: {node.sql()!r}")
            value, delimiter = node.this.sql("bigquery"), node.args["delimiter"].sql("bigquery")
            part = f"SPLIT({value}, {delimiter})[SAFE_OFFSET({int(index.name) - 1})]"
            return _parse(f"IF({value} IS NULL, NULL, COALESCE({part}, ''))")  # DuckDB: '' past the last part
        if (
            isinstance(node, exp.Select)
            and node.args.get("qualify")
            and not any(node.args.get(k) for k in ("where", "group", "having"))
        ):
            node.where(exp.true(), copy=False)
        return node

    def _json_keys(self, node: exp.Expr) -> exp.Expr:
        """The top-level keys as DuckDB's json_keys gives them. BigQuery's JSON_KEYS writes a key holding '.', '"',
        '\\' or a control character as a JSON string literal (ZetaSQL's JsonKeysTreeWalker::EscapeKey); JSON_VALUE
        reads it back. No key it leaves bare starts with '"'."""
        key = self._name("key")
        return _parse(
            f"ARRAY(SELECT IF(STARTS_WITH({key}, '\"'), JSON_VALUE({key}, '$'), {key}) "
            f"FROM UNNEST(JSON_KEYS({node.sql('bigquery')}, 1)) AS {key})"
        )

    def _type(self, node: exp.DataType) -> exp.DataType:
        """DECIMAL(p, s) -> NUMERIC(p, s) or BIGNUMERIC(p, s) (sqlglot keeps the parameters in DDL only)."""
        if node.is_type(exp.DataType.Type.DECIMAL):
            params = [int(p.name) for p in node.expressions]
            precision, scale = (params + [18, 3][len(params) :])[:2] if params else (18, 3)
            return exp.DataType.build(bigquery_decimal(precision, scale), dialect="bigquery")
        return node

    def _regexp_extract(self, node: exp.RegexpExtract) -> exp.Expr:
        pattern = node.expression
        group = node.args.get("group")
        if not isinstance(pattern, exp.Literal):
            raise TranslationError(f"{self.where}: regexp_extract needs a literal pattern: {node.sql('duckdb')!r}")
        groups = len(re.findall(r"(?<!\\)\((?!\?)", pattern.this))
        wanted = int(group.name) if group is not None else 0
        # BigQuery returns the whole match without a capturing group, the group with exactly one, else errors
        if not ((wanted == 0 and groups == 0) or (wanted == 1 and groups == 1)):
            raise TranslationError(
                f"{self.where}: regexp_extract group {wanted} of a pattern with {groups} groups: {node.sql('duckdb')!r}"
            )
        value = node.this.sql("bigquery")
        # DuckDB gives '' when nothing matches, BigQuery NULL
        return _parse(f"IF({value} IS NULL, NULL, COALESCE(REGEXP_EXTRACT({value}, {pattern.sql('bigquery')}), ''))")


def _scale(data_type: exp.DataType) -> int | None:
    params = data_type.expressions
    return int(params[1].name) if len(params) == 2 else None


class _Dialect(BigQuery):
    """sqlglot's BigQuery, writing ``INTERVAL 1 DAY`` (the form BigQuery documents for DATETIME_ADD) instead of
    ``INTERVAL '1' DAY``."""

    class Generator(BigQueryGenerator):
        def interval_sql(self, expression: exp.Interval) -> str:
            this, unit = expression.this, expression.args.get("unit")
            if isinstance(this, exp.Literal) and re.fullmatch(r"-?\d+", this.name) and isinstance(unit, exp.Var):
                return f"INTERVAL {this.name} {unit.name.upper()}"
            return super().interval_sql(expression)


def _wildcard_path(node: exp.JSONExtractScalar) -> str | None:
    """``$[*].a.b`` -> ``$.a.b`` (the path inside each array element); None for paths without ``[*]``."""
    path = node.expression.sql("duckdb").strip("'")
    match = re.fullmatch(r"\$\[\*\]((?:\.[A-Za-z_][A-Za-z0-9_]*)*)", path)
    if match is None:
        return None
    return "$" + match.group(1)


def _pointer_key(path: exp.Expr) -> exp.Expr | None:
    """``k`` of ``'/' || replace(replace(k, '~', '~0'), '/', '~1')`` (the JSON Pointer of the key ``k``), else None."""
    path = path.unnest()
    if not (isinstance(path, exp.DPipe) and _is_string(path.this, "/")):
        return None
    slash = path.expression
    if not (isinstance(slash, exp.Replace) and _replaces(slash, "/", "~1") and isinstance(slash.this, exp.Replace)):
        return None
    tilde = slash.this
    return tilde.this if _replaces(tilde, "~", "~0") else None


def _replaces(node: exp.Replace, old: str, new: str) -> bool:
    return _is_string(node.expression, old) and _is_string(node.args.get("replacement"), new)


def _is_string(node: exp.Expr | None, value: str) -> bool:
    return isinstance(node, exp.Literal) and node.is_string and node.this == value


def _parse(sql: str) -> exp.Expr:
    return sqlglot.parse_one(sql, read="bigquery", error_level=ErrorLevel.RAISE)
