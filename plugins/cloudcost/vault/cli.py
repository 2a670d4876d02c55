"""``cloudcost credentials add|list|rotate|remove``: manage the vault from the shell.

Secrets are read from a file or stdin (``--from-file -``), never from the command line, where they would
land in shell history and in every process listing. Output names credentials and dates, never secrets; an
error (vault messages never hold secret bytes) is one ``error:`` line and exit 2 (``cloudcost.cli_errors``).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from cloudcost.config import PROVIDERS

if TYPE_CHECKING:
    from cloudcost.config import OrgProvider


def _vault() -> Any:
    from cloudcost.vault import default_vault

    return default_vault()


def _configured(args: argparse.Namespace) -> OrgProvider:
    """The org file's entry for ``--provider``: credentials are stored only for an org that has a file and
    enables the provider (a ``ConfigError`` naming the org file otherwise)."""
    from cloudcost.config import ConfigError, load_org_by_slug, org_file_path

    path = org_file_path(args.org)
    if not path.is_file():
        raise ConfigError(f"{path}: file not found: org {args.org!r} is not configured, so it cannot hold credentials")
    entry = load_org_by_slug(args.org).providers.get(args.provider)
    if entry is None or not entry.enabled:
        raise ConfigError(
            f"{path}: key 'providers.{args.provider}': org {args.org!r} has no {args.provider} credential_id "
            f"(it does not enable {args.provider}); credentials are stored only for the providers an org enables"
        )
    return entry


def _credential_id(args: argparse.Namespace) -> str:
    """``--id``, or else the ``credential_id`` the org file gives the provider."""
    return args.id or _configured(args).credential_id


def _read_secret(source: str) -> bytes:
    """The secret, byte for byte (a trailing newline is kept), from ``source`` or stdin for ``-``."""
    try:
        if source == "-":
            return sys.stdin.buffer.read()
        with open(source, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise SystemExit(f"cannot read the secret from {source}: {exc.strerror}") from None


def cmd_add(args: argparse.Namespace) -> int:
    entry = _configured(args)  # also with --id: only a configured org and provider take a credential
    credential_id = args.id or entry.credential_id
    vault = _vault()
    info = vault.add(args.org, args.provider, credential_id, _read_secret(args.from_file))
    print(
        f"added {info.org}/{info.provider}/{info.credential_id} (key provider {info.key_provider}) "
        f"to {vault.store.path(info.org)}"
    )
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    entry = _configured(args)  # also with --id: only a configured org and provider take a credential
    credential_id = args.id or entry.credential_id
    vault = _vault()
    info = vault.rotate(args.org, args.provider, credential_id, _read_secret(args.from_file))
    print(f"rotated {info.org}/{info.provider}/{info.credential_id} at {info.rotated_at}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    credential_id = _credential_id(args)
    _vault().remove(args.org, args.provider, credential_id)
    print(f"removed {args.org}/{args.provider}/{credential_id}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    infos = [info for info in _vault().list(args.org) if args.provider in (None, info.provider)]
    if not infos:
        print(f"no credentials for org {args.org}" + (f" and provider {args.provider}" if args.provider else ""))
        return 0
    print("provider  id  created_at  rotated_at  key_provider")
    for info in infos:
        key = info.key_provider + (f" ({info.key_ref})" if info.key_ref else "")
        print(f"{info.provider}  {info.credential_id}  {info.created_at}  {info.rotated_at or '-'}  {key}")
    return 0


def add_vault_commands(subparsers: Any) -> None:
    """Register ``credentials add|list|rotate|remove`` on the ``cloudcost`` parser's subcommands."""
    from cloudcost.cli_args import examples

    credentials = subparsers.add_parser(
        "credentials",
        help="cloud credentials in the encrypted vault",
        **examples("cloudcost credentials list --org demo"),
    )
    actions = credentials.add_subparsers(dest="action", required=True)
    specs = (
        ("add", "store a new credential", cmd_add, True),
        ("rotate", "replace a credential's secret (new data key)", cmd_rotate, True),
        ("remove", "delete a credential", cmd_remove, False),
    )
    for name, help_text, action, reads_secret in specs:
        secret = " --from-file secret.json" if reads_secret else ""
        sub = actions.add_parser(
            name, help=help_text, **examples(f"cloudcost credentials {name} --org demo --provider gcp{secret}")
        )
        sub.add_argument("--org", required=True)
        sub.add_argument("--provider", required=True, choices=PROVIDERS)
        sub.add_argument("--id", help="credential id (default: the provider's credential_id in the org file)")
        if reads_secret:
            sub.add_argument(
                "--from-file",
                required=True,
                metavar="PATH",
                help="the secret's file, kept byte for byte; '-' reads stdin (never pass a secret as an argument)",
            )
        sub.set_defaults(func=action)
    listing = actions.add_parser(
        "list",
        help="credential ids, providers and dates (never secrets)",
        **examples("cloudcost credentials list --org demo --provider aws"),
    )
    listing.add_argument("--org", required=True)
    listing.add_argument("--provider", choices=PROVIDERS)
    listing.set_defaults(func=cmd_list)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (``python -m cloudcost.vault.cli credentials ...``): errors as ``cloudcost``'s."""
    import os

    from cloudcost.cli_errors import add_debug_flag, run_command
    from cloudcost.private_files import restrict_umask

    parser = argparse.ArgumentParser(prog="cloudcost")
    add_debug_flag(parser)
    add_vault_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    previous = restrict_umask()
    try:
        return run_command(args.func, args)
    finally:
        os.umask(previous)


if __name__ == "__main__":
    sys.exit(main())
