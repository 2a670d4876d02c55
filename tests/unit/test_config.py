"""Configuration files: the shipped ones validate; each kind of mistake names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cloudcost.config import (
    PROVIDERS,
    ConfigError,
    billing_config_path,
    load_billing_config,
    load_org,
    load_orgs_for_provider,
    require_files,
)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_provider_has_a_valid_billing_config(provider: str) -> None:
    config = load_billing_config(provider)
    assert config.provider == provider
    assert config.dag_id == f"cloud_{provider}_cost_billing"
    for fmt in config.formats.values():
        assert fmt.table.startswith(f"cloud_{provider}_") and fmt.table.endswith("billing_raw_daily")
        assert fmt.partition_by == "ingestion_date"
        assert fmt.retention_days == 730


def test_aws_config_references_existing_schema_and_procedure() -> None:
    require_files(load_billing_config("aws"))


def test_demo_org_enables_aws_in_demo_prod() -> None:
    orgs = load_orgs_for_provider("aws")
    assert [o.slug for o in orgs] == ["demo"]
    assert orgs[0].dataset == "demo_prod"


def _rewrite(path: Path, edit) -> None:
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data))


@pytest.mark.parametrize(
    ("edit", "key", "words"),
    [
        (lambda d: d["dag"].update(retries=-1), "dag.retries", "greater than or equal to 0"),
        (lambda d: d["dag"].update(retriez=2), "dag.retriez", "unknown key"),
        (lambda d: d["completeness"].update(mode="soft"), "completeness.mode", "reschedule"),
        (lambda d: d["formats"]["cur2"].update(table="Bad-Name"), "formats.cur2.table", "pattern"),
        (lambda d: d["formats"]["cur2"].pop("reconcile"), "formats.cur2.reconcile", "required"),
        (lambda d: d["dag"].update(start_date="yesterday"), "dag.start_date", "date"),
    ],
)
def test_bad_billing_config_names_file_and_key(config_dir: Path, edit, key: str, words: str) -> None:
    path = billing_config_path("aws", config_dir)
    _rewrite(path, edit)
    with pytest.raises(ConfigError) as error:
        load_billing_config("aws", config_dir)
    message = str(error.value)
    assert str(path) in message
    assert f"key '{key}'" in message
    assert words.lower() in message.lower()


def test_unreadable_yaml_names_file_and_line(config_dir: Path) -> None:
    path = billing_config_path("aws", config_dir)
    path.write_text("provider: aws\ndag: [unclosed\n")
    with pytest.raises(ConfigError, match=r"billing\.yml: line \d+, column \d+ not valid YAML"):
        load_billing_config("aws", config_dir)


def test_provider_mismatch_is_reported(config_dir: Path) -> None:
    _rewrite(billing_config_path("aws", config_dir), lambda d: d.update(provider="gcp"))
    with pytest.raises(ConfigError, match="key 'provider': says 'gcp' but the file is under aws/"):
        load_billing_config("aws", config_dir)


def test_missing_procedure_is_reported_by_key(config_dir: Path) -> None:
    _rewrite(
        billing_config_path("aws", config_dir),
        lambda d: d["formats"]["cur2"].update(procedure="sp_cloud_1_convert_to_focus/nope.sql"),
    )
    with pytest.raises(ConfigError, match=r"key 'formats\.cur2\.procedure': .*nope\.sql does not exist"):
        require_files(load_billing_config("aws", config_dir))


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda d: d.update(slug="Demo"), "slug"),
        (lambda d: d["providers"]["aws"].update(credential_id="has spaces"), "providers.aws.credential_id"),
        (lambda d: d["providers"]["aws"]["export"].update(location="ftp://nope"), "providers.aws.export.location"),
        (lambda d: d["providers"].update(ibm={}), "providers.ibm"),
    ],
)
def test_bad_org_config_names_file_and_key(config_dir: Path, edit, key: str) -> None:
    path = config_dir / "orgs" / "demo.yml"
    _rewrite(path, edit)
    with pytest.raises(ConfigError) as error:
        load_org(path)
    assert str(path) in str(error.value)
    assert f"key '{key}'" in str(error.value)


def test_org_file_name_must_match_slug(config_dir: Path) -> None:
    path = config_dir / "orgs" / "acme.yml"
    path.write_text((config_dir / "orgs" / "demo.yml").read_text())
    with pytest.raises(ConfigError, match=r"key 'slug': is 'demo' but the file is named acme\.yml"):
        load_org(path)


def test_broken_org_only_breaks_providers_it_names(config_dir: Path) -> None:
    (config_dir / "orgs" / "acme.yml").write_text(
        "slug: acme\ndisplay_name: Acme\nproviders:\n  gcp:\n    credential_id: x\n    export: {format: 7}\n"
    )
    assert [o.slug for o in load_orgs_for_provider("aws", config_dir)] == ["demo"]
    with pytest.raises(ConfigError, match=r"acme\.yml"):
        load_orgs_for_provider("gcp", config_dir)
