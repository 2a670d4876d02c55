"""The credential vault: each org's cloud credentials, envelope-encrypted at rest under a key-encryption key.

A task gets a credential with ``default_vault().decrypt(org, provider, credential_id).reveal()``.
"""

from cloudcost.vault.errors import (
    CredentialExists,
    CredentialNotFound,
    DecryptionFailed,
    InvalidCredentialName,
    KeyProviderError,
    VaultError,
    VaultFileError,
)
from cloudcost.vault.key_providers import AwsKmsKeyProvider, GcpKmsKeyProvider, KeyProvider, LocalKeyFileProvider
from cloudcost.vault.secret import Secret
from cloudcost.vault.vault import CredentialInfo, CredentialVault, default_vault

__all__ = [
    "AwsKmsKeyProvider",
    "CredentialExists",
    "CredentialInfo",
    "CredentialNotFound",
    "CredentialVault",
    "DecryptionFailed",
    "GcpKmsKeyProvider",
    "InvalidCredentialName",
    "KeyProvider",
    "KeyProviderError",
    "LocalKeyFileProvider",
    "Secret",
    "VaultError",
    "VaultFileError",
    "default_vault",
]
