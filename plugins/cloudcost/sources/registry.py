"""Build the ``BillingExport`` reader an org's config asks for."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from cloudcost.config import BillingConfig, OrgConfig, Provider, load_billing_config
from cloudcost.paths import landing_dir
from cloudcost.sources.aws import AwsDataExport
from cloudcost.sources.azure import AzureCostExport
from cloudcost.sources.base import BillingExport
from cloudcost.sources.gcp import GcpBillingExportFiles
from cloudcost.sources.object_store import LocalObjectStore, ObjectStore
from cloudcost.sources.oci import OciCostReports

if TYPE_CHECKING:  # the SDKs load only when an org's export lives in that cloud
    from azure.storage.blob import ContainerClient

SUPPORTED: set[tuple[Provider, str]] = {
    ("aws", "cur2"),
    ("aws", "focus_1_2"),
    ("gcp", "detailed"),
    ("azure", "cost_details"),
    ("oci", "cost_report"),
}


class UnsupportedExport(ValueError):
    """No reader exists (yet) for this provider and format."""


def object_store_for(org: OrgConfig, provider: Provider, secret: bytes | None = None) -> ObjectStore:
    """The store an org's export lives in; cloud stores are built from the org's decrypted credential."""
    export = org.providers[provider].export
    if export.location == "landing":
        return LocalObjectStore(landing_dir(org.slug, provider))
    if export.location.startswith("s3://") and provider == "aws":
        from cloudcost.sources.s3_store import S3ObjectStore  # the SDKs load only when used

        return S3ObjectStore(export.location[len("s3://") :], _s3_client(org, secret, export.endpoint_url))
    if export.location.startswith("azure://") and provider == "azure":
        from cloudcost.sources.azure_store import AzureBlobObjectStore  # the SDKs load only when used

        account, container = export.location[len("azure://") :].split("/", 1)
        return AzureBlobObjectStore(_azure_container(org, secret, account, container, export.endpoint_url))
    if export.location.startswith("oci://") and provider == "oci":
        from cloudcost.sources.oci_store import OciObjectStore

        bucket, namespace = export.location[len("oci://") :].rsplit("@", 1)
        return OciObjectStore(_oci_client(org, secret, export.endpoint_url), namespace, bucket)
    raise UnsupportedExport(
        f"org {org.slug}, provider {provider}: export location {export.location!r} is not supported"
    )


def _credential_json(org: OrgConfig, provider: Provider, secret: bytes | None) -> dict:
    if secret is None:
        raise UnsupportedExport(f"org {org.slug}: a cloud export location needs the org's {provider} credential")
    try:
        document = json.loads(secret)
    except (ValueError, UnicodeDecodeError):
        document = None
    if not isinstance(document, dict):
        raise UnsupportedExport(f"org {org.slug}: the stored {provider} credential is not a JSON object")
    return document


def _azure_container(
    org: OrgConfig, secret: bytes | None, account: str, container: str, endpoint_url: str | None
) -> ContainerClient:
    """A ContainerClient from the credential JSON: ``connection_string``, or ``sas_token`` (or
    ``account_key``) for ``https://<account>.blob.core.windows.net`` (``endpoint_url`` overrides it)."""
    from azure.storage.blob import ContainerClient

    keys = _credential_json(org, "azure", secret)
    if keys.get("connection_string"):
        return ContainerClient.from_connection_string(keys["connection_string"], container)
    credential = keys.get("sas_token") or keys.get("account_key")
    if not credential:
        raise UnsupportedExport(
            f"org {org.slug}: the stored azure credential has none of connection_string, sas_token, account_key"
        )
    url = (endpoint_url or f"https://{account}.blob.core.windows.net").rstrip("/")
    if keys.get("account_key"):
        credential = {"account_name": account, "account_key": keys["account_key"]}
    return ContainerClient(url, container, credential=credential)


OCI_KEYS = ("user", "fingerprint", "tenancy", "region", "key_content")


def _oci_client(org: OrgConfig, secret: bytes | None, endpoint_url: str | None) -> object:
    """An ObjectStorageClient from the credential JSON: an OCI API-key config (user, fingerprint, tenancy,
    region, key_content = the PEM private key). Errors name the missing key, never a value."""
    import oci

    config = _credential_json(org, "oci", secret)
    missing = [key for key in OCI_KEYS if not config.get(key)]
    if missing:
        raise UnsupportedExport(f"org {org.slug}: the stored oci credential lacks {', '.join(missing)}")
    kwargs = {"service_endpoint": endpoint_url} if endpoint_url else {}
    return oci.object_storage.ObjectStorageClient({k: config[k] for k in OCI_KEYS}, **kwargs)


def _s3_client(org: OrgConfig, secret: bytes | None, endpoint_url: str | None) -> object:
    """AWS keys from the credential JSON (``aws_access_key_id``, ``aws_secret_access_key``, optional
    ``aws_session_token`` and ``region``); errors name the org and key, never a value."""
    import boto3

    from cloudcost.sources.s3_store import s3_client

    if secret is None:
        raise UnsupportedExport(f"org {org.slug}: an s3:// export location needs the org's aws credential")
    try:
        keys = json.loads(secret)
        session = boto3.Session(
            aws_access_key_id=keys["aws_access_key_id"],
            aws_secret_access_key=keys["aws_secret_access_key"],
            aws_session_token=keys.get("aws_session_token"),
            region_name=keys.get("region", "us-east-1"),
        )
    except (ValueError, TypeError, KeyError) as exc:
        missing = f" (missing key {exc.args[0]!r})" if isinstance(exc, KeyError) else ""
        raise UnsupportedExport(
            f"org {org.slug}: the stored aws credential is not JSON with aws_access_key_id and "
            f"aws_secret_access_key{missing}"
        ) from None
    return s3_client(session=session, endpoint_url=endpoint_url)


def open_export(
    org: OrgConfig, provider: Provider, secret: bytes | None = None, billing: BillingConfig | None = None
) -> BillingExport:
    """The org's export reader for the provider; ``billing`` is its billing.yml when the caller has it already
    (a run resolves it once), else it is read here for the export's lag."""
    entry = org.providers.get(provider)
    if entry is None or not entry.enabled:
        raise UnsupportedExport(f"org {org.slug} does not enable provider {provider}")
    export = entry.export
    if (provider, export.format) not in SUPPORTED:
        raise UnsupportedExport(f"org {org.slug}: no reader for {provider} export format {export.format!r}")
    lag = (billing or load_billing_config(provider)).completeness.export_lag_hours
    if export.location.startswith("bigquery://"):
        return _bigquery_export(org, provider, secret, lag)
    store = object_store_for(org, provider, secret)
    if provider == "azure":
        if not export.companion:
            raise UnsupportedExport(
                f"configs/orgs/{org.slug}.yml: key 'providers.azure.export.companion': name the actual-cost export "
                "beside the amortized one (commitment purchases and refunds are only in the actual export)"
            )
        return AzureCostExport(store, export.prefix, export.name, export.companion, export.format, lag)
    if provider == "oci":
        return OciCostReports(store, f"{export.prefix}/{export.name}", export.format, lag)
    if provider == "gcp":
        return GcpBillingExportFiles(store, export.prefix, export.name, export.format, lag)
    return AwsDataExport(store, export.prefix, export.name, export.format, lag)


def _bigquery_export(org: OrgConfig, provider: Provider, secret: bytes | None, lag: float) -> BillingExport:
    """GCP's detailed export table, queried with the org's service-account key."""
    from cloudcost.sources.gcp_bigquery import GcpBigQueryExport, bigquery_client

    export = org.providers[provider].export
    if provider != "gcp":
        raise UnsupportedExport(f"org {org.slug}, provider {provider}: bigquery:// locations are for gcp only")
    if secret is None:
        raise UnsupportedExport(f"org {org.slug}: a bigquery:// export location needs the org's gcp credential")
    project, dataset = export.location[len("bigquery://") :].split(".", 1)
    return GcpBigQueryExport(bigquery_client(secret, org.slug, project), org.slug, project, dataset, export.name, lag)
