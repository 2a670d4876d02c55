"""Read focus-validator's output: the JUnit XML (status of every rule) and, for failures, its console text.

The validator exits 0 whatever it finds, so its verdict is only in these files. The XML is the record of
statuses; its messages are generic ("Nullability check for X"), so the console run's failure section
(violating row counts, the validator's message, sample values) is parsed to explain failures.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

PASSED, FAILED, SKIPPED, ERRORED = "passed", "failed", "skipped", "errored"
_FAILURE_LINE = re.compile(r"^- (?P<rule>\S+): violations=(?P<violations>[^;]*); (?P<message>.*)$")
_TOTAL_LINE = re.compile(r"Total: (\d+) \| Pass: (\d+) \| Fail: (\d+) \| Skipped: (\d+)")


class ValidatorOutputError(RuntimeError):
    """The validator's output could not be read (missing file, not its XML format)."""


@dataclass(frozen=True)
class JUnitCase:
    rule_id: str
    status: str  # passed | failed | skipped | errored
    check: str  # the rule's function as the validator names it (Composite, Nullability, ...)
    message: str


@dataclass(frozen=True)
class JUnitReport:
    cases: dict[str, JUnitCase]
    tests: int
    failures: int
    skipped: int
    errors: int

    def count(self, status: str) -> int:
        return sum(1 for case in self.cases.values() if case.status == status)


@dataclass(frozen=True)
class FailureDetail:
    """One entry of the console's failure section."""

    violations: int | None
    message: str
    samples: list[str] = field(default_factory=list)


def parse_junit(path: Path) -> JUnitReport:
    """Every ``<testcase>`` of the validator's ``--output-type unittest`` file, keyed by rule id."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise ValidatorOutputError(f"{path}: cannot read the validator's JUnit XML: {exc}") from exc
    if root.tag != "testsuites":
        raise ValidatorOutputError(f"{path}: expected <testsuites>, found <{root.tag}>")
    cases: dict[str, JUnitCase] = {}
    for case in root.iter("testcase"):
        name = case.get("name", "")
        rule_id, _, check = (part.strip() for part in name.partition(" :: "))
        if not rule_id:
            continue
        status, message = PASSED, ""
        for tag, outcome in (("failure", FAILED), ("error", ERRORED), ("skipped", SKIPPED)):
            element = case.find(tag)
            if element is not None:
                status, message = outcome, element.get("message") or (element.text or "")
                break
        cases[rule_id] = JUnitCase(rule_id, status, check if check != "None" else "", message.strip())

    def number(name: str) -> int:
        value = root.get(name, "")
        return int(value) if value.isdigit() else 0

    return JUnitReport(cases, number("tests"), number("failures"), number("skipped"), number("errors"))


def parse_console_failures(text: str) -> dict[str, FailureDetail]:
    """The ``--- Failures ---`` section of a console run with ``--show-violations``."""
    details: dict[str, FailureDetail] = {}
    _, marker, section = text.partition("--- Failures ---")
    if not marker:
        return details
    current: str | None = None
    in_samples = False
    for line in section.splitlines():
        match = _FAILURE_LINE.match(line)
        if match:
            raw = match["violations"].strip()
            current = match["rule"]
            details[current] = FailureDetail(int(raw) if raw.isdigit() else None, match["message"].strip())
            in_samples = False
        elif current and line.strip() == "Sample violations:":
            in_samples = True
        elif current and in_samples and line.startswith("    "):
            details[current].samples.append(line.strip())
        elif line.startswith("  "):
            in_samples = in_samples and line.startswith("    ")
    return details


def parse_total_line(text: str) -> tuple[int, int, int, int] | None:
    """``Total: N | Pass: N | Fail: N | Skipped: N`` as four numbers, if the text has it."""
    match = _TOTAL_LINE.search(text)
    if match is None:
        return None
    total, passed, failed, skipped = (int(g) for g in match.groups())
    return total, passed, failed, skipped
