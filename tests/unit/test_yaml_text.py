"""The C loader reads our YAML exactly as PyYAML's pure-Python safe loader did."""

from pathlib import Path

import pytest
import yaml

from cloudcost.paths import REPO_ROOT
from cloudcost.yaml_text import SafeLoader, YAMLError, parse_yaml

OUR_YAML = sorted(
    path for folder in ("configs", "schemas") for path in (REPO_ROOT / folder).rglob("*.yml") if path.is_file()
)


def test_the_fast_loader_is_used_where_the_wheel_has_it() -> None:
    assert yaml.__with_libyaml__, "this venv's PyYAML lacks libyaml: every task would parse YAML 10x slower"
    assert SafeLoader is yaml.CSafeLoader


@pytest.mark.parametrize("path", OUR_YAML, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_file_of_ours_parses_the_same(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert parse_yaml(text) == yaml.safe_load(text)


def test_no_python_objects() -> None:
    with pytest.raises(YAMLError):
        parse_yaml("!!python/object/apply:os.system ['true']")


def test_a_syntax_error_names_its_line() -> None:
    with pytest.raises(YAMLError) as error:
        parse_yaml("a: 1\nb: [2\n")
    mark = getattr(error.value, "problem_mark", None)
    assert mark is not None and mark.line >= 1
