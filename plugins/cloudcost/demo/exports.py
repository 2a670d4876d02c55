"""Write one org's demo exports for every provider it enables, as ``cloudcost demo generate`` and the estate do.

One place knows which generator writes which provider's layout under ``data/landing/<org>/<provider>/``, so the
single demo org and an estate of many orgs get the same files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from cloudcost.config import ConfigError, ExportLocation, OrgConfig, Provider
from cloudcost.demo import aws_cur2, azure_cost_details, gcp_detailed, oci_cost_reports
from cloudcost.demo.written import Written, write_and_count
from cloudcost.paths import landing_dir


def companion(org_slug: str, export: ExportLocation) -> str:
    """The Azure actual-cost export written beside the amortized one; the landing reads both, so an org file
    without it cannot be generated for."""
    if not export.companion:
        raise ConfigError(
            f"configs/orgs/{org_slug}.yml: key 'providers.azure.export.companion': name the actual-cost export "
            "beside the amortized one"
        )
    return export.companion


def _writer(
    org_slug: str, provider: Provider, root: Path, days: list[date], seed: int, volume: dict[str, Any]
) -> Callable[[ExportLocation], Iterable[Path]]:
    if provider == "aws":
        return lambda e: aws_cur2.write_delivery(root, days, seed, e.prefix, e.name, **volume)
    if provider == "azure":
        return lambda e: azure_cost_details.write_exports(
            root, days, seed, e.prefix, e.name, companion(org_slug, e), **volume
        )
    if provider == "oci":
        return lambda e: oci_cost_reports.write_reports(root, days, seed, f"{e.prefix}/{e.name}", **volume)
    return lambda e: gcp_detailed.write_export(root, days, seed, e.prefix, e.name, **volume)


def write_org_exports(
    org: OrgConfig, days: list[date], seed: int, scale: int = 1, incomplete_day: date | None = None
) -> list[Written]:
    """Every enabled provider's exports of ``days`` for ``org``; one ``Written`` per provider."""
    volume: dict[str, Any] = {"scale": scale, "incomplete_day": incomplete_day}
    written = []
    for provider, entry in org.providers.items():
        if not entry.enabled:
            continue
        root = landing_dir(org.slug, provider)
        write = _writer(org.slug, provider, root, days, seed, volume)
        written.append(write_and_count(provider, root, days, partial(write, entry.export)))
    return written
