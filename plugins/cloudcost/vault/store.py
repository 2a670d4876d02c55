"""The vault files: ``data/vault/<org>.json``, one per org, mode 0600, replaced atomically on every change."""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cloudcost.config import ConfigError, Provider, parse_provider
from cloudcost.identifiers import OrgSlug
from cloudcost.paths import data_dir
from cloudcost.vault.crypto import ALGORITHM, Envelope
from cloudcost.vault.errors import VaultFileError
from cloudcost.vault.ref import FORMAT

RecordKey = tuple[Provider, str]  # (provider, credential_id)


def default_vault_dir() -> Path:
    """``data/vault/`` under the data folder (``CLOUDCOST_DATA_DIR``)."""
    return data_dir() / "vault"


@dataclass(frozen=True)
class StoredCredential:
    """One credential as stored: names, dates, which key provider wrapped it, and its envelope."""

    credential_id: str
    provider: Provider
    created_at: str
    rotated_at: str | None
    key_provider: str
    key_ref: str | None
    envelope: Envelope

    def to_json(self) -> dict:
        return {
            "id": self.credential_id,
            "provider": self.provider,
            "created_at": self.created_at,
            "rotated_at": self.rotated_at,
            "key_provider": self.key_provider,
            "key_ref": self.key_ref,
            "algorithm": ALGORITHM,
            "wrapped_key": _b64(self.envelope.wrapped_key),
            "nonce": _b64(self.envelope.nonce),
            "ciphertext": _b64(self.envelope.ciphertext),
        }

    @classmethod
    def from_json(cls, data: object, where: str) -> StoredCredential:
        if not isinstance(data, dict):
            raise VaultFileError(f"{where}: expected an object")
        try:
            if data["algorithm"] != ALGORITHM:
                raise VaultFileError(f"{where}: algorithm {data['algorithm']!r} is not {ALGORITHM}")
            return cls(
                credential_id=str(data["id"]),
                provider=_provider(data["provider"], where),
                created_at=str(data["created_at"]),
                rotated_at=None if data["rotated_at"] is None else str(data["rotated_at"]),
                key_provider=str(data["key_provider"]),
                key_ref=None if data.get("key_ref") is None else str(data["key_ref"]),
                envelope=Envelope(
                    wrapped_key=_unb64(data["wrapped_key"], f"{where}.wrapped_key"),
                    nonce=_unb64(data["nonce"], f"{where}.nonce"),
                    ciphertext=_unb64(data["ciphertext"], f"{where}.ciphertext"),
                ),
            )
        except KeyError as exc:
            raise VaultFileError(f"{where}: missing key {exc.args[0]!r}") from None


def _provider(value: object, where: str) -> Provider:
    try:
        return parse_provider(str(value))
    except ConfigError as exc:
        raise VaultFileError(f"{where}: {exc}") from None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: object, where: str) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except binascii.Error:
        raise VaultFileError(f"{where}: not base64") from None


class VaultStore:
    """Reads and rewrites the per-org vault files under ``root``.

    Writers take an exclusive ``flock`` on ``.<org>.lock`` so two concurrent ``add`` calls do not lose one
    another's record; readers need no lock because a file is only ever replaced whole (``os.replace``).
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_vault_dir()

    def path(self, org: OrgSlug) -> Path:
        return self.root / f"{org}.json"

    def read(self, org: OrgSlug) -> dict[RecordKey, StoredCredential]:
        """Every credential of ``org`` by ``(provider, id)``; empty if the org has no vault file."""
        path = self.path(org)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise VaultFileError(f"{path}: not valid JSON ({type(exc).__name__})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise VaultFileError(f'{path}: not a vault file (expected "format": "{FORMAT}")')
        if data.get("org") != org:
            raise VaultFileError(f"{path}: holds org {data.get('org')!r}, not {org!r}")
        entries = data.get("credentials")
        if not isinstance(entries, list):
            raise VaultFileError(f"{path}: key 'credentials' must be a list")
        records: dict[RecordKey, StoredCredential] = {}
        for index, entry in enumerate(entries):
            record = StoredCredential.from_json(entry, f"{path}: credentials[{index}]")
            key = (record.provider, record.credential_id)
            if key in records:
                raise VaultFileError(f"{path}: credential {record.provider}/{record.credential_id} appears twice")
            records[key] = record
        return records

    @contextmanager
    def edit(self, org: OrgSlug) -> Iterator[dict[RecordKey, StoredCredential]]:
        """Lock the org's file, yield its records to change in place, then write them back atomically.

        If the block raises, nothing is written.
        """
        path = self.path(org)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock_fd = os.open(self.root / f".{org}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
            records = self.read(org)
            yield records
            self._write(path, org, records)
        finally:
            os.close(lock_fd)  # closing releases the lock

    def _write(self, path: Path, org: OrgSlug, records: dict[RecordKey, StoredCredential]) -> None:
        document = {
            "format": FORMAT,
            "org": org,
            "credentials": [records[key].to_json() for key in sorted(records)],
        }
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=f".{org}.", suffix=".tmp")  # created 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                os.fchmod(fh.fileno(), 0o600)
                json.dump(document, fh, indent=2)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
