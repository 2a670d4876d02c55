"""``cloudcost validate --org ORG [--focus-version V]``: the FOCUS referee's verdict per provider; exit 1 unless all
pass."""

from __future__ import annotations

import argparse
from pathlib import Path

from cloudcost.cli_args import add_day_span, org_command
from cloudcost.config import PROVIDERS
from cloudcost.schemas import FOCUS_SCHEMA_FILES, PRIMARY_FOCUS_VERSION

REFEREE_VERSIONS = tuple(FOCUS_SCHEMA_FILES)  # every version's table is refereed with its model-<version>.json


def cmd_validate(args: argparse.Namespace) -> int:
    from cloudcost.validate.conformance import ConformanceConfigError
    from cloudcost.validate.export import ExportError
    from cloudcost.validate.referee import RefereeFailed, RefereeUnavailable
    from cloudcost.validate.run import run_validation

    try:
        report = run_validation(
            args.org,
            providers=args.provider or None,
            first_day=args.from_day,
            last_day=args.to_day,
            keep_dir=args.keep,
            details=not args.no_details,
            include_custom=not args.focus_only,
            timeout=args.timeout,
            focus_version=args.focus_version,
        )
    except (RefereeUnavailable, RefereeFailed, ConformanceConfigError, ExportError) as exc:
        print(f"error: {exc}")
        return 2
    print(report.format())
    return 0 if report.passed else 1


def add_validate_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``validate`` on the ``cloudcost`` command's subparsers."""
    parser = org_command(
        subparsers,
        "validate",
        cmd_validate,
        "referee the org's FOCUS table with the FinOps Foundation's focus-validator",
        "cloudcost validate --org demo",
        "cloudcost validate --org demo --provider aws --from 2026-11-01 --to 2026-11-03 --keep /tmp/referee",
        "cloudcost validate --org demo --focus-version 1.4",
        description=(
            "Export each provider's FOCUS rows (1.3 unless --focus-version) to Parquet and run focus-validator "
            "(from .venv-validator, offline rules) with the applicability criteria claimed in "
            "configs/focus_conformance.yml. "
            "Exit 0 if every provider passes, 1 if one fails, 2 if the referee cannot run."
        ),
    )
    parser.add_argument("--provider", action="append", choices=PROVIDERS, help="only this provider (repeatable)")
    add_day_span(parser, first_help="first billing day (default: all)", last_help="last billing day (default: all)")
    parser.add_argument("--keep", type=Path, help="keep the Parquet, JUnit XML and validator logs in this folder")
    parser.add_argument("--no-details", action="store_true", help="skip the second run that explains failures")
    parser.add_argument("--focus-only", action="store_true", help="export only the 65 FOCUS columns (drop x_)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per validator run")
    parser.add_argument(
        "--focus-version",
        choices=REFEREE_VERSIONS,
        default=PRIMARY_FOCUS_VERSION,
        help="the FOCUS version whose table is judged (default 1.3; 1.4 needs cost_data_standard_1_4)",
    )
    return parser
