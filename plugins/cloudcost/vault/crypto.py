"""Envelope encryption: each secret under its own AES-256-GCM data key, the data key wrapped by the KEK."""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cloudcost.vault.errors import DecryptionFailed
from cloudcost.vault.key_providers import KeyProvider
from cloudcost.vault.ref import CredentialRef

ALGORITHM = "AES-256-GCM"
NONCE_BYTES = 12
_SECRET_PURPOSE = "secret"


@dataclass(frozen=True)
class Envelope:
    """What is stored for one secret; none of it is usable without the KEK."""

    wrapped_key: bytes
    nonce: bytes
    ciphertext: bytes


def seal(secret: bytes, ref: CredentialRef, key_provider: KeyProvider) -> Envelope:
    """Encrypt ``secret`` under a fresh random 256-bit data key and a fresh nonce, both bound to ``ref``."""
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(data_key).encrypt(nonce, secret, ref.aad(_SECRET_PURPOSE))
    return Envelope(key_provider.wrap(data_key, ref), nonce, ciphertext)


def open_envelope(envelope: Envelope, ref: CredentialRef, key_provider: KeyProvider) -> bytes:
    """The secret; ``DecryptionFailed`` if the data key or ciphertext does not authenticate for ``ref``."""
    data_key = key_provider.unwrap(envelope.wrapped_key, ref)
    if len(data_key) != 32:
        raise DecryptionFailed(ref, "the unwrapped data key is not 256 bits")
    if len(envelope.nonce) != NONCE_BYTES:
        raise DecryptionFailed(ref, f"the nonce is {len(envelope.nonce)} bytes, not {NONCE_BYTES}")
    try:
        return AESGCM(data_key).decrypt(envelope.nonce, envelope.ciphertext, ref.aad(_SECRET_PURPOSE))
    except InvalidTag:
        raise DecryptionFailed(
            ref,
            "the ciphertext does not authenticate: it was altered, or copied from another org/provider/credential id",
        ) from None
