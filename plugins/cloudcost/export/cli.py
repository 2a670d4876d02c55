"""``cloudcost export --org ORG --format csv|parquet|json [--month YYYY-MM | --from A --to B] [--focus-version 1.4]``:
FOCUS 1.3 rows (or 1.4) for other tools; by default the last loaded month to date."""

from __future__ import annotations

import argparse
from pathlib import Path

from cloudcost.cli_args import org_command
from cloudcost.export import FOCUS_VERSION, FOCUS_VERSIONS
from cloudcost.loaded_range import add_range_arguments


def cmd_export(args: argparse.Namespace) -> int:
    """Run the export; print the file, the sidecar and every metric line. Exit 2 if nothing can be exported."""
    from cloudcost.export.pulumicost import MappingError
    from cloudcost.export.run import ExportError, default_path, export_org
    from cloudcost.loaded_range import NothingLoaded, resolve_range

    try:
        first, last = resolve_range(args)
    except NothingLoaded as exc:
        print(f"error: {exc}")
        return 2
    path = args.out
    if path is not None and path.is_dir():
        path = path / default_path(args.org, args.format, first, last, args.focus_version).name
    try:
        result = export_org(
            args.org,
            args.format,
            first,
            last,
            path=path,
            providers=args.provider or None,
            include_custom=not args.focus_only,
            focus_version=args.focus_version,
        )
    except (ExportError, MappingError) as exc:
        print(f"error: {exc}")
        return 2
    print(f"wrote {result.rows} FOCUS {args.format} rows of {len(result.columns)} columns: {result.path}")
    print(f"sidecar: {result.sidecar}")
    for metric in result.metrics:
        print(f"metric {metric.line()}")
    return 0


def add_export_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``export`` on the ``cloudcost`` command's subparsers."""
    parser = org_command(
        subparsers,
        "export",
        cmd_export,
        "write the org's FOCUS 1.3 (or 1.4) rows as CSV, Parquet or pulumicost JSON, with a metadata sidecar",
        "cloudcost export --org demo --format csv                  # the last loaded month to date",
        "cloudcost export --org demo --format parquet --month 2026-10 --out /tmp/",
        "cloudcost export --org demo --format json --from 2026-11-01 --to 2026-11-03 --provider aws",
        "cloudcost export --org demo --format parquet --focus-version 1.4",
        description=(
            "Export billing days FROM..TO (inclusive; the days the pipeline loaded) of <org>_prod."
            "cost_data_standard_1_3 (cost_data_standard_1_4 with --focus-version 1.4). csv: RFC 4180 with exact "
            "decimals; parquet: decimal128(38,10) and "
            "focus_version in the file metadata; json: JSON Lines of pulumicost FocusCostRecord. Every file gets "
            "<file>.metadata.json, and the run appends its metrics to <org>_prod.pipeline_metrics. Without --month "
            "or --from/--to: the last loaded month to date (the last day every enabled provider loaded)."
        ),
    )
    parser.add_argument("--format", choices=("csv", "parquet", "json"), required=True)
    add_range_arguments(parser)
    parser.add_argument("--out", type=Path, help="file, or existing folder (default: data/exports/<org>/)")
    parser.add_argument("--provider", action="append", help="only this provider (repeatable)")
    parser.add_argument("--focus-only", action="store_true", help="leave out cloudcost's x_ columns")
    parser.add_argument(
        "--focus-version",
        choices=FOCUS_VERSIONS,
        default=FOCUS_VERSION,
        help="1.3 (cost_data_standard_1_3, the default) or 1.4 (cost_data_standard_1_4, derived from it)",
    )
    return parser
