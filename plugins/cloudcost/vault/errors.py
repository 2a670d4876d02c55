"""The vault's exceptions. Messages name the org, provider and credential id, never key or secret bytes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cloudcost.vault.ref import CredentialRef


class VaultError(Exception):
    """Anything the credential vault refuses or cannot do."""


class InvalidCredentialName(VaultError, ValueError):
    """An org slug, provider or credential id that the vault does not accept."""


class VaultFileError(VaultError):
    """A vault file under ``data/vault/`` is unreadable or not in the vault's format."""


class KeyProviderError(VaultError):
    """The key-encryption key is unavailable: key file missing or too open, KMS unreachable or refusing."""


class _CredentialError(VaultError):
    def __init__(self, ref: CredentialRef, message: str) -> None:
        super().__init__(message)
        self.org, self.provider, self.credential_id = ref.org, ref.provider, ref.credential_id


class CredentialNotFound(_CredentialError, LookupError):
    """No credential with this org, provider and id."""

    def __init__(self, ref: CredentialRef, where: str) -> None:
        super().__init__(ref, f"no credential for {ref.describe()} in {where}")


class CredentialExists(_CredentialError):
    """``add`` of a credential that is already stored; ``rotate`` replaces one."""

    def __init__(self, ref: CredentialRef) -> None:
        super().__init__(ref, f"a credential for {ref.describe()} already exists; use rotate to replace it")


class DecryptionFailed(_CredentialError):
    """The stored ciphertext or wrapped data key does not authenticate for this org, provider and id.

    Causes: the bytes were altered, the record was copied from another org/provider/credential id, or the
    key-encryption key is not the one the data key was wrapped with.
    """

    def __init__(self, ref: CredentialRef, reason: str) -> None:
        super().__init__(ref, f"cannot decrypt the credential for {ref.describe()}: {reason}")
