"""The credential vault: envelope encryption bound to org/provider/id, key files, the TTL cache, Secret, CLI."""

from __future__ import annotations

import base64
import copy
import json
import logging
import os
import pickle
import stat
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from cloudcost.vault import (
    AwsKmsKeyProvider,
    CredentialExists,
    CredentialNotFound,
    CredentialVault,
    DecryptionFailed,
    GcpKmsKeyProvider,
    InvalidCredentialName,
    KeyProviderError,
    LocalKeyFileProvider,
    Secret,
    VaultError,
    VaultFileError,
)
from cloudcost.vault.cli import main as vault_cli
from cloudcost.vault.crypto import Envelope, open_envelope, seal
from cloudcost.vault.ref import CredentialRef

SECRET = b'{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\nTOPSECRET42\\n"}'
MARKER = "TOPSECRET42"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _vault_json(data_dir: Path, org: str) -> dict:
    return json.loads((data_dir / "vault" / f"{org}.json").read_text())


def _write_vault_json(data_dir: Path, org: str, document: dict) -> None:
    (data_dir / "vault" / f"{org}.json").write_text(json.dumps(document))


def _kek_text(data_dir: Path) -> str:
    return (data_dir / "keys" / "kek.key").read_text().strip()


def _assert_no_secret_material(text: str, data_dir: Path) -> None:
    assert MARKER not in text
    assert SECRET.decode() not in text
    key_file = data_dir / "keys" / "kek.key"
    if key_file.exists():
        assert _kek_text(data_dir) not in text


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --------------------------------------------------------------------------- round trip and storage


def test_round_trip_and_what_is_stored(data_dir: Path) -> None:
    vault = CredentialVault()
    info = vault.add("acme", "gcp", "billing-sa", SECRET)
    assert (info.org, info.provider, info.credential_id, info.rotated_at) == ("acme", "gcp", "billing-sa", None)
    assert info.key_provider == "local-file"

    assert vault.decrypt("acme", "gcp", "billing-sa").reveal() == SECRET
    assert CredentialVault().decrypt("acme", "gcp", "billing-sa").reveal() == SECRET  # fresh instance, no cache

    path = data_dir / "vault" / "acme.json"
    assert _mode(path) == 0o600
    raw = path.read_text()
    assert MARKER not in raw and base64.b64encode(SECRET).decode() not in raw
    (record,) = _vault_json(data_dir, "acme")["credentials"]
    assert set(record) == {
        "id",
        "provider",
        "created_at",
        "rotated_at",
        "key_provider",
        "key_ref",
        "algorithm",
        "wrapped_key",
        "nonce",
        "ciphertext",
    }
    assert len(base64.b64decode(record["nonce"])) == 12
    assert not [p for p in (data_dir / "vault").iterdir() if p.suffix == ".tmp"]


def test_each_secret_gets_its_own_data_key_and_nonce(data_dir: Path) -> None:
    vault = CredentialVault()
    vault.add("acme", "aws", "a", SECRET)
    vault.add("acme", "aws", "b", SECRET)
    first, second = _vault_json(data_dir, "acme")["credentials"]
    for field in ("wrapped_key", "nonce", "ciphertext"):
        assert first[field] != second[field]


def test_add_rotate_remove(data_dir: Path) -> None:
    vault = CredentialVault()
    vault.add("acme", "azure", "conn", b"old-connection-string")
    with pytest.raises(CredentialExists, match=r"credential id 'conn'.*use rotate"):
        vault.add("acme", "azure", "conn", b"other")
    before = _vault_json(data_dir, "acme")["credentials"][0]

    info = vault.rotate("acme", "azure", "conn", b"new-connection-string")
    after = _vault_json(data_dir, "acme")["credentials"][0]
    assert info.rotated_at is not None and info.created_at == before["created_at"]
    assert after["wrapped_key"] != before["wrapped_key"] and after["ciphertext"] != before["ciphertext"]
    assert vault.decrypt("acme", "azure", "conn").reveal() == b"new-connection-string"

    vault.remove("acme", "azure", "conn")
    assert vault.list("acme") == []
    with pytest.raises(CredentialNotFound, match="org 'acme', provider 'azure', credential id 'conn'"):
        vault.decrypt("acme", "azure", "conn")
    with pytest.raises(CredentialNotFound):
        vault.rotate("acme", "azure", "conn", b"x")
    with pytest.raises(CredentialNotFound):
        vault.remove("acme", "azure", "conn")


def test_same_id_under_two_providers_are_separate(data_dir: Path) -> None:
    vault = CredentialVault()
    vault.add("acme", "aws", "main", b"aws-secret")
    vault.add("acme", "oci", "main", b"oci-secret")
    assert vault.decrypt("acme", "aws", "main").reveal() == b"aws-secret"
    assert vault.decrypt("acme", "oci", "main").reveal() == b"oci-secret"


@pytest.mark.parametrize(
    ("org", "provider", "credential_id", "match"),
    [
        ("../etc", "aws", "main", "invalid org slug"),
        ("Acme", "aws", "main", "invalid org slug"),
        ("acme", "ibm", "main", "unknown provider"),
        ("acme", "aws", "../main", "invalid credential id"),
        ("acme", "aws", "a" * 65, "invalid credential id"),
        ("acme", "aws", "", "invalid credential id"),
        ("acme", "aws", "sp ace", "invalid credential id"),
    ],
)
def test_names_are_validated(data_dir: Path, org: str, provider: str, credential_id: str, match: str) -> None:
    with pytest.raises(InvalidCredentialName, match=match):
        CredentialVault().add(org, provider, credential_id, SECRET)
    assert not (data_dir / "vault").exists() or not list((data_dir / "vault").glob("*.json"))


def test_secret_must_be_non_empty_bytes(data_dir: Path) -> None:
    vault = CredentialVault()
    with pytest.raises(TypeError, match="must be bytes"):
        vault.add("acme", "aws", "main", "text")  # type: ignore[arg-type]
    with pytest.raises(VaultError, match="empty secret"):
        vault.add("acme", "aws", "main", b"")


def test_list_never_contains_the_secret(data_dir: Path) -> None:
    vault = CredentialVault()
    vault.add("acme", "gcp", "sa", SECRET)
    vault.add("acme", "aws", "keys", b"AKIA-" + MARKER.encode())
    listing = vault.list("acme")
    assert [(i.provider, i.credential_id) for i in listing] == [("aws", "keys"), ("gcp", "sa")]
    _assert_no_secret_material(repr(listing) + str(listing), data_dir)
    record = _vault_json(data_dir, "acme")["credentials"][0]
    assert record["ciphertext"] not in repr(listing) and record["wrapped_key"] not in repr(listing)
    assert CredentialVault().list("nobody") == []


# --------------------------------------------------------------------------- binding and tampering


@pytest.mark.parametrize(
    ("target_org", "target_provider", "target_id"),
    [("globex", "gcp", "billing-sa"), ("acme", "aws", "billing-sa"), ("acme", "gcp", "other-sa")],
)
def test_record_copied_to_another_org_provider_or_id_fails(
    data_dir: Path, target_org: str, target_provider: str, target_id: str
) -> None:
    vault = CredentialVault()
    vault.add("acme", "gcp", "billing-sa", SECRET)
    vault.add("globex", "aws", "unrelated", b"x")  # gives globex a vault file to copy into
    record = dict(_vault_json(data_dir, "acme")["credentials"][0], provider=target_provider, id=target_id)
    document = _vault_json(data_dir, target_org)
    document["credentials"].append(record)
    _write_vault_json(data_dir, target_org, document)

    with pytest.raises(DecryptionFailed) as caught:
        CredentialVault().decrypt(target_org, target_provider, target_id)
    message = str(caught.value)
    assert f"org {target_org!r}, provider {target_provider!r}, credential id {target_id!r}" in message
    assert (caught.value.org, caught.value.provider, caught.value.credential_id) == (
        target_org,
        target_provider,
        target_id,
    )
    _assert_no_secret_material(message, data_dir)
    assert CredentialVault().decrypt("acme", "gcp", "billing-sa").reveal() == SECRET  # the original still works


def test_ciphertext_is_bound_even_with_a_correctly_rewrapped_data_key(data_dir: Path) -> None:
    """The secret's own AES-GCM layer carries the binding too, not only the key wrap."""
    provider = LocalKeyFileProvider()
    source, target = CredentialRef("acme", "aws", "a"), CredentialRef("acme", "aws", "b")
    envelope = seal(SECRET, source, provider)
    data_key = provider.unwrap(envelope.wrapped_key, source)
    moved = Envelope(provider.wrap(data_key, target), envelope.nonce, envelope.ciphertext)
    assert provider.unwrap(moved.wrapped_key, target) == data_key  # the wrap layer is satisfied
    with pytest.raises(DecryptionFailed, match="ciphertext does not authenticate"):
        open_envelope(moved, target, provider)
    assert open_envelope(envelope, source, provider) == SECRET


@pytest.mark.parametrize(
    ("field", "reason"), [("ciphertext", "ciphertext"), ("nonce", "ciphertext"), ("wrapped_key", "wrapped data key")]
)
def test_tampered_record_fails(data_dir: Path, field: str, reason: str) -> None:
    CredentialVault().add("acme", "oci", "api-key", SECRET)
    document = _vault_json(data_dir, "acme")
    raw = bytearray(base64.b64decode(document["credentials"][0][field]))
    raw[-1] ^= 0x01
    document["credentials"][0][field] = base64.b64encode(bytes(raw)).decode()
    _write_vault_json(data_dir, "acme", document)

    with pytest.raises(DecryptionFailed, match=reason) as caught:
        CredentialVault().decrypt("acme", "oci", "api-key")
    assert "credential id 'api-key'" in str(caught.value)
    _assert_no_secret_material(str(caught.value), data_dir)


def test_vault_file_renamed_to_another_org_or_corrupt_is_refused(data_dir: Path) -> None:
    CredentialVault().add("acme", "aws", "main", SECRET)
    vault_dir = data_dir / "vault"
    (vault_dir / "globex.json").write_bytes((vault_dir / "acme.json").read_bytes())
    with pytest.raises(VaultFileError, match="holds org 'acme', not 'globex'"):
        CredentialVault().decrypt("globex", "aws", "main")
    (vault_dir / "acme.json").write_text('{"format": "cloudcost-vault/1", "org": "acme", "credentials": [')
    with pytest.raises(VaultFileError, match="not valid JSON"):
        CredentialVault().list("acme")
    with pytest.raises(VaultFileError):  # a broken file is never overwritten by an edit
        CredentialVault().add("acme", "aws", "other", SECRET)


def test_wrong_kek_fails(data_dir: Path, tmp_path: Path) -> None:
    CredentialVault().add("acme", "aws", "main", SECRET)
    other_key = tmp_path / "other.key"
    other_key.write_bytes(base64.b64encode(os.urandom(32)) + b"\n")
    other_key.chmod(0o600)

    with pytest.raises(DecryptionFailed, match="does not unwrap with the key file") as caught:
        CredentialVault(LocalKeyFileProvider(other_key)).decrypt("acme", "aws", "main")
    _assert_no_secret_material(str(caught.value), data_dir)
    assert other_key.read_text().strip() not in str(caught.value)


def test_missing_key_file_is_not_recreated_on_decrypt(data_dir: Path) -> None:
    CredentialVault().add("acme", "aws", "main", SECRET)
    (data_dir / "keys" / "kek.key").unlink()
    with pytest.raises(KeyProviderError, match="does not exist"):
        CredentialVault().decrypt("acme", "aws", "main")
    assert not (data_dir / "keys" / "kek.key").exists()


# --------------------------------------------------------------------------- key file


def test_key_file_is_created_0600_on_first_use(data_dir: Path) -> None:
    key_file = data_dir / "keys" / "kek.key"
    vault = CredentialVault()
    assert not key_file.exists()
    vault.add("acme", "aws", "main", SECRET)
    assert _mode(key_file) == 0o600
    assert len(base64.b64decode(key_file.read_text().strip(), validate=True)) == 32
    first = key_file.read_bytes()
    vault.add("acme", "aws", "second", SECRET)
    assert key_file.read_bytes() == first  # created once, then reused


def test_key_file_location_from_env(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "elsewhere" / "kek.key"
    monkeypatch.setenv("CLOUDCOST_KEY_FILE", str(key_file))
    CredentialVault().add("acme", "aws", "main", SECRET)
    assert _mode(key_file) == 0o600
    assert not (data_dir / "keys" / "kek.key").exists()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o700])
def test_key_file_wider_than_0600_is_refused(data_dir: Path, mode: int) -> None:
    CredentialVault().add("acme", "aws", "main", SECRET)
    key_file = data_dir / "keys" / "kek.key"
    key_file.chmod(mode)
    for action in (
        lambda: CredentialVault().decrypt("acme", "aws", "main"),
        lambda: CredentialVault().add("acme", "aws", "other", SECRET),
    ):
        with pytest.raises(KeyProviderError, match=f"permissions {mode:04o}, wider than 0600") as caught:
            action()
        assert str(key_file) in str(caught.value) and "chmod 600" in str(caught.value)


def test_read_only_key_file_is_accepted(data_dir: Path) -> None:
    CredentialVault().add("acme", "aws", "main", SECRET)
    (data_dir / "keys" / "kek.key").chmod(0o400)
    assert CredentialVault().decrypt("acme", "aws", "main").reveal() == SECRET


def test_malformed_key_file_is_refused(data_dir: Path) -> None:
    key_file = data_dir / "keys" / "kek.key"
    key_file.parent.mkdir()
    key_file.write_text(base64.b64encode(b"too short").decode())
    key_file.chmod(0o600)
    with pytest.raises(KeyProviderError, match="base64-encoded 256-bit key"):
        CredentialVault().add("acme", "aws", "main", SECRET)


# --------------------------------------------------------------------------- in-memory cache


def test_cache_serves_for_300_seconds_then_drops(data_dir: Path) -> None:
    clock = FakeClock()
    vault = CredentialVault(clock=clock)
    vault.add("acme", "aws", "main", SECRET)
    assert vault.decrypt("acme", "aws", "main").reveal() == SECRET

    (data_dir / "keys" / "kek.key").unlink()  # from now on only the cache can answer
    decrypted_at = clock.now
    clock.now = decrypted_at + 299.9
    assert vault.decrypt("acme", "aws", "main").reveal() == SECRET
    clock.now = decrypted_at + 300
    with pytest.raises(KeyProviderError, match="does not exist"):
        vault.decrypt("acme", "aws", "main")


def test_cache_ttl_zero_disables_and_above_300_is_refused(data_dir: Path) -> None:
    vault = CredentialVault(cache_ttl=0)
    vault.add("acme", "aws", "main", SECRET)
    vault.decrypt("acme", "aws", "main")
    (data_dir / "keys" / "kek.key").unlink()
    with pytest.raises(KeyProviderError):
        vault.decrypt("acme", "aws", "main")
    with pytest.raises(ValueError, match="cache_ttl"):
        CredentialVault(cache_ttl=301)


def test_cache_follows_changes_made_by_another_process(data_dir: Path) -> None:
    reader, writer = CredentialVault(clock=FakeClock()), CredentialVault()
    writer.add("acme", "aws", "main", b"v1")
    assert reader.decrypt("acme", "aws", "main").reveal() == b"v1"
    writer.rotate("acme", "aws", "main", b"v2")
    assert reader.decrypt("acme", "aws", "main").reveal() == b"v2"
    writer.remove("acme", "aws", "main")
    with pytest.raises(CredentialNotFound):
        reader.decrypt("acme", "aws", "main")


def test_cache_does_not_hide_a_tampered_record(data_dir: Path) -> None:
    vault = CredentialVault(clock=FakeClock())
    vault.add("acme", "aws", "main", SECRET)
    vault.decrypt("acme", "aws", "main")
    document = _vault_json(data_dir, "acme")
    raw = bytearray(base64.b64decode(document["credentials"][0]["ciphertext"]))
    raw[0] ^= 0xFF
    document["credentials"][0]["ciphertext"] = base64.b64encode(bytes(raw)).decode()
    _write_vault_json(data_dir, "acme", document)
    with pytest.raises(DecryptionFailed):
        vault.decrypt("acme", "aws", "main")


# --------------------------------------------------------------------------- Secret


def test_secret_never_shows_its_value(caplog: pytest.LogCaptureFixture) -> None:
    secret = Secret(SECRET)
    shown = [repr(secret), str(secret), f"{secret}", f"{secret!r}", f"{secret:>200}"]
    shown.append("%s %r" % (secret, secret))  # noqa: UP031
    shown.append("{} {!r}".format(secret, secret))  # noqa: UP032
    shown.append(repr([secret, {"k": secret}]))
    for text in shown:
        assert MARKER not in text
    assert repr(secret) == "Secret(<redacted>)"

    logger = logging.getLogger("cloudcost.test_vault")
    with caplog.at_level(logging.DEBUG, logger=logger.name):
        logger.info("secret %s %r", secret, secret)
        logger.info(secret)
        logger.info("extra", extra={"credential": secret})
    assert caplog.records
    assert MARKER not in caplog.text
    assert all(MARKER not in record.getMessage() for record in caplog.records)
    assert secret.reveal() == SECRET


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_secret_cannot_be_pickled(protocol: int) -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(Secret(SECRET), protocol=protocol)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps({"nested": [Secret(SECRET)]}, protocol=protocol)


def test_secret_is_not_json_and_copies_stay_redacted() -> None:
    secret = Secret(SECRET)
    with pytest.raises(TypeError):
        json.dumps({"s": secret})
    assert copy.deepcopy(secret).reveal() == SECRET and repr(copy.copy(secret)) == "Secret(<redacted>)"
    with pytest.raises((AttributeError, TypeError)):
        vars(secret)


# --------------------------------------------------------------------------- AWS KMS (moto)


@pytest.fixture
def kms(monkeypatch: pytest.MonkeyPatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("kms", region_name="eu-west-1")


def test_aws_kms_round_trip_and_binding(data_dir: Path, kms) -> None:
    key_arn = kms.create_key(Description="cloudcost vault KEK")["KeyMetadata"]["Arn"]
    vault = CredentialVault(AwsKmsKeyProvider(key_arn, client=kms))
    info = vault.add("acme", "aws", "role", SECRET)
    assert (info.key_provider, info.key_ref) == ("aws-kms", key_arn)
    assert not (data_dir / "keys").exists()  # no local key file involved
    assert (
        CredentialVault(AwsKmsKeyProvider(key_arn, region_name="eu-west-1")).decrypt("acme", "aws", "role").reveal()
        == SECRET
    )

    # The wrapped key is a KMS ciphertext blob bound to the encryption context: KMS refuses it for another id.
    document = _vault_json(data_dir, "acme")
    document["credentials"].append(dict(document["credentials"][0], id="copied"))
    _write_vault_json(data_dir, "acme", document)
    with pytest.raises(DecryptionFailed, match="InvalidCiphertextException") as caught:
        vault.decrypt("acme", "aws", "copied")
    assert "credential id 'copied'" in str(caught.value)
    _assert_no_secret_material(str(caught.value), data_dir)


def test_aws_kms_other_key_or_local_provider_cannot_decrypt(data_dir: Path, kms) -> None:
    key_a = kms.create_key()["KeyMetadata"]["KeyId"]
    key_b = kms.create_key()["KeyMetadata"]["KeyId"]
    CredentialVault(AwsKmsKeyProvider(key_a, client=kms)).add("acme", "aws", "role", SECRET)
    with pytest.raises(VaultError, match=key_b):
        CredentialVault(AwsKmsKeyProvider(key_b, client=kms)).decrypt("acme", "aws", "role")
    with pytest.raises(DecryptionFailed, match=r"wrapped by key provider 'aws-kms'.*this vault uses 'local-file'"):
        CredentialVault().decrypt("acme", "aws", "role")


def test_aws_kms_unknown_key_is_a_key_provider_error(data_dir: Path, kms) -> None:
    missing = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    with pytest.raises(KeyProviderError, match="refused to wrap"):
        CredentialVault(AwsKmsKeyProvider(missing, client=kms)).add("acme", "aws", "role", SECRET)
    assert CredentialVault().list("acme") == []


def _gcp_kms_installed() -> bool:
    try:
        from google.cloud import kms  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(_gcp_kms_installed(), reason="only checks the message given when google-cloud-kms is absent")
def test_gcp_kms_without_the_library_says_so(data_dir: Path) -> None:
    with pytest.raises(KeyProviderError, match="google-cloud-kms"):
        CredentialVault(GcpKmsKeyProvider("projects/p/locations/l/keyRings/r/cryptoKeys/k")).add(
            "acme", "gcp", "sa", SECRET
        )


# --------------------------------------------------------------------------- CLI


def _cli_subprocess(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "cloudcost.vault.cli", "credentials", *args],
        input=stdin,
        capture_output=True,
        env=os.environ.copy(),
        timeout=60,
    )


ACME_ORG_FILE = """\
slug: acme
display_name: Acme
providers:
""" + "".join(
    f"  {provider}:\n    credential_id: {provider}-acme\n    export: {{format: {fmt}, name: acme-export}}\n"
    for provider, fmt in (("aws", "cur2"), ("gcp", "detailed"), ("azure", "cost_details"), ("oci", "cost_report"))
)


@pytest.fixture
def acme_org(config_dir: Path) -> Path:
    """An org file for ``acme`` enabling every provider: credentials are stored only for configured orgs."""
    path = config_dir / "orgs" / "acme.yml"
    path.write_text(ACME_ORG_FILE)
    return path


@pytest.mark.usefixtures("acme_org")
def test_cli_add_from_file_and_stdin_then_list(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret_file = tmp_path / "sa.json"
    secret_file.write_bytes(SECRET)
    assert (
        vault_cli(
            ["credentials", "add", "--org", "acme", "--provider", "gcp", "--id", "sa", "--from-file", str(secret_file)]
        )
        == 0
    )
    out_err = "".join(capsys.readouterr())
    assert "added acme/gcp/sa" in out_err

    stdin_secret = b"DefaultEndpointsProtocol=https;AccountKey=" + MARKER.encode() + b"=="
    added = _cli_subprocess(
        "add", "--org", "acme", "--provider", "azure", "--id", "conn", "--from-file", "-", stdin=stdin_secret
    )
    assert added.returncode == 0, added.stderr.decode()
    assert b"added acme/azure/conn" in added.stdout

    listed = _cli_subprocess("list", "--org", "acme")
    assert listed.returncode == 0, listed.stderr.decode()
    lines = listed.stdout.decode().splitlines()
    assert lines[1].startswith("azure  conn  ") and lines[2].startswith("gcp  sa  ")
    only_gcp = _cli_subprocess("list", "--org", "acme", "--provider", "gcp")
    assert "azure" not in only_gcp.stdout.decode()

    for result in (added, listed, only_gcp):
        _assert_no_secret_material(result.stdout.decode() + result.stderr.decode(), data_dir)
    _assert_no_secret_material(out_err, data_dir)

    vault = CredentialVault()
    assert vault.decrypt("acme", "gcp", "sa").reveal() == SECRET
    assert vault.decrypt("acme", "azure", "conn").reveal() == stdin_secret


@pytest.mark.usefixtures("acme_org")
def test_cli_rotate_remove_and_errors(data_dir: Path) -> None:
    assert (
        _cli_subprocess(
            "add", "--org", "acme", "--provider", "oci", "--id", "api", "--from-file", "-", stdin=b"k1"
        ).returncode
        == 0
    )
    rotated = _cli_subprocess(
        "rotate", "--org", "acme", "--provider", "oci", "--id", "api", "--from-file", "-", stdin=MARKER.encode() + b"\n"
    )
    assert rotated.returncode == 0 and b"rotated acme/oci/api" in rotated.stdout
    assert CredentialVault().decrypt("acme", "oci", "api").reveal() == MARKER.encode() + b"\n"  # byte for byte
    _assert_no_secret_material(rotated.stdout.decode() + rotated.stderr.decode(), data_dir)

    duplicate = _cli_subprocess(
        "add", "--org", "acme", "--provider", "oci", "--id", "api", "--from-file", "-", stdin=MARKER.encode()
    )
    assert duplicate.returncode != 0 and b"already exists" in duplicate.stderr
    _assert_no_secret_material(duplicate.stdout.decode() + duplicate.stderr.decode(), data_dir)

    assert _cli_subprocess("remove", "--org", "acme", "--provider", "oci", "--id", "api").returncode == 0
    missing = _cli_subprocess("remove", "--org", "acme", "--provider", "oci", "--id", "api")
    assert missing.returncode != 0
    assert b"org 'acme', provider 'oci', credential id 'api'" in missing.stderr
    assert b"Traceback" not in missing.stderr

    empty = _cli_subprocess("add", "--org", "acme", "--provider", "oci", "--id", "api", "--from-file", "-", stdin=b"")
    assert empty.returncode != 0 and b"empty secret" in empty.stderr


@pytest.mark.usefixtures("acme_org")
def test_cli_does_not_accept_a_secret_on_the_command_line(data_dir: Path) -> None:
    missing_source = _cli_subprocess("add", "--org", "acme", "--provider", "aws", "--id", "k")
    assert missing_source.returncode == 2 and b"--from-file" in missing_source.stderr
    extra = _cli_subprocess(
        "add", "--org", "acme", "--provider", "aws", "--id", "k", "--from-file", "-", MARKER, stdin=b"s"
    )
    assert extra.returncode == 2
    assert not (data_dir / "vault" / "acme.json").exists()


ORG_FILE = """\
slug: vaulttest
display_name: Vault Test
providers:
  aws:
    credential_id: aws-from-org-file
    export: {format: cur2, name: vault-test}
"""


def test_cli_id_defaults_to_the_org_files_credential_id(data_dir: Path, config_dir: Path) -> None:
    (config_dir / "orgs" / "vaulttest.yml").write_text(ORG_FILE)
    added = _cli_subprocess("add", "--org", "vaulttest", "--provider", "aws", "--from-file", "-", stdin=SECRET)
    assert added.returncode == 0, added.stderr.decode()
    assert b"added vaulttest/aws/aws-from-org-file" in added.stdout
    assert CredentialVault().decrypt("vaulttest", "aws", "aws-from-org-file").reveal() == SECRET
    no_gcp = _cli_subprocess("add", "--org", "vaulttest", "--provider", "gcp", "--from-file", "-", stdin=SECRET)
    assert no_gcp.returncode != 0 and b"has no gcp credential_id" in no_gcp.stderr


def test_cli_stores_credentials_only_for_configured_orgs_and_providers(data_dir: Path, config_dir: Path) -> None:
    (config_dir / "orgs" / "vaulttest.yml").write_text(ORG_FILE)  # enables aws only
    no_file = config_dir / "orgs" / "ghost.yml"
    for args, path, words in (
        (("add", "--org", "ghost", "--provider", "aws", "--id", "k"), no_file, "org 'ghost' is not configured"),
        (("rotate", "--org", "ghost", "--provider", "aws"), no_file, "org 'ghost' is not configured"),
        (
            ("add", "--org", "vaulttest", "--provider", "gcp", "--id", "k"),
            config_dir / "orgs" / "vaulttest.yml",
            "key 'providers.gcp': org 'vaulttest' has no gcp credential_id (it does not enable gcp)",
        ),
    ):
        refused = _cli_subprocess(*args, "--from-file", "-", stdin=SECRET)
        assert refused.returncode == 2
        [line] = refused.stderr.decode().splitlines()  # one line, no traceback
        assert line.startswith(f"error: {path}: ") and words in line, line
        _assert_no_secret_material(line, data_dir)
    assert not (data_dir / "vault" / "ghost.json").exists()
    assert CredentialVault().list("vaulttest") == []


def test_cli_debug_flag_adds_the_traceback(data_dir: Path, config_dir: Path) -> None:
    args = ("add", "--org", "ghost", "--provider", "aws", "--from-file", "-")
    quiet = subprocess.run(
        [sys.executable, "-m", "cloudcost.vault.cli", "credentials", *args],
        input=SECRET,
        capture_output=True,
        env=os.environ.copy(),
        timeout=60,
    )
    loud = subprocess.run(
        [sys.executable, "-m", "cloudcost.vault.cli", "--debug", "credentials", *args],
        input=SECRET,
        capture_output=True,
        env=os.environ.copy(),
        timeout=60,
    )
    assert b"Traceback" not in quiet.stderr and quiet.returncode == 2
    assert b"Traceback" in loud.stderr and b"ConfigError" in loud.stderr and loud.returncode != 0
