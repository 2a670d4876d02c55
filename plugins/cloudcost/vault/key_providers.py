"""Where the key-encryption key (KEK) lives, and how it wraps and unwraps each secret's data key.

Every provider binds the wrapped data key to the credential's org, provider and id (AES-GCM associated
data locally, the KMS encryption context / additional authenticated data in the clouds), so a wrapped key
copied to another record does not unwrap.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import stat
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cloudcost.paths import data_dir
from cloudcost.vault.errors import DecryptionFailed, KeyProviderError
from cloudcost.vault.ref import CredentialRef

KEY_FILE_ENV = "CLOUDCOST_KEY_FILE"
_NONCE_BYTES = 12
_TAG_BYTES = 16
_WRAP_PURPOSE = "data-key"


def default_key_file() -> Path:
    """``data/keys/kek.key`` under the data folder (override: ``CLOUDCOST_KEY_FILE``)."""
    value = os.environ.get(KEY_FILE_ENV)
    return Path(value).expanduser().resolve() if value else data_dir() / "keys" / "kek.key"


class KeyProvider(ABC):
    """Wraps and unwraps 256-bit data keys under a key-encryption key it never hands out."""

    name: ClassVar[str]

    @property
    def key_ref(self) -> str | None:
        """Which key wraps, as stored beside each record for operators (a KMS key id); never key material."""
        return None

    @abstractmethod
    def wrap(self, data_key: bytes, ref: CredentialRef) -> bytes:
        """The data key encrypted under the KEK and bound to ``ref``."""

    @abstractmethod
    def unwrap(self, wrapped_key: bytes, ref: CredentialRef) -> bytes:
        """The data key; raises ``DecryptionFailed`` if ``wrapped_key`` does not authenticate for ``ref``."""


class LocalKeyFileProvider(KeyProvider):
    """A 256-bit KEK in a local file (base64, one line), created with mode 0600 the first time a key is wrapped.

    A key file readable by anyone but its owner (any mode bit outside 0600) is refused. The wrapped key is
    ``nonce (12 bytes) || AES-256-GCM ciphertext and tag``. Keeping the key file beside ``data/vault/``
    (the default) protects the vault files only when they are copied without it; in production point
    ``CLOUDCOST_KEY_FILE`` at a separately mounted secret, or use a KMS provider.
    """

    name = "local-file"

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_key_file()

    def wrap(self, data_key: bytes, ref: CredentialRef) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + AESGCM(self._load(create=True)).encrypt(nonce, data_key, ref.aad(_WRAP_PURPOSE))

    def unwrap(self, wrapped_key: bytes, ref: CredentialRef) -> bytes:
        kek = self._load(create=False)
        if len(wrapped_key) < _NONCE_BYTES + _TAG_BYTES:
            raise DecryptionFailed(ref, "the wrapped data key is truncated")
        nonce, body = wrapped_key[:_NONCE_BYTES], wrapped_key[_NONCE_BYTES:]
        try:
            return AESGCM(kek).decrypt(nonce, body, ref.aad(_WRAP_PURPOSE))
        except InvalidTag:
            raise DecryptionFailed(
                ref,
                f"the wrapped data key does not unwrap with the key file {self.path}: either that is not the key "
                "it was wrapped with, or the record was copied from another org/provider/credential id or altered",
            ) from None

    def _load(self, create: bool) -> bytes:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            if not create:
                raise KeyProviderError(
                    f"key file {self.path} does not exist, so nothing in the vault can be decrypted; set "
                    f"{KEY_FILE_ENV} to the key file the vault was written with"
                ) from None
            self._create()
            return self._load(create=False)
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise KeyProviderError(f"key file {self.path} is not a regular file")
            mode = stat.S_IMODE(info.st_mode)
            if mode & ~0o600:
                raise KeyProviderError(
                    f"key file {self.path} has permissions {mode:04o}, wider than 0600; refusing to use it. "
                    f"Restrict it to its owner (chmod 600 {self.path}) and consider rotating the key"
                )
            text = fh.read()
        try:
            key = base64.b64decode(text.strip(), validate=True)
        except binascii.Error:
            key = b""
        if len(key) != 32:
            raise KeyProviderError(f"key file {self.path} does not hold a base64-encoded 256-bit key")
        return key

    def _create(self) -> None:
        """Write a fresh key under a temporary name, then link it into place: readers never see half a key,
        and if another process creates the file first, its key wins and ours is discarded."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".kek-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                os.fchmod(fh.fileno(), 0o600)
                fh.write(base64.b64encode(AESGCM.generate_key(bit_length=256)) + b"\n")
                fh.flush()
                os.fsync(fh.fileno())
            with contextlib.suppress(FileExistsError):  # another process created it first: its key wins
                os.link(tmp, self.path)
        finally:
            os.unlink(tmp)


class AwsKmsKeyProvider(KeyProvider):
    """Wraps data keys with AWS KMS ``Encrypt``/``Decrypt`` under a symmetric KMS key.

    The credential's org, provider and id go in the encryption context, so KMS itself refuses to unwrap a
    data key for any other credential (and CloudTrail records which credential was decrypted). Needs
    ``kms:Encrypt`` and ``kms:Decrypt`` on the key. Pass ``client`` to reuse a configured boto3 KMS client.
    """

    name = "aws-kms"
    _DECRYPT_FAILURES = frozenset({"InvalidCiphertextException", "IncorrectKeyException"})

    def __init__(self, key_id: str, client: Any = None, region_name: str | None = None) -> None:
        self.key_id = key_id
        self._client = client
        self._region_name = region_name

    @property
    def key_ref(self) -> str:
        return self.key_id

    def _kms(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("kms", region_name=self._region_name)
        return self._client

    def wrap(self, data_key: bytes, ref: CredentialRef) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._kms().encrypt(
                KeyId=self.key_id, Plaintext=data_key, EncryptionContext=ref.encryption_context()
            )
        except ClientError as exc:
            raise KeyProviderError(
                f"AWS KMS key {self.key_id} refused to wrap the data key for {ref.describe()}: {_aws_error(exc)}"
            ) from None
        except BotoCoreError as exc:
            raise KeyProviderError(f"AWS KMS unavailable while wrapping for {ref.describe()}: {exc}") from None
        return bytes(response["CiphertextBlob"])

    def unwrap(self, wrapped_key: bytes, ref: CredentialRef) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._kms().decrypt(
                CiphertextBlob=wrapped_key, KeyId=self.key_id, EncryptionContext=ref.encryption_context()
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in self._DECRYPT_FAILURES:
                raise DecryptionFailed(
                    ref,
                    f"AWS KMS key {self.key_id} did not unwrap the data key ({_aws_error(exc)}): wrong key, or the "
                    "record was copied from another org/provider/credential id or altered",
                ) from None
            raise KeyProviderError(
                f"AWS KMS key {self.key_id} refused to unwrap the data key for {ref.describe()}: {_aws_error(exc)}"
            ) from None
        except BotoCoreError as exc:
            raise KeyProviderError(f"AWS KMS unavailable while unwrapping for {ref.describe()}: {exc}") from None
        return bytes(response["Plaintext"])


def _aws_error(exc: Any) -> str:
    error = exc.response.get("Error", {})
    return f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")


class GcpKmsKeyProvider(KeyProvider):
    """Wraps data keys with Cloud KMS ``encrypt``/``decrypt`` under a symmetric CryptoKey.

    UNTESTED: google-cloud-kms is not installed in this project's environment, so this class has never run
    against Cloud KMS or an emulator; treat it as a sketch to verify before use. It imports google-cloud-kms
    lazily and raises ``KeyProviderError`` if it is missing. ``key_name`` is the CryptoKey resource name
    (``projects/P/locations/L/keyRings/R/cryptoKeys/K``); the credential's org, provider and id go in the
    additional authenticated data. Not done: CRC32C integrity checks on requests and responses.
    """

    name = "gcp-kms"

    def __init__(self, key_name: str, client: Any = None) -> None:
        self.key_name = key_name
        self._client = client

    @property
    def key_ref(self) -> str:
        return self.key_name

    def _kms(self) -> Any:
        if self._client is None:
            try:
                import google.cloud.kms as kms  # optional, not installed: pyproject.toml lets mypy skip it
            except ImportError:
                raise KeyProviderError(
                    "GcpKmsKeyProvider needs the google-cloud-kms package, which is not installed"
                ) from None
            self._client = kms.KeyManagementServiceClient()
        return self._client

    def _request(self, field: str, data: bytes, ref: CredentialRef) -> dict[str, Any]:
        """An encrypt or decrypt request: the key, ``data`` as ``field``, and the credential bound in as AAD."""
        return {"name": self.key_name, field: data, "additional_authenticated_data": ref.aad(_WRAP_PURPOSE)}

    def wrap(self, data_key: bytes, ref: CredentialRef) -> bytes:
        client = self._kms()
        try:
            response = client.encrypt(request=self._request("plaintext", data_key, ref))
        except Exception as exc:
            raise KeyProviderError(
                f"Cloud KMS key {self.key_name} refused to wrap the data key for {ref.describe()}: {type(exc).__name__}"
            ) from None
        return bytes(response.ciphertext)

    def unwrap(self, wrapped_key: bytes, ref: CredentialRef) -> bytes:
        client = self._kms()
        try:
            response = client.decrypt(request=self._request("ciphertext", wrapped_key, ref))
        except Exception as exc:
            if type(exc).__name__ == "InvalidArgument":  # google.api_core.exceptions.InvalidArgument
                raise DecryptionFailed(
                    ref,
                    f"Cloud KMS key {self.key_name} did not unwrap the data key: wrong key, or the record was "
                    "copied from another org/provider/credential id or altered",
                ) from None
            raise KeyProviderError(
                f"Cloud KMS key {self.key_name} refused to unwrap the data key for {ref.describe()}: "
                f"{type(exc).__name__}"
            ) from None
        return bytes(response.plaintext)
