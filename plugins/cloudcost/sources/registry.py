"""Build the ``BillingExport`` reader an org's config asks for."""

from __future__ import annotations

from cloudcost.config import OrgConfig, load_billing_config
from cloudcost.paths import landing_dir
from cloudcost.sources.aws import AwsDataExport
from cloudcost.sources.azure import AzureCostExport
from cloudcost.sources.base import BillingExport
from cloudcost.sources.gcp import GcpBillingExportFiles
from cloudcost.sources.object_store import LocalObjectStore, ObjectStore
from cloudcost.sources.oci import OciCostReports

SUPPORTED = {
    ("aws", "cur2"),
    ("aws", "focus_1_2"),
    ("gcp", "detailed"),
    ("azure", "cost_details"),
    ("oci", "cost_report"),
}


class UnsupportedExport(ValueError):
    """No reader exists (yet) for this provider and format."""


def object_store_for(org: OrgConfig, provider: str) -> ObjectStore:
    location = org.providers[provider].export.location  # type: ignore[index]
    if location == "landing":
        return LocalObjectStore(landing_dir(org.slug, provider))
    raise UnsupportedExport(f"org {org.slug}, provider {provider}: export location {location!r} is not supported")


def open_export(org: OrgConfig, provider: str) -> BillingExport:
    entry = org.providers.get(provider)  # type: ignore[call-overload]
    if entry is None or not entry.enabled:
        raise UnsupportedExport(f"org {org.slug} does not enable provider {provider}")
    export = entry.export
    if (provider, export.format) not in SUPPORTED:
        raise UnsupportedExport(f"org {org.slug}: no reader for {provider} export format {export.format!r}")
    store = object_store_for(org, provider)
    if provider == "azure":
        if not export.companion:
            raise UnsupportedExport(
                f"configs/orgs/{org.slug}.yml: key 'providers.azure.export.companion': name the actual-cost export "
                "beside the amortized one (commitment purchases and refunds are only in the actual export)"
            )
        return AzureCostExport(store, export.prefix, export.name, export.companion, export.format)
    if provider == "oci":
        lag = load_billing_config("oci").completeness.export_lag_hours
        return OciCostReports(store, f"{export.prefix}/{export.name}", export.format, lag)
    if provider == "gcp":
        lag = load_billing_config("gcp").completeness.export_lag_hours
        return GcpBillingExportFiles(store, export.prefix, export.name, export.format, lag)
    return AwsDataExport(store, export.prefix, export.name, export.format)
