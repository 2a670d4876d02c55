"""YAML parsed by libyaml (PyYAML's C loader) where the wheel has it, else by the pure-Python loader.

Every task process parses the FOCUS schemas, billing.yml and the org file once; with the pure-Python loader that
took 0.13 s of a ``check`` task's 0.19 s turn at the embedded warehouse (profiled, cold process), time every
waiter behind it waited too. The C loader reads the same safe subset (no Python objects), about ten times faster.
"""

from __future__ import annotations

from typing import Any

import yaml

YAMLError = yaml.YAMLError
SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """``yaml.safe_load``'s result for ``text``: plain mappings, lists and scalars only."""
    return yaml.load(text, Loader=SafeLoader)
