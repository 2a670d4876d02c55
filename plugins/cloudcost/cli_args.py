"""Argument types and help shared by every ``cloudcost`` command, so a date, a month or a count is read and
refused the same way everywhere (one message per kind of mistake), and every ``--help`` ends with examples."""

from __future__ import annotations

import argparse
import calendar
from collections.abc import Callable
from datetime import date
from typing import Any

from cloudcost.identifiers import parse_org_slug


def day(text: str) -> date:
    """A billing day, ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def month(text: str) -> date:
    """A month, ``YYYY-MM``: its first day."""
    try:
        year, number = (int(part) for part in text.split("-"))
        return date(year, number, 1)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a month (YYYY-MM): {text!r}") from exc


def positive(text: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


def month_end(first: date) -> date:
    """The last day of ``first``'s month."""
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


class ExamplesFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples epilog line by line (as RawDescriptionHelpFormatter does) but still wraps a long
    description to the terminal, which the raw formatter would print as one line."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith(EXAMPLES):
            return super()._fill_text(text, width, indent)
        return argparse.HelpFormatter._fill_text(self, text, width, indent)


EXAMPLES = "examples:"


def examples(*commands: str) -> dict[str, Any]:
    """``add_parser`` keywords that end the command's ``--help`` with these example lines, kept as written."""
    lines = "\n".join(f"  {command}" for command in commands)
    return {"epilog": f"{EXAMPLES}\n{lines}", "formatter_class": ExamplesFormatter}


def parse_org_option(args: argparse.Namespace) -> argparse.Namespace:
    """``--org`` parsed into an ``OrgSlug`` before the command runs (the command line is an edge). Not an
    argparse ``type``: a bad slug is then one ``error:`` line like every other mistake, not argparse's usage."""
    if isinstance(getattr(args, "org", None), str):
        args.org = parse_org_slug(args.org)
    return args


def org_command(
    subparsers: argparse._SubParsersAction,
    name: str,
    func: Callable[[argparse.Namespace], int],
    help_text: str,
    *example_lines: str,
    description: str | None = None,
) -> argparse.ArgumentParser:
    """A subcommand about one org, registered the same way everywhere: ``--org`` (default ``demo``) first,
    ``func`` as its handler, and a ``--help`` that ends with ``example_lines``."""
    parser = subparsers.add_parser(name, help=help_text, description=description, **examples(*example_lines))
    parser.add_argument("--org", default="demo")
    parser.set_defaults(func=func)
    return parser


def add_day_span(
    parser: argparse.ArgumentParser,
    *,
    required: bool = False,
    first_help: str | None = None,
    last_help: str | None = None,
) -> None:
    """``--from``/``--to`` as ``from_day``/``to_day``: the billing days a command covers, both inclusive."""
    parser.add_argument("--from", dest="from_day", type=day, required=required, help=first_help)
    parser.add_argument("--to", dest="to_day", type=day, required=required, help=last_help)
