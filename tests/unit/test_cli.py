"""Every command's --help renders (argparse formats help lazily: a stray % only fails when asked); ``config check``
exits 1 on anything that stops a DAG or an org; errors are one line, the traceback only with ``--debug``."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from cloudcost import cli_args
from cloudcost.cli import build_parser, main


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _commands(sub, (*path, name))
    return found


@pytest.mark.parametrize("command", _commands(build_parser()), ids=lambda c: " ".join(c) or "cloudcost")
def test_help_renders(command: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([*command, "--help"])
    assert done.value.code == 0
    assert "usage: cloudcost" in capsys.readouterr().out


# --------------------------------------------------------------------------- config check, errors, --debug


def _rewrite(path: Path, edit: Callable[[dict], object]) -> None:
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data))


def test_config_check_passes_on_the_shipped_configs(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check"]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and f"ok {config_dir / 'orgs' / 'demo.yml'}" in out


@pytest.mark.parametrize(
    ("file", "edit", "line"),
    [
        (  # the DAG cannot be built: it used to print "DAG not buildable yet" and exit 0
            "cloud/aws/cost/billing.yml",
            lambda d: d["formats"]["cur2"].update(procedure="sp_cloud_1_convert_to_focus/nope.sql"),
            "key 'formats.cur2.procedure': ",
        ),
        (
            "orgs/demo.yml",
            lambda d: d["providers"]["aws"]["export"].update(colour="red"),
            "key 'providers.aws.export.colour'",
        ),
        (
            "orgs/demo.yml",
            lambda d: d["providers"]["gcp"]["export"].update(format="cur2"),
            "key 'providers.gcp.export.format'",
        ),
        ("rollups.yml", lambda d: d["gate"].update(timeout_hours="soon"), "key 'gate.timeout_hours'"),
    ],
)
def test_config_check_fails_on_what_stops_a_dag_or_an_org(
    config_dir: Path, capsys: pytest.CaptureFixture[str], file: str, edit: Callable[[dict], object], line: str
) -> None:
    _rewrite(config_dir / file, edit)
    assert main(["config", "check"]) == 1
    [failure] = [text for text in capsys.readouterr().out.splitlines() if text.startswith("FAIL")]
    assert failure.startswith(f"FAIL {config_dir / file}: {line}"), failure


def test_config_check_fails_on_a_second_org_file_that_is_not_yaml(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (config_dir / "orgs" / "acme.yml").write_text("slug: acme\nproviders: [aws\n")
    assert main(["config", "check"]) == 1
    out = capsys.readouterr().out
    assert f"FAIL {config_dir / 'orgs' / 'acme.yml'}: line 3, column 1 not valid YAML" in out
    assert f"ok {config_dir / 'orgs' / 'demo.yml'}" in out


def _cloudcost(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cloudcost.cli", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("summary", "--org", "ghost"), "configs/orgs/ghost.yml: file not found"),
        (
            ("status", "--org", "Not-A-Slug", "--from", "2026-11-01", "--to", "2026-11-01"),
            "invalid org slug 'Not-A-Slug'",
        ),
        (
            ("demo", "generate", "--org", "demo", "--from", "2026-11-03", "--to", "2026-11-01"),
            "--to 2026-11-01 is before",
        ),
    ],
)
def test_errors_are_one_line_without_traceback(
    config_dir: Path, data_dir: Path, args: tuple[str, ...], words: str
) -> None:
    done = _cloudcost(*args)
    assert done.returncode != 0
    [line] = done.stderr.splitlines()
    assert words in line and "Traceback" not in done.stderr


def test_debug_flag_shows_the_traceback(config_dir: Path, data_dir: Path) -> None:
    quiet = _cloudcost("summary", "--org", "ghost")
    loud = _cloudcost("--debug", "summary", "--org", "ghost")
    assert quiet.returncode == 2 and loud.returncode != 0
    assert "Traceback" in loud.stderr and "ConfigError" in loud.stderr
    assert f"error: {config_dir / 'orgs' / 'ghost.yml'}: file not found" == quiet.stderr.strip()


# --------------------------------------------------------------------------- shared argument types, examples


@pytest.mark.parametrize("command", [c for c in _commands(build_parser()) if c], ids=" ".join)
def test_every_command_help_ends_with_an_example(command: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args([*command, "--help"])
    out = capsys.readouterr().out
    examples = out[out.index("\nexamples:\n") :].splitlines()[2:]
    assert examples and all(line.startswith("  cloudcost ") for line in examples if line.strip())
    # the leaf commands' examples name the command itself
    if not any(isinstance(a, argparse._SubParsersAction) for a in _parser_of(command)._actions):
        assert all(line.startswith(f"  cloudcost {' '.join(command)}") for line in examples if line.strip())


def _parser_of(command: tuple[str, ...]) -> argparse.ArgumentParser:
    parser = build_parser()
    for name in command:
        [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        parser = sub.choices[name]
    return parser


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("day", "2026-11-03", date(2026, 11, 3)),
        ("month", "2026-02", date(2026, 2, 1)),
        ("positive", "3", 3),
    ],
)
def test_shared_argument_types_read(kind: str, text: str, expected: object) -> None:
    assert getattr(cli_args, kind)(text) == expected


@pytest.mark.parametrize(
    ("kind", "text", "words"),
    [
        ("day", "2026-11", "not a date (YYYY-MM-DD)"),
        ("month", "2026-13", "not a month (YYYY-MM)"),
        ("month", "2026-11-01", "not a month (YYYY-MM)"),
        ("positive", "0", "is not a positive whole number"),
        ("positive", "two", "is not a positive whole number"),
    ],
)
def test_shared_argument_types_refuse(kind: str, text: str, words: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=re.escape(words)):
        getattr(cli_args, kind)(text)


def test_no_module_keeps_its_own_day_parser() -> None:
    plugins = Path(cli_args.__file__).parent
    copies = [p for p in plugins.rglob("*.py") if re.search(r"def _(day|positive|month)\(text", p.read_text())]
    assert copies == []


# --------------------------------------------------------------------------- demo generate, summary, status


def test_generate_prints_one_line_per_provider(
    config_dir: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyarrow.parquet as pq

    from cloudcost.demo.written import count_rows

    assert main(["demo", "generate", "--org", "demo", "--from", "2026-10-30", "--to", "2026-11-02"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4  # aws, gcp, azure, oci
    for line in lines:
        provider = line.split()[1]
        root = data_dir / "landing" / "demo" / provider
        files = [p for p in root.rglob("*") if p.name.endswith((".parquet", ".csv", ".csv.gz"))]
        rows = sum(count_rows(p) for p in files)
        assert f" {len(files)} data file(s), " in line and f" {rows:,} rows, 4 days 2026-10-30..2026-11-02 " in line
    gcp = [p for p in (data_dir / "landing" / "demo" / "gcp").rglob("*.parquet")]
    assert count_rows(gcp[0]) == pq.read_table(gcp[0]).num_rows > 0


@pytest.fixture
def loaded_demo(data_dir: Path) -> Path:
    """Two demo days generated and loaded in-process (the stage functions, as `demo history`)."""
    from cloudcost.demo.credentials import store_demo_credentials
    from cloudcost.demo.history import load_history

    assert main(["demo", "generate", "--org", "demo", "--from", "2026-10-31", "--to", "2026-11-01"]) == 0
    store_demo_credentials("demo")
    load_history("demo", [date(2026, 10, 31), date(2026, 11, 1)])
    return data_dir


def test_summary_is_compact_and_full_on_request(loaded_demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.helpers import query_warehouse

    capsys.readouterr()
    assert main(["summary", "--org", "demo"]) == 0
    compact = capsys.readouterr().out
    assert main(["summary", "--org", "demo", "--full"]) == 0
    full = capsys.readouterr().out
    per_provider = query_warehouse(
        "select x_cloud_provider, count(*), sum(BilledCost) from demo_prod.cost_data_standard_1_3 group by 1"
    )
    assert len(compact.splitlines()) < 25 < len(full.splitlines())
    for provider, rows, billed in per_provider:
        [line] = [x for x in compact.splitlines() if x.startswith(f"{provider} ") and "2026-10-31..2026-11-01" in x]
        assert f" {rows:,} " in line and f" {billed.quantize(Decimal('0.01')):,.2f} " in line
    assert not re.search(r"\d\.\d{3,}", compact + full)  # amounts to the cent, never 10 decimals
    for text in (compact, full):
        lines = text.splitlines()
        rules = [i for i, x in enumerate(lines) if x and set(x) <= {"-", " "}]
        assert len(rules) == (2 if text is compact else 4)
        for i in rules:  # every column, the last one too, has a header above its rule
            for column in re.finditer(r"-+", lines[i]):
                assert lines[i - 1][column.start() : column.end()].strip(), lines[i - 1]
    assert "MISMATCH" not in full and compact.count(" OK") == len(per_provider)


def test_status_names_each_provider_lag_from_its_billing_yml(
    config_dir: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cloudcost.config import load_billing_config
    from cloudcost.demo.credentials import store_demo_credentials

    assert main(["demo", "generate", "--from", "2026-11-03", "--to", "2026-11-04", "--incomplete-last-day"]) == 0
    store_demo_credentials("demo")
    capsys.readouterr()
    assert main(["status", "--org", "demo", "--from", "2026-11-04", "--to", "2026-11-04"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    for line in lines:
        provider = line.split()[1]
        lag = load_billing_config(provider).completeness.export_lag_hours
        assert re.match(rf"2026-11-04  {provider:<5}  NOT READY  day end \+ {lag:g} h  \S", line), line
