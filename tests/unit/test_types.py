"""Types that tell the truth: the four providers as one ``Literal``, checked where a string comes in, and no
``# type: ignore`` in plugins/ without the error code it silences and a reason beside it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import get_args

import pytest

from cloudcost.config import PROVIDERS, ConfigError, Provider, parse_provider
from cloudcost.vault import CredentialVault, VaultFileError

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "plugins" / "cloudcost"
IGNORE = re.compile(r"#\s*type:\s*ignore\b(?P<rest>.*)$")
EXPLAINED = re.compile(r"^\[[a-z-]+(, *[a-z-]+)*\]\s+#\s*\S")


def test_providers_are_the_literal_and_only_its_values_parse() -> None:
    assert set(PROVIDERS) == set(get_args(Provider)) == {"aws", "azure", "gcp", "oci"}
    assert [parse_provider(name) for name in PROVIDERS] == list(PROVIDERS)
    for wrong in ("ibm", "AWS", "", "aws "):
        with pytest.raises(ConfigError, match=f"unknown provider {wrong!r}"):
            parse_provider(wrong)


def test_a_vault_record_of_an_unknown_provider_is_refused(data_dir: Path) -> None:
    """The vault file is read from disk: its provider strings are parsed there, not trusted."""
    CredentialVault().add("acme", "aws", "main", b"{}")
    path = data_dir / "vault" / "acme.json"
    path.write_text(path.read_text().replace('"provider": "aws"', '"provider": "ibm"'))
    with pytest.raises(VaultFileError, match=r"credentials\[0\]: unknown provider 'ibm'"):
        CredentialVault().list("acme")


def test_no_module_is_exempt_from_mypy() -> None:
    """Every module of ours is type-checked: no override switches errors off (third-party stubs aside)."""
    overrides = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["mypy"].get("overrides", [])
    assert [o["module"] for o in overrides if o.get("ignore_errors")] == []


def type_ignores() -> dict[str, list[str]]:
    """Every ``# type: ignore`` comment's remainder, by ``module:line``."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = IGNORE.search(line)
            if match:
                found.setdefault(module, []).append(f"{number}:{match['rest'].strip()}")
    return found


def test_every_type_ignore_names_its_code_and_says_why() -> None:
    unexplained = {
        module: [entry for entry in entries if not EXPLAINED.match(entry.split(":", 1)[1])]
        for module, entries in type_ignores().items()
    }
    assert {m: e for m, e in unexplained.items() if e} == {}


def test_the_scan_sees_the_ignores_it_judges() -> None:
    """The check above would pass vacuously if the scan found nothing: it must see a known, explained one."""
    assert any("[call-overload]" in entry for entry in type_ignores()["cloudcost.demo.volume"])
    assert EXPLAINED.match("[arg-type]  # why")
    assert not EXPLAINED.match("[arg-type]")
    assert not EXPLAINED.match("")


def test_org_slugs_are_parsed_at_the_edges_only() -> None:
    """``OrgSlug`` carries a parsed slug inward, so only the edges call ``parse_org_slug``: Airflow's run conf,
    the command line, the org files, the vault's API and the demo estate that names new orgs (``identifiers.py``
    defines it)."""
    callers = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if "parse_org_slug" in line and not line.lstrip().startswith(("from ", "import "))
    }
    assert callers == {
        "identifiers.py",
        "airflow/run_conf.py",
        "cli_args.py",
        "config.py",
        "vault/ref.py",
        "vault/vault.py",
        "demo/estate.py",  # where the many-org estate's slugs are born (org001, org002, ...)
    }
