"""What names one stored credential, validated, and the associated data that binds ciphertext to it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from cloudcost.config import ConfigError, Provider, parse_provider
from cloudcost.identifiers import InvalidIdentifier, OrgSlug, parse_org_slug
from cloudcost.vault.errors import InvalidCredentialName

CREDENTIAL_ID_PATTERN = r"^[A-Za-z0-9_\-]{1,64}$"
_CREDENTIAL_ID = re.compile(CREDENTIAL_ID_PATTERN)
FORMAT = "cloudcost-vault/1"


@dataclass(frozen=True)
class CredentialRef:
    """``(org, provider, credential_id)``; ``parse`` builds one from the plain strings the vault's callers hand in
    (the vault's API is an edge), and constructing one validates provider and id (the vault files hold strings)."""

    org: OrgSlug
    provider: Provider
    credential_id: str

    @classmethod
    def parse(cls, org: str, provider: Provider, credential_id: str) -> CredentialRef:
        """The three names as the vault's caller gives them, ``org`` parsed into an ``OrgSlug``."""
        try:
            slug = parse_org_slug(org)
        except InvalidIdentifier as exc:
            raise InvalidCredentialName(str(exc)) from None
        return cls(slug, provider, credential_id)

    def __post_init__(self) -> None:
        try:
            parse_provider(self.provider)
        except ConfigError as exc:
            raise InvalidCredentialName(str(exc)) from None
        if not isinstance(self.credential_id, str) or not _CREDENTIAL_ID.fullmatch(self.credential_id):
            raise InvalidCredentialName(
                f"invalid credential id {self.credential_id!r}: use 1-64 characters from A-Z, a-z, 0-9, '_' and '-'"
            )

    def describe(self) -> str:
        return f"org {self.org!r}, provider {self.provider!r}, credential id {self.credential_id!r}"

    def aad(self, purpose: str) -> bytes:
        """Associated data for AES-GCM: the format, what is being sealed (``purpose``) and the three names.

        Any change to org, provider or id gives different bytes, so a record copied elsewhere fails to
        authenticate. JSON keeps the encoding unambiguous whatever the names contain.
        """
        return json.dumps([FORMAT, purpose, self.org, self.provider, self.credential_id]).encode()

    def encryption_context(self) -> dict[str, str]:
        """The same binding as a KMS encryption context (visible, by design, in KMS audit logs)."""
        return {
            "cloudcost:format": FORMAT,
            "cloudcost:org": self.org,
            "cloudcost:provider": self.provider,
            "cloudcost:credential_id": self.credential_id,
        }
