"""``CredentialVault``: add, rotate, remove, list and decrypt one org's cloud credentials."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cloudcost.config import Provider
from cloudcost.identifiers import OrgSlug, parse_org_slug
from cloudcost.vault.crypto import Envelope, open_envelope, seal
from cloudcost.vault.errors import CredentialExists, CredentialNotFound, DecryptionFailed, VaultError
from cloudcost.vault.key_providers import KeyProvider, LocalKeyFileProvider, default_key_file
from cloudcost.vault.ref import CredentialRef
from cloudcost.vault.secret import Secret
from cloudcost.vault.store import StoredCredential, VaultStore, default_vault_dir

MAX_CACHE_TTL_SECONDS = 300.0


@dataclass(frozen=True)
class CredentialInfo:
    """What ``list`` shows about a credential: names, dates and key provider; never secret material."""

    org: OrgSlug
    provider: Provider
    credential_id: str
    created_at: str
    rotated_at: str | None
    key_provider: str
    key_ref: str | None


@dataclass(frozen=True)
class _Cached:
    secret: Secret
    fingerprint: bytes  # of the stored envelope: a rotated or altered record is never served from cache
    expires_at: float


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _fingerprint(envelope: Envelope) -> bytes:
    digest = hashlib.sha256()
    for part in (envelope.wrapped_key, envelope.nonce, envelope.ciphertext):
        digest.update(len(part).to_bytes(4, "big") + part)
    return digest.digest()


class CredentialVault:
    """Each org's credentials, encrypted at rest in ``data/vault/<org>.json`` under ``key_provider``'s KEK.

    ``decrypt`` re-reads the vault file every time (cheap) but keeps decrypted secrets in memory for at most
    ``cache_ttl`` seconds (300 max) so a task calling it repeatedly does not hit KMS each time. A cached secret
    is served only while the stored record is unchanged, so ``remove`` and ``rotate`` (by any process) take
    effect at once. ``clock`` (monotonic seconds) is injectable for tests.
    """

    def __init__(
        self,
        key_provider: KeyProvider | None = None,
        root: Path | None = None,
        *,
        cache_ttl: float = MAX_CACHE_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 <= cache_ttl <= MAX_CACHE_TTL_SECONDS:
            raise ValueError(f"cache_ttl must be between 0 and {MAX_CACHE_TTL_SECONDS:.0f} seconds")
        self.key_provider = key_provider if key_provider is not None else LocalKeyFileProvider()
        self.store = VaultStore(root)
        self.cache_ttl = cache_ttl
        self._clock = clock
        self._cache: dict[CredentialRef, _Cached] = {}
        self._lock = threading.Lock()

    def add(self, org: str, provider: Provider, credential_id: str, secret: bytes) -> CredentialInfo:
        """Store a new credential; ``CredentialExists`` if one with this org, provider and id is stored."""
        ref = CredentialRef.parse(org, provider, credential_id)
        _check_secret(secret, ref)
        with self.store.edit(ref.org) as records:
            if (provider, credential_id) in records:
                raise CredentialExists(ref)
            record = self._seal(ref, secret, created_at=_now(), rotated_at=None)
            records[(provider, credential_id)] = record
        return _info(ref.org, record)

    def rotate(self, org: str, provider: Provider, credential_id: str, secret: bytes) -> CredentialInfo:
        """Replace a stored credential's secret, under a new data key (and the vault's current KEK)."""
        ref = CredentialRef.parse(org, provider, credential_id)
        _check_secret(secret, ref)
        with self.store.edit(ref.org) as records:
            old = records.get((provider, credential_id))
            if old is None:
                raise CredentialNotFound(ref, str(self.store.path(ref.org)))
            record = self._seal(ref, secret, created_at=old.created_at, rotated_at=_now())
            records[(provider, credential_id)] = record
        self._forget(ref)
        return _info(ref.org, record)

    def remove(self, org: str, provider: Provider, credential_id: str) -> None:
        ref = CredentialRef.parse(org, provider, credential_id)
        with self.store.edit(ref.org) as records:
            if records.pop((provider, credential_id), None) is None:
                raise CredentialNotFound(ref, str(self.store.path(ref.org)))
        self._forget(ref)

    def decrypt(self, org: str, provider: Provider, credential_id: str) -> Secret:
        """The credential's secret; ``CredentialNotFound`` or ``DecryptionFailed`` (names, never bytes)."""
        ref = CredentialRef.parse(org, provider, credential_id)
        record = self.store.read(ref.org).get((provider, credential_id))
        if record is None:
            self._forget(ref)
            raise CredentialNotFound(ref, str(self.store.path(ref.org)))
        fingerprint = _fingerprint(record.envelope)
        with self._lock:
            now = self._clock()
            self._drop_expired(now)
            cached = self._cache.pop(ref, None)
            if cached is not None and cached.fingerprint == fingerprint:
                self._cache[ref] = cached
                return cached.secret
        if record.key_provider != self.key_provider.name:
            raise DecryptionFailed(
                ref,
                f"its data key was wrapped by key provider {record.key_provider!r} "
                f"({record.key_ref or 'no key id recorded'}), but this vault uses {self.key_provider.name!r}",
            )
        secret = Secret(open_envelope(record.envelope, ref, self.key_provider))
        if self.cache_ttl > 0:
            with self._lock:
                self._cache[ref] = _Cached(secret, fingerprint, self._clock() + self.cache_ttl)
        return secret

    def clear_cache(self) -> None:
        """Drop every decrypted secret this vault holds in memory."""
        with self._lock:
            self._cache.clear()

    def _seal(self, ref: CredentialRef, secret: bytes, created_at: str, rotated_at: str | None) -> StoredCredential:
        return StoredCredential(
            credential_id=ref.credential_id,
            provider=ref.provider,
            created_at=created_at,
            rotated_at=rotated_at,
            key_provider=self.key_provider.name,
            key_ref=self.key_provider.key_ref,
            envelope=seal(secret, ref, self.key_provider),
        )

    def _forget(self, ref: CredentialRef) -> None:
        with self._lock:
            self._cache.pop(ref, None)

    def _drop_expired(self, now: float) -> None:
        for ref in [ref for ref, cached in self._cache.items() if now >= cached.expires_at]:
            del self._cache[ref]

    def list(self, org: str) -> list[CredentialInfo]:  # last in the class: the name shadows the builtin here
        """Every credential of ``org``, sorted by provider and id, without secret material."""
        slug = parse_org_slug(org)  # the vault's API is an edge: callers hand in plain strings
        return [_info(slug, record) for _, record in sorted(self.store.read(slug).items())]


def _check_secret(secret: object, ref: CredentialRef) -> None:
    if not isinstance(secret, bytes):
        raise TypeError(f"the secret for {ref.describe()} must be bytes (encode text first)")
    if not secret:
        raise VaultError(f"refusing to store an empty secret for {ref.describe()}")


def _info(org: OrgSlug, record: StoredCredential) -> CredentialInfo:
    return CredentialInfo(
        org=org,
        provider=record.provider,
        credential_id=record.credential_id,
        created_at=record.created_at,
        rotated_at=record.rotated_at,
        key_provider=record.key_provider,
        key_ref=record.key_ref,
    )


_defaults: dict[tuple[Path, Path], CredentialVault] = {}
_defaults_lock = threading.Lock()


def default_vault() -> CredentialVault:
    """The process-wide vault over ``data/vault/`` and the local key file (``CLOUDCOST_KEY_FILE``).

    One instance per (vault dir, key file), so repeated ``decrypt`` calls in a task share the cache.
    """
    key = (default_vault_dir(), default_key_file())
    with _defaults_lock:
        if key not in _defaults:
            _defaults[key] = CredentialVault(LocalKeyFileProvider(key[1]), key[0])
        return _defaults[key]
