"""An estate of N demo orgs for benchmarks and scale tests: distinct slugs, org files, credentials, budgets.

Each org is the demo org's file under another slug (``org001``, ``org002`` …), with its own export names,
credential ids and budget amounts, and its own generator seed, so every org's figures differ and are known
exactly (``seed_of``). The estate is written into a scratch config directory (``CLOUDCOST_CONFIG_DIR``),
never into the repository's ``configs/``: a benchmark's hundred org files must not become the demo's.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import yaml

from cloudcost.config import load_org
from cloudcost.demo.credentials import store_demo_credentials
from cloudcost.demo.exports import write_org_exports
from cloudcost.demo.written import Written
from cloudcost.identifiers import OrgSlug, parse_org_slug
from cloudcost.paths import REPO_ROOT, config_dir
from cloudcost.yaml_text import parse_yaml

TEMPLATE_ORG = REPO_ROOT / "configs" / "orgs" / "demo.yml"
FIRST_SEED = 101  # org i uses seed FIRST_SEED + i: not the demo's 7, so no org repeats the demo's figures


class EstateError(ValueError):
    """The estate cannot be written where it was asked to be."""


@dataclass(frozen=True)
class EstateOrg:
    slug: OrgSlug
    seed: int
    org_file: Path
    written: list[Written]


def estate_slugs(count: int) -> list[OrgSlug]:
    """``org001`` … ``orgNNN`` (three digits at least, so the slugs sort in creation order)."""
    if count < 1:
        raise EstateError(f"an estate needs at least one org, not {count}")
    width = max(3, len(str(count)))
    return [parse_org_slug(f"org{i:0{width}d}") for i in range(1, count + 1)]


def seed_of(index: int) -> int:
    """The generator seed of the estate's org number ``index`` (1-based)."""
    return FIRST_SEED + index


def org_document(slug: OrgSlug, index: int) -> dict:
    """The demo org file made into org ``index``: its slug, name, export names, credential ids, budgets."""
    document = parse_yaml(TEMPLATE_ORG.read_text())
    document["slug"] = slug
    document["display_name"] = f"Estate Org {index}"
    for provider, entry in document["providers"].items():
        entry["credential_id"] = f"{provider}-{slug}"
        export = entry["export"]
        export["name"] = f"{slug}-{export['name']}"[:128]
        if export.get("companion"):
            export["companion"] = f"{slug}-{export['companion']}"
    step = Decimal(index * 100)  # distinct amounts per org, so a report or alert names its own org's budget
    for budget in document["budgets"]:
        budget["amount"] = str(Decimal(str(budget["amount"])) + step)
    return document


def prepare_config_dir(config_root: Path) -> None:
    """A scratch config directory: the repository's configs without its org files (an estate has only its own).

    Refuses the repository's own ``configs/``."""
    repo_configs = (REPO_ROOT / "configs").resolve()
    if config_root.resolve() == repo_configs:
        raise EstateError(
            f"refusing to write an estate into {repo_configs}: set CLOUDCOST_CONFIG_DIR to a scratch directory"
        )
    if not (config_root / "cloud").is_dir():
        shutil.copytree(repo_configs, config_root, ignore=shutil.ignore_patterns("orgs"), dirs_exist_ok=True)
    (config_root / "orgs").mkdir(exist_ok=True)
    for left in (config_root / "orgs").glob("org[0-9]*.yml"):  # an earlier, larger estate's orgs would run too
        left.unlink()


def write_estate(count: int, days: list[date]) -> list[EstateOrg]:
    """Org files (in ``CLOUDCOST_CONFIG_DIR``), vault credentials and every provider's exports of ``days``
    (under ``CLOUDCOST_DATA_DIR``) for ``count`` orgs."""
    config_root = config_dir()
    prepare_config_dir(config_root)
    orgs = []
    for index, slug in enumerate(estate_slugs(count), start=1):
        path = config_root / "orgs" / f"{slug}.yml"
        path.write_text(yaml.safe_dump(org_document(slug, index), sort_keys=False))
        org = load_org(path)
        store_demo_credentials(slug)
        orgs.append(EstateOrg(slug, seed_of(index), path, write_org_exports(org, days, seed_of(index))))
    return orgs
