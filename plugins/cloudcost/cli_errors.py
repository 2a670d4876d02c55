"""How the command lines end on an error: one line per problem on stderr and a non-zero exit, never a
traceback unless ``--debug`` asks for it (a FinOps engineer needs the file, key or row, not our stack)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from cloudcost.cli_args import parse_org_option

EXIT_ERROR = 2  # the command could not do its job (as argparse's usage errors); 1 stays a command's own finding


def add_debug_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--debug", action="store_true", help="on an error, show the Python traceback after the one-line message"
    )


def run_command(command: Callable[[argparse.Namespace], int | None], args: argparse.Namespace) -> int:
    """``command(args)``'s exit code; an exception becomes ``error: ...`` lines (each naming its file, key or row,
    as ConfigError and the vault's errors do) and exit 2, or is re-raised with ``--debug``."""
    try:
        return int(command(parse_org_option(args)) or 0)
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        if getattr(args, "debug", False):
            raise
        text = str(exc).strip() or type(exc).__name__
        known = type(exc).__module__.startswith("cloudcost") or isinstance(exc, (ValueError, OSError, LookupError))
        for line in text.splitlines():
            print(f"error: {line}" if known else f"error: {type(exc).__name__}: {line}", file=sys.stderr)
        if not known:
            print("error: unexpected; run again with --debug for the traceback", file=sys.stderr)
        return EXIT_ERROR
