"""Every command's --help renders (argparse formats help lazily: a stray % only fails when asked); ``config check``
exits 1 on anything that stops a DAG or an org; errors are one line, the traceback only with ``--debug``."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

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
