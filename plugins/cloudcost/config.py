"""Pydantic models for the YAML that drives the DAGs, and loaders that name the file and key at fault.

Two kinds of file:
- ``configs/cloud/<provider>/cost/billing.yml``: how one provider's billing is landed (schedule,
  completeness rule, raw tables, convert procedure). One file per provider, one DAG per file.
- ``configs/orgs/<org>.yml``: one customer organisation: which providers it enables and with which
  credential and export location.

A bad provider file breaks only that provider's DAG (the DAG file raises ``ConfigError``, which Airflow
records as an import error for that file). A bad org file breaks only that org: the DAGs load the valid orgs
with ``load_orgs_tolerant`` and report the bad file in a failing task of their runs.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from cloudcost.identifiers import OrgSlug, parse_org_slug
from cloudcost.paths import config_dir, procedures_dir, schemas_dir
from cloudcost.yaml_text import YAMLError, parse_yaml

Provider = Literal["aws", "gcp", "azure", "oci"]
PROVIDERS: tuple[Provider, ...] = get_args(Provider)

_IDENT = r"^[a-z][a-z0-9_]{0,62}$"
Identifier = Annotated[str, Field(pattern=_IDENT)]


class ConfigError(ValueError):
    """A configuration file is missing, unreadable or invalid; the message names the file and keys."""


def parse_provider(value: str) -> Provider:
    """A provider named by a string from outside (a file path, a run's conf, a stored record), checked once
    at that edge so everything inside can take a ``Provider``."""
    for provider in PROVIDERS:
        if value == provider:
            return provider
    raise ConfigError(f"unknown provider {value!r}; expected one of {', '.join(PROVIDERS)}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- provider billing config


class DagSettings(_Strict):
    """Scheduling and policy of the provider's DAG."""

    schedule: Literal["daily"] = Field(description="one run per UTC billing day (BillingDayTimetable)")
    start_date: date
    owner: str = Field(min_length=1)
    tags: list[str] = Field(min_length=1)
    retries: int = Field(ge=0, le=10)
    retry_delay_minutes: int = Field(ge=1, le=240)
    max_active_runs: int = Field(ge=1, le=64)
    catchup: bool = False


class Completeness(_Strict):
    """How long ``wait_for_export`` waits for a complete export before the task fails."""

    mode: Literal["reschedule", "poke"] = "reschedule"
    poke_interval_seconds: int = Field(ge=5, le=86_400)
    timeout_hours: float = Field(gt=0, le=24 * 14)
    export_lag_hours: float = Field(
        default=0,
        ge=0,
        le=24 * 7,
        description="the delivery (AWS manifest, Azure run) or watermark (GCP export_time, OCI usage end) "
        "must pass the day's end by this many hours",
    )


class Reconcile(_Strict):
    """Raw-side columns the ``check`` stage sums, independently of the convert procedure."""

    billing_account: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,127}$")
    billed_cost: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,127}$")
    currency: str = Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_]{0,127}$",
        description="the billing currency column: one billing account is billed in one currency",
    )
    only_where: dict[str, str] = Field(
        default_factory=dict, description="raw rows that make up the invoice, e.g. {x_cost_dataset: actual}"
    )


class RawFormat(_Strict):
    """One export format of the provider: where its raw rows land and which procedure converts them."""

    table: Identifier
    schema_file: str = Field(description="path under schemas/, e.g. raw/aws_cur2.yml")
    procedure: str = Field(description="path under procedures/, e.g. sp_cloud_1_convert_to_focus/aws_cur2.sql")
    partition_by: Literal["ingestion_date"] = "ingestion_date"
    retention_days: int = Field(ge=1, le=3650, default=730)
    cluster_by: list[str] = Field(default_factory=list, max_length=4)
    reconcile: Reconcile
    line_item_identity: list[str] = Field(
        default_factory=list,
        description="raw columns that identify one line item (AWS identity_line_item_id + "
        "identity_time_interval, OCI reference_no): a repeated identity fails the load",
    )


class Restatements(_Strict):
    """Late data: each run re-checks the slices already loaded in a trailing window and reloads those whose
    source version (AWS execution id, Azure run ids, GCP export_time watermark, OCI report set) changed."""

    recheck_months: int = Field(default=1, ge=0, le=12, description="0: off; 1: this and the previous month")


class Guards(_Strict):
    """What a delivery may change without an operator's permit (``cloudcost permit-shrink``): a load that
    empties a day, or drops a day's rows or billed cost by more than ``max_shrink`` of what it held, fails."""

    max_shrink: float = Field(default=0.5, gt=0, le=1, description="0.5: a day may lose up to half its rows or cost")


class PoolSettings(_Strict):
    """The Airflow pool of the provider's API: its tasks that call the cloud (sensor, land_raw, recheck_window)
    share ``slots`` across every org, run and backfill, so a wide backfill cannot exceed the API's limits."""

    name: Identifier
    slots: int = Field(ge=1, le=1024)
    description: str = Field(min_length=1)


class BillingConfig(_Strict):
    """``configs/cloud/<provider>/cost/billing.yml``."""

    provider: Provider
    description: str
    dag: DagSettings
    completeness: Completeness
    restatements: Restatements = Field(default_factory=Restatements)
    guards: Guards = Field(default_factory=Guards)
    pool: PoolSettings
    formats: dict[Identifier, RawFormat] = Field(min_length=1)

    @property
    def dag_id(self) -> str:
        return f"cloud_{self.provider}_cost_billing"

    def missing_files(self) -> list[str]:
        """Keys whose schema or procedure file does not exist, as ``key: path`` lines."""
        missing = []
        for name, fmt in self.formats.items():
            for key, path in (
                ("schema_file", schemas_dir() / fmt.schema_file),
                ("procedure", procedures_dir() / fmt.procedure),
            ):
                if not path.is_file():
                    missing.append(f"formats.{name}.{key}: {path} does not exist")
        return missing


# --------------------------------------------------------------------------- org config


class ExportLocation(_Strict):
    """Where an org's export lives: ``landing`` (the embedded default, ``data/landing/<org>/<provider>/``),
    for AWS ``s3://<bucket>``, for GCP ``bigquery://<project>.<dataset>`` (``name``: the export table), for
    Azure ``azure://<storage account>/<container>``, for OCI ``oci://<bucket>@<namespace>`` (the tenancy OCID
    in namespace ``bling``), each read with the org's stored credential."""

    format: Identifier
    location: str = Field(
        default="landing",
        pattern=r"^(landing|s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]|bigquery://[a-z][a-z0-9\-]{4,28}[a-z0-9]\.[A-Za-z_][A-Za-z0-9_]{0,127}"
        r"|azure://[a-z0-9]{3,24}/[a-z0-9](?:[a-z0-9\-]{1,61}[a-z0-9])?"
        r"|oci://[A-Za-z0-9._\-]{1,256}@[a-z0-9]{1,64})$",
    )
    endpoint_url: str | None = Field(
        default=None, pattern=r"^https?://[A-Za-z0-9.\-]+(:[0-9]+)?/?$", description="S3-compatible endpoint"
    )
    prefix: str = Field(default="", pattern=r"^[A-Za-z0-9_\-./]*$")
    name: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,128}$")
    companion: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_\-]{1,128}$",
        description="Azure: the actual-cost export beside the amortized one",
    )


class OrgProvider(_Strict):
    enabled: bool = True
    credential_id: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$")
    export: ExportLocation


TagKey = Annotated[str, Field(pattern=r"^[^\x00-\x1f]{1,128}$")]


class Attribution(_Strict):
    """Which tag keys give each cost dimension: an ordered alias list, first match wins. A key matches
    case-insensitively, with or without its provider prefix (``user:`` on AWS, a namespace on OCI)."""

    department: list[TagKey] = Field(default=["department", "dept", "business-unit", "business_unit", "bu"])
    team: list[TagKey] = Field(default=["team", "squad", "owner"])
    environment: list[TagKey] = Field(default=["environment", "env", "stage"])
    cost_center: list[TagKey] = Field(default=["cost-center", "cost_center", "costcenter", "cc"])

    def aliases(self) -> dict[str, list[str]]:
        """Lower-cased alias lists per dimension (the SQL compares lower-cased keys)."""
        return {name: [alias.lower() for alias in getattr(self, name)] for name in DIMENSIONS}


DIMENSIONS = ("department", "team", "environment", "cost_center")


class Budget(_Strict):
    """A monthly budget for a team (or ``*``: the whole org), judged on every evaluation."""

    name: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$")
    team: str = Field(default="*", min_length=1, max_length=128, description="lower-case team, or * for the org")
    amount: Decimal = Field(gt=0)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    period: Literal["monthly"] = "monthly"
    basis: Literal["EffectiveCost", "BilledCost"] = "EffectiveCost"
    warn_at: Decimal = Field(default=Decimal("0.8"), gt=0, description="WARNING when the forecast reaches this share")
    critical_at: Decimal = Field(default=Decimal("1.0"), gt=0, description="CRITICAL when actual spend reaches it")


class AnomalySettings(_Strict):
    """Daily cost per team and ServiceCategory against its trailing baseline."""

    threshold_sigma: Decimal = Field(default=Decimal("2.5"), gt=0)
    baseline_days: int = Field(default=14, ge=3, le=90)
    min_baseline_days: int = Field(default=7, ge=2, le=90)
    min_cost: Decimal = Field(default=Decimal("1"), ge=0, description="days cheaper than this are never anomalies")
    team_thresholds: dict[str, Decimal] = Field(default_factory=dict, description="per-team threshold_sigma")


class Notifier(_Strict):
    type: Literal["log", "webhook"]
    url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")


class AlertSettings(_Strict):
    suppress_hours: float = Field(default=24, ge=0, le=24 * 31, description="no second notice of an alert within")
    notifiers: list[Notifier] = Field(default_factory=lambda: [Notifier(type="log")])


class OrgConfig(_Strict):
    """``configs/orgs/<org>.yml``."""

    slug: Annotated[OrgSlug, AfterValidator(parse_org_slug)]  # the org file is an edge: parsed here
    display_name: str
    environment: Literal["prod", "dev", "test"] = "prod"
    providers: dict[Provider, OrgProvider] = Field(default_factory=dict)
    attribution: Attribution = Field(default_factory=Attribution)
    budgets: list[Budget] = Field(default_factory=list)
    anomalies: AnomalySettings = Field(default_factory=AnomalySettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)

    @property
    def dataset(self) -> str:
        """The warehouse schema (DuckDB) or dataset (BigQuery) of this org: ``<org>_<environment>``."""
        return f"{self.slug}_{self.environment}"

    def enables(self, provider: Provider) -> bool:
        entry = self.providers.get(provider)
        return entry is not None and entry.enabled


class RollupGate(_Strict):
    """How long ``wait_for_loads`` waits for every enabled provider's checked load before it fails."""

    mode: Literal["reschedule", "poke"] = "reschedule"
    poke_interval_seconds: int = Field(ge=5, le=86_400)
    timeout_hours: float = Field(gt=0, le=24 * 14)


class RollupsConfig(_Strict):
    """``configs/rollups.yml``: the ``cost_rollups`` DAG."""

    dag_id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    description: str
    dag: DagSettings
    gate: RollupGate


# --------------------------------------------------------------------------- warehouse


class BigQuerySettings(_Strict):
    """The BigQuery project that holds the org datasets, and the location they are created in."""

    project: str = Field(pattern=r"^[a-z][a-z0-9\-]{4,28}[a-z0-9]$")
    location: str = Field(default="US", pattern=r"^[A-Za-z0-9\-]{2,40}$")


class DuckDBSettings(_Strict):
    """Bounds of one DuckDB process (a task, or the worker typing rows for BigQuery). The defaults fit a
    2-core, 4 GB worker running two tasks at once: DuckDB's buffers stop at ``memory_limit`` (not the whole
    process: Python and the query's own state come on top) and large statements spill to ``temp_directory``."""

    memory_limit: str = Field(default="1GB", pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")
    threads: int = Field(default=2, ge=1, le=256)
    temp_directory: str | None = Field(default=None, description="default: <data dir>/tmp/duckdb")
    spool_directory: str | None = Field(
        default=None, description="copies of cloud export objects while they land; default: <data dir>/tmp/spool"
    )


class WarehouseConfig(_Strict):
    """``configs/warehouse.yml`` (optional; without it the embedded DuckDB file is the warehouse)."""

    warehouse: Literal["duckdb", "bigquery"] = "duckdb"
    bigquery: BigQuerySettings | None = None
    duckdb: DuckDBSettings = Field(default_factory=DuckDBSettings)


def load_warehouse_config(root: Path | None = None) -> WarehouseConfig:
    """``configs/warehouse.yml``; ``CLOUDCOST_WAREHOUSE_BACKEND`` overrides its ``warehouse`` key and
    ``CLOUDCOST_BIGQUERY_PROJECT`` / ``CLOUDCOST_BIGQUERY_LOCATION`` its ``bigquery`` block."""
    import os

    path = (root or config_dir()) / "warehouse.yml"
    data = _read_yaml(path) if path.is_file() else {}
    data = dict(data) if isinstance(data, dict) else data
    if isinstance(data, dict):
        if os.environ.get("CLOUDCOST_WAREHOUSE_BACKEND"):
            data["warehouse"] = os.environ["CLOUDCOST_WAREHOUSE_BACKEND"]
        overrides = {
            key: os.environ[env]
            for key, env in (("project", "CLOUDCOST_BIGQUERY_PROJECT"), ("location", "CLOUDCOST_BIGQUERY_LOCATION"))
            if os.environ.get(env)
        }
        if overrides:
            data["bigquery"] = {**(data.get("bigquery") or {}), **overrides}
    config = _validate(WarehouseConfig, path, data)
    assert isinstance(config, WarehouseConfig)
    if config.warehouse == "bigquery" and config.bigquery is None:
        raise ConfigError(f"{path}: key 'bigquery': warehouse is bigquery but no bigquery.project is set")
    return config


# --------------------------------------------------------------------------- loading


def _read_yaml(path: Path) -> object:
    """The file's YAML, parsed once per version of the file in this process (a task reads the same few files
    at every stage; an edited file is read again)."""
    try:
        stat = path.stat()
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    return copy.deepcopy(_parsed_yaml(path, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=256)
def _parsed_yaml(path: Path, mtime_ns: int, size: int) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    try:
        return parse_yaml(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}:{where} not valid YAML: {getattr(exc, 'problem', exc)}") from exc


def _explain(path: Path, error: ValidationError) -> ConfigError:
    """One line per bad key, each naming the file and the dotted key."""
    lines, bad_keys = [], []
    for item in error.errors():
        parts = [str(part) for part in item["loc"]]
        if "[key]" in parts:  # a mapping key that is not allowed, e.g. an unknown provider
            key = ".".join(parts[: parts.index("[key]")])
            bad_keys.append(key)
            lines.append(f"{path}: key '{key}': not an allowed name here ({item['msg']})")
            continue
        key = ".".join(parts) or "(top level)"
        if any(key.startswith(bad + ".") for bad in bad_keys):
            continue  # details under a key already reported as not allowed
        msg = "unknown key (typo?)" if item["type"] == "extra_forbidden" else item["msg"]
        lines.append(f"{path}: key '{key}': {msg}")
    return ConfigError("\n".join(lines))


def _validate(model: type[BaseModel], path: Path, data: object) -> BaseModel:
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _explain(path, exc) from None


def billing_config_path(provider: Provider, root: Path | None = None) -> Path:
    return (root or config_dir()) / "cloud" / provider / "cost" / "billing.yml"


def load_billing_config(provider: Provider, root: Path | None = None) -> BillingConfig:
    """Load and validate one provider's billing.yml; the provider is checked at run time too, as the DAG files
    (outside the type check) name it with a plain string."""
    provider = parse_provider(provider)
    path = billing_config_path(provider, root)
    config = _validate(BillingConfig, path, _read_yaml(path))
    assert isinstance(config, BillingConfig)
    if config.provider != provider:
        raise ConfigError(f"{path}: key 'provider': says {config.provider!r} but the file is under {provider}/")
    return config


def require_files(config: BillingConfig, root: Path | None = None) -> None:
    """Raise ``ConfigError`` naming billing.yml and each key whose file is missing."""
    missing = config.missing_files()
    if missing:
        path = billing_config_path(config.provider, root)
        raise ConfigError(
            "\n".join(f"{path}: key '{line.split(':', 1)[0]}':{line.split(':', 1)[1]}" for line in missing)
        )


def load_org(path: Path) -> OrgConfig:
    """Load and validate one org file; the file name must be ``<slug>.yml``."""
    config = _validate(OrgConfig, path, _read_yaml(path))
    assert isinstance(config, OrgConfig)
    if path.stem != config.slug:
        raise ConfigError(f"{path}: key 'slug': is {config.slug!r} but the file is named {path.name}")
    return config


def org_files(root: Path | None = None) -> list[Path]:
    return sorted(((root or config_dir()) / "orgs").glob("*.yml"))


@dataclass(frozen=True)
class OrgFileProblem:
    """An org file that could not be loaded: the file, and the error naming it and each bad key."""

    path: Path
    error: ConfigError

    @property
    def slug(self) -> str:
        """The org the file is named for (``<slug>.yml``); the file's own ``slug`` key may be the bad one."""
        return self.path.stem


@dataclass(frozen=True)
class OrgLoad:
    """The valid orgs, sorted by slug, and one problem per org file that is not valid."""

    orgs: list[OrgConfig] = field(default_factory=list)
    problems: list[OrgFileProblem] = field(default_factory=list)


def load_orgs_tolerant(provider: Provider | None = None, root: Path | None = None) -> OrgLoad:
    """Every valid org that enables ``provider`` (``None``: every org), plus the files that are not valid.

    What the DAGs load at parse time, so a bad org file stops only its own org. An org file whose readable
    ``providers`` mapping does not name ``provider`` is not validated for it (not this DAG's org); a file
    that is not even readable YAML could be any DAG's, so it is a problem for every one.
    """
    loaded = OrgLoad()
    for path in org_files(root):
        try:
            if provider is not None:
                raw = _read_yaml(path)
                providers = raw.get("providers") if isinstance(raw, dict) else None
                if isinstance(providers, dict) and provider not in providers:
                    continue
            org = load_org(path)
        except ConfigError as exc:
            loaded.problems.append(OrgFileProblem(path, exc))
            continue
        if provider is None or org.enables(provider):
            loaded.orgs.append(org)
    return loaded


def load_orgs_for_provider(provider: Provider, root: Path | None = None) -> list[OrgConfig]:
    """Every org that enables ``provider``, sorted by slug; raises the first bad org file's ``ConfigError``."""
    loaded = load_orgs_tolerant(provider, root)
    if loaded.problems:
        raise loaded.problems[0].error
    return loaded.orgs


def load_rollups_config(root: Path | None = None) -> RollupsConfig:
    config = _validate(
        RollupsConfig, (root or config_dir()) / "rollups.yml", _read_yaml((root or config_dir()) / "rollups.yml")
    )
    assert isinstance(config, RollupsConfig)
    return config


def load_all_orgs(root: Path | None = None) -> list[OrgConfig]:
    """Every org file, validated, sorted by slug."""
    return [load_org(path) for path in org_files(root)]


def org_file_path(slug: OrgSlug, root: Path | None = None) -> Path:
    """``configs/orgs/<slug>.yml`` of a parsed slug."""
    return (root or config_dir()) / "orgs" / f"{slug}.yml"


def load_org_by_slug(slug: OrgSlug, root: Path | None = None) -> OrgConfig:
    return load_org(org_file_path(slug, root))
