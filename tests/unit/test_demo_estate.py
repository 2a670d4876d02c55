"""An estate of N demo orgs: distinct slugs, org files, credentials, budgets and exports, in a scratch config dir."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from cloudcost.cli import main
from cloudcost.config import PROVIDERS, load_all_orgs
from cloudcost.demo import aws_cur2, azure_cost_details, gcp_detailed, oci_cost_reports
from cloudcost.demo.estate import EstateError, estate_slugs, seed_of, write_estate
from cloudcost.paths import REPO_ROOT
from cloudcost.vault import default_vault

DAYS = [date(2026, 11, 2), date(2026, 11, 3)]
GENERATORS = {"aws": aws_cur2, "azure": azure_cost_details, "gcp": gcp_detailed, "oci": oci_cost_reports}


@pytest.fixture
def scratch_configs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Path:
    path = tmp_path / "estate-configs"  # not there yet: the estate copies the repo's configs without its orgs
    monkeypatch.setenv("CLOUDCOST_CONFIG_DIR", str(path))
    return path


def test_estate_of_three_orgs(scratch_configs: Path, data_dir: Path) -> None:
    orgs = write_estate(3, DAYS)

    assert [org.slug for org in orgs] == ["org001", "org002", "org003"]
    assert sorted(p.name for p in (scratch_configs / "orgs").iterdir()) == ["org001.yml", "org002.yml", "org003.yml"]
    loaded = {org.slug: org for org in load_all_orgs()}
    assert sorted(loaded) == ["org001", "org002", "org003"], "only the estate's orgs, not the demo org"
    budgets = {slug: [b.amount for b in org.budgets] for slug, org in loaded.items()}
    assert len({tuple(amounts) for amounts in budgets.values()}) == 3, f"budgets differ per org: {budgets}"
    for org in loaded.values():
        assert sorted(p for p in org.providers if org.enables(p)) == sorted(PROVIDERS)
        for provider, entry in org.providers.items():
            secret = json.loads(default_vault().decrypt(org.slug, provider, entry.credential_id).reveal())
            assert secret["kind"] == "demo-local-landing"
    credential_ids = {entry.credential_id for org in loaded.values() for entry in org.providers.values()}
    assert len(credential_ids) == 3 * len(PROVIDERS)
    for org in orgs:
        assert sorted(w.provider for w in org.written) == sorted(PROVIDERS)
        for written in org.written:
            assert written.rows > 0 and written.root == data_dir / "landing" / org.slug / written.provider
            assert any(written.root.rglob("*")), f"{org.slug}/{written.provider} has files"


def test_each_org_has_its_own_figures() -> None:
    """Seeds differ per org, so a load that mixed two orgs' exports would not reconcile to either's figures."""
    assert len({seed_of(i) for i in (1, 2, 3)}) == 3
    for provider, generator in GENERATORS.items():
        totals = [sum(generator.expected_billed_cost(DAYS, seed=seed_of(i)).values()) for i in (1, 2)]
        assert totals[0] != totals[1], provider


def test_slugs_sort_in_creation_order() -> None:
    slugs = estate_slugs(1000)
    assert slugs[0] == "org0001" and slugs[-1] == "org1000" and slugs == sorted(slugs)
    assert len(set(slugs)) == 1000
    with pytest.raises(EstateError):
        estate_slugs(0)


def test_refuses_the_repository_configs(monkeypatch: pytest.MonkeyPatch, data_dir: Path, capsys) -> None:
    monkeypatch.setenv("CLOUDCOST_CONFIG_DIR", str(REPO_ROOT / "configs"))
    before = sorted(p.name for p in (REPO_ROOT / "configs" / "orgs").iterdir())
    with pytest.raises(EstateError, match="CLOUDCOST_CONFIG_DIR"):
        write_estate(2, DAYS)
    assert main(["demo", "estate", "--orgs", "2", "--from", "2026-11-02", "--to", "2026-11-02"]) == 2
    assert "refusing to write an estate" in capsys.readouterr().err
    assert sorted(p.name for p in (REPO_ROOT / "configs" / "orgs").iterdir()) == before
    assert not (data_dir / "landing").exists()


def test_cli_writes_the_estate(scratch_configs: Path, capsys) -> None:
    assert main(["demo", "estate", "--orgs", "2", "--from", "2026-11-02", "--to", "2026-11-02"]) == 0
    out = capsys.readouterr().out
    assert "estate of 2 org(s) org001..org002" in out
    assert sorted(org.slug for org in load_all_orgs()) == ["org001", "org002"]
