"""Run the FinOps Foundation's focus-validator as a subprocess from its own virtual environment, offline.

It cannot live in the product venv (it needs Python >= 3.12 and pyarrow < 22), so it is installed by
``tools/focus-validator/install.sh`` into ``.venv-validator`` and called by path. It downloads rules unless
told not to, so it always gets ``--block-download --rule-set-path`` with our offline copy, and it opens
``focus_validator/rules/currency_codes.csv`` relative to its working directory, so each run gets a working
directory holding that file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from cloudcost.paths import REPO_ROOT
from cloudcost.validate.junit import FailureDetail, JUnitReport, parse_console_failures, parse_junit

VALIDATOR_ENV = "CLOUDCOST_FOCUS_VALIDATOR"  # path of the focus-validator executable
RULES_ENV = "CLOUDCOST_FOCUS_RULES"  # the offline rules folder
DEFAULT_VALIDATOR = REPO_ROOT / ".venv-validator" / "bin" / "focus-validator"
DEFAULT_RULES = REPO_ROOT.parent / "shared" / "reference" / "focus-validator-rules"
INSTALL_SCRIPT = REPO_ROOT / "tools" / "focus-validator" / "install.sh"
DEFAULT_TIMEOUT_SECONDS = 900.0
_DROPPED_ENV = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")


class RefereeUnavailable(RuntimeError):
    """The validator or its offline rules are not installed; the message says how to get them."""


class RefereeFailed(RuntimeError):
    """The validator exited non-zero, timed out, or wrote no report; the message carries its stderr tail."""


@dataclass(frozen=True)
class RefereeRun:
    """One validator run over one Parquet file."""

    junit: JUnitReport
    details: dict[str, FailureDetail] = field(default_factory=dict)
    seconds: float = 0.0
    workdir: Path | None = None


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Referee:
    executable: Path
    rules_dir: Path
    focus_version: str = "1.3"
    timeout: float = DEFAULT_TIMEOUT_SECONDS

    @classmethod
    def locate(cls, timeout: float = DEFAULT_TIMEOUT_SECONDS, focus_version: str = "1.3") -> Referee:
        """The installed validator and offline rules (``$CLOUDCOST_FOCUS_VALIDATOR``, ``$CLOUDCOST_FOCUS_RULES``),
        set to judge ``focus_version`` (its ``model-<version>.json`` must be among the rules)."""
        executable = _env_path(VALIDATOR_ENV, DEFAULT_VALIDATOR)
        rules_dir = _env_path(RULES_ENV, DEFAULT_RULES)
        if not os.access(executable, os.X_OK):
            raise RefereeUnavailable(
                f"focus-validator not found at {executable}: run {INSTALL_SCRIPT.relative_to(REPO_ROOT)} "
                f"(creates .venv-validator with Python 3.12), or set {VALIDATOR_ENV}"
            )
        if not (rules_dir / "currency_codes.csv").is_file() or not any(rules_dir.glob("model-*.json")):
            raise RefereeUnavailable(
                f"offline FOCUS validator rules not found in {rules_dir} (expected model-*.json and "
                f"currency_codes.csv; ../shared must sit beside the repository), or set {RULES_ENV}"
            )
        if not (rules_dir / f"model-{focus_version}.json").is_file():
            raise RefereeUnavailable(
                f"no rules model for FOCUS {focus_version} in {rules_dir} (model-{focus_version}.json)"
            )
        return cls(executable, rules_dir, focus_version, timeout)

    def version(self) -> str:
        """The installed focus-validator's package version."""
        python = self.executable.parent / "python"
        try:
            result = subprocess.run(
                [str(python), "-c", "import importlib.metadata as m; print(m.version('focus-validator'))"],
                capture_output=True,
                text=True,
                timeout=60,
                env=self._env(),
            )
        except (OSError, subprocess.TimeoutExpired):
            return "unknown"
        return result.stdout.strip() or "unknown"

    def _env(self) -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}

    def _prepare(self, workdir: Path) -> None:
        rules = workdir / "focus_validator" / "rules"
        rules.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.rules_dir / "currency_codes.csv", rules / "currency_codes.csv")

    def _command(self, data_file: Path, criteria: list[str], dataset: str | None) -> list[str]:
        command = [
            str(self.executable),
            "--data-file",
            str(data_file),
            "--validate-version",
            self.focus_version,
            "--rule-set-path",
            str(self.rules_dir),
            "--block-download",
        ]
        if criteria:
            command += ["--applicability-criteria", ",".join(criteria)]
        if dataset:
            command += ["--focus-dataset", dataset]
        return command

    def _call(self, command: list[str], workdir: Path, log_name: str) -> str:
        try:
            result = subprocess.run(
                command, cwd=workdir, capture_output=True, text=True, timeout=self.timeout, env=self._env()
            )
        except subprocess.TimeoutExpired as exc:
            raise RefereeFailed(f"focus-validator did not finish within {self.timeout:.0f} s") from exc
        (workdir / log_name).write_text(result.stdout + result.stderr, encoding="utf-8")
        if result.returncode != 0:
            tail = (result.stderr or result.stdout)[-3000:]
            raise RefereeFailed(f"focus-validator exited {result.returncode} (log {workdir / log_name}):\n{tail}")
        return result.stdout

    def run(
        self, data_file: Path, criteria: list[str], workdir: Path, *, details: bool = True, dataset: str | None = None
    ) -> RefereeRun:
        """Validate ``data_file`` (Parquet) claiming ``criteria``, as the FOCUS ``dataset`` (the validator's
        default, Cost and Usage, when ``None``); with ``details``, a second, console run explains the failures
        (violating rows, samples) when there are any."""
        workdir.mkdir(parents=True, exist_ok=True)
        self._prepare(workdir)
        xml = workdir / "focus-validator.junit.xml"
        started = time.monotonic()
        self._call(
            [
                *self._command(data_file, criteria, dataset),
                "--output-type",
                "unittest",
                "--output-destination",
                str(xml),
            ],
            workdir,
            "focus-validator.log",
        )
        seconds = time.monotonic() - started
        if not xml.is_file():
            raise RefereeFailed(f"focus-validator wrote no JUnit XML at {xml} (log {workdir / 'focus-validator.log'})")
        junit = parse_junit(xml)
        failure_details: dict[str, FailureDetail] = {}
        if details and junit.count("failed"):
            console = self._call(
                [*self._command(data_file, criteria, dataset), "--show-violations"],
                workdir,
                "focus-validator.console.txt",
            )
            failure_details = parse_console_failures(console)
        return RefereeRun(junit, failure_details, seconds, workdir)
