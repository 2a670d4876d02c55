"""Demo credentials: one stored per provider the org enables, so the demo walks through the vault.

The local landing zone needs no credential, but every run decrypts its org's credential all the same:
the code path a real deployment takes is the one the demo exercises. The secrets are random, made on
the machine, and never committed.
"""

from __future__ import annotations

import json
import secrets

from cloudcost.config import load_org_by_slug
from cloudcost.identifiers import OrgSlug
from cloudcost.vault import CredentialNotFound, default_vault


def store_demo_credentials(org_slug: OrgSlug) -> list[str]:
    """Add a random credential for each enabled provider that has none yet; returns what was added."""
    vault = default_vault()
    org = load_org_by_slug(org_slug)
    added = []
    for provider, entry in org.providers.items():
        if not entry.enabled:
            continue
        try:
            vault.decrypt(org.slug, provider, entry.credential_id)
            continue
        except CredentialNotFound:
            pass
        secret = {"kind": "demo-local-landing", "token": secrets.token_urlsafe(24)}
        vault.add(org.slug, provider, entry.credential_id, json.dumps(secret).encode())
        added.append(f"{provider}/{entry.credential_id}")
    return added
