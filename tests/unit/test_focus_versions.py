"""The FOCUS version as a parameter: the daily rules per registered version, the referee's claims, table and
rules model per version, and one clear line when a version has no table."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from cloudcost import schemas
from cloudcost.pipeline.focus_rules import FocusRuleViolation, check_every_focus_version, versions_to_check
from cloudcost.schemas import SchemaError, TableSchema, focus_schema, quote_column
from cloudcost.validate.conformance import ConformanceConfigError, load_conformance
from cloudcost.validate.export import export_focus
from cloudcost.validate.junit import FAILED, PASSED, SKIPPED, JUnitCase, JUnitReport
from cloudcost.validate.model import RulesModel
from cloudcost.validate.referee import Referee, RefereeRun, RefereeUnavailable
from cloudcost.validate.results import rule_results
from cloudcost.validate.verdict import ErratumCheck, classify
from cloudcost.warehouse import open_warehouse
from tests.helpers import run_context

REPO = Path(__file__).resolve().parents[2]
DAY = date(2026, 11, 1)
_VALUES = {"string": "x", "decimal": 0, "timestamp": "2026-11-01", "date": DAY, "json": "{}", "int64": 0, "bool": False}


@pytest.fixture
def second_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TableSchema:
    """FOCUS "9.9": the 1.3 columns in a table of its own, registered the way a new version plugs in."""
    data = yaml.safe_load((REPO / "schemas" / "focus" / "cost_data_standard_1_3.yml").read_text())
    path = tmp_path / "cost_data_standard_9_9.yml"
    path.write_text(yaml.safe_dump({**data, "table": "cost_data_standard_9_9"}))
    monkeypatch.setitem(schemas.FOCUS_SCHEMA_FILES, "9.9", str(path))  # an absolute path: outside schemas/
    return focus_schema("9.9")


def insert_rows(schema: TableSchema, days: list[date], **values: object) -> None:
    """One row per day of provider aws in the table, every column filled with a plain value of its type."""
    warehouse = open_warehouse()
    with warehouse.session("demo_prod") as session:
        warehouse.ensure_table(session, "demo_prod", schema)
        for day in days:
            row = {c.name: _VALUES[c.type] for c in schema.columns}
            row |= {"x_cloud_provider": "aws", "x_ingestion_date": day, **values}
            session.execute(
                f"insert into demo_prod.{schema.table} ({', '.join(quote_column(n) for n in row)}) "
                f"values ({', '.join('?' for _ in row)})",
                list(row.values()),
            )


def test_an_unregistered_version_has_no_table() -> None:
    with pytest.raises(SchemaError, match=r"^FOCUS 9\.9 has no table in this build \(tables are built for FOCUS 1\.3"):
        focus_schema("9.9")
    assert focus_schema() == focus_schema("1.3")


def test_export_and_validate_offer_the_registered_versions() -> None:
    """The versions are listed once, in ``FOCUS_SCHEMA_FILES``: export and validate accept exactly those (1.3 by
    default), and the referee knows the FOCUS datasets of each (``DATASETS`` says which, it is not a copy)."""
    from cloudcost import cli
    from cloudcost.validate.run import DATASETS

    parser = cli.build_parser()
    commands = {"export": ["export", "--org", "demo", "--format", "csv"], "validate": ["validate", "--org", "demo"]}
    for command, args in commands.items():
        assert parser.parse_args(args).focus_version == schemas.PRIMARY_FOCUS_VERSION, command
        for version in schemas.FOCUS_SCHEMA_FILES:
            assert parser.parse_args([*args, "--focus-version", version]).focus_version == version, command
        with pytest.raises(SystemExit):
            parser.parse_args([*args, "--focus-version", "9.9"])
    assert set(DATASETS) == set(schemas.FOCUS_SCHEMA_FILES)


def test_the_daily_check_adds_a_registered_version_once_its_table_exists(
    data_dir: Path, config_dir: Path, second_version: TableSchema
) -> None:
    warehouse = open_warehouse()
    insert_rows(focus_schema(), [])  # the 1.3 table, empty: its rules pass
    assert versions_to_check(warehouse, "demo_prod") == ["1.3"]
    assert list(check_every_focus_version(warehouse, "demo_prod", run_context(DAY))) == ["1.3"]

    insert_rows(second_version, [DAY], BillingCurrency="usd")
    assert versions_to_check(warehouse, "demo_prod") == ["1.3", "9.9"]
    with pytest.raises(
        FocusRuleViolation, match=r"demo/aws 2026-11-01: FOCUS 9\.9 rules broken: .*BillingCurrency-format"
    ):
        check_every_focus_version(warehouse, "demo_prod", run_context(DAY))


def test_the_referee_exports_only_the_sampled_days_of_the_version_table(
    data_dir: Path, tmp_path: Path, second_version: TableSchema
) -> None:
    days = [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]
    insert_rows(second_version, days)
    export = export_focus(open_warehouse(), "demo_prod", "aws", tmp_path / "f.parquet", days=days[::2], version="9.9")
    assert export.rows == 2
    import pyarrow.parquet as pq

    assert sorted(pq.read_table(export.path).column("x_ingestion_date").to_pylist()) == days[::2]


def test_claims_and_errata_per_version(tmp_path: Path) -> None:
    primary = load_conformance()
    assert primary == load_conformance(version="1.3")
    assert primary.claim("aws") is not None and "CAU-PricingQuantity-C-005-C" in primary.errata
    fourteen = load_conformance(version="1.4")  # its own section: 1.4's claims and errata, not 1.3's
    assert sorted(fourteen.providers) == ["aws", "azure", "gcp", "oci"]
    assert "CAU-CostAndUsage-D-038-M" in fourteen.errata and "CAU-CostAndUsage-D-038-M" not in primary.errata
    with pytest.raises(ConformanceConfigError, match=r"key 'versions': no section for FOCUS 1\.5"):
        load_conformance(version="1.5")
    text = (REPO / "configs" / "focus_conformance.yml").read_text()
    for bad, message in (("1.3", "is the primary version"), ("one.four", "is not a FOCUS version")):
        path = tmp_path / f"{bad}.yml"
        path.write_text(text + f'  "{bad}":\n    providers: {{}}\n')
        with pytest.raises(ConformanceConfigError, match=message):
            load_conformance(path)


def test_the_validator_is_set_to_the_version_whose_model_it_has(tmp_path: Path, monkeypatch) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "currency_codes.csv").write_text("USD\n")
    (rules / "model-1.3.json").write_text("{}")
    monkeypatch.setenv("CLOUDCOST_FOCUS_VALIDATOR", "/bin/true")
    monkeypatch.setenv("CLOUDCOST_FOCUS_RULES", str(rules))
    assert Referee.locate().focus_version == "1.3"
    with pytest.raises(RefereeUnavailable, match=r"no rules model for FOCUS 1\.4 in .*model-1\.4\.json"):
        Referee.locate(focus_version="1.4")
    (rules / "model-1.4.json").write_text("{}")
    assert Referee.locate(focus_version="1.4").focus_version == "1.4"


def test_validate_without_the_version_table_says_so_in_one_line(data_dir: Path, config_dir: Path, capsys) -> None:
    from cloudcost.cli import main

    insert_rows(focus_schema(), [DAY])  # 1.3 rows exist; no 1.4 table
    assert main(["validate", "--org", "demo", "--focus-version", "1.4"]) == 2
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1 and out.startswith("error: ") and "FOCUS 1.4" in out
    with pytest.raises(SystemExit):
        main(["validate", "--org", "demo", "--focus-version", "2.0"])
    assert "invalid choice: '2.0'" in capsys.readouterr().err


def _model() -> RulesModel:
    def rule(function: str, criteria: list[str] | None = None, children: tuple[str, ...] = ()) -> dict:
        requirement = {"Items": [{"CheckFunction": "CheckModelRule", "ModelRuleId": c} for c in children]}
        return {
            "Function": function,
            "ApplicabilityCriteria": criteria or [],
            "ValidationCriteria": {"Keyword": "MUST", "MustSatisfy": function, "Requirement": requirement},
        }

    rules = {
        "CAU-Top-C-000-C": rule("Composite", children=("CAU-Gated-C-001-M", "CAU-Wrong-C-002-C")),
        "CAU-Gated-C-001-M": rule("Nullability", ["UNCLAIMED_SUPPORTED"]),
        "CAU-Wrong-C-002-C": rule("Validation"),
        "CAU-Broken-C-003-M": rule("Validation"),
        "CAU-Fine-C-004-M": rule("Validation"),
        "CAU-Quiet-C-005-C": rule("Validation"),
    }
    return RulesModel(Path("model-test.json"), {"ModelRules": rules})


def test_rule_results_say_what_the_verdict_says() -> None:
    """Validator status first; then not applicable -> skipped, erratum -> erratum, a composite failing only
    through them -> erratum, a real failure or a corrected erratum check that finds rows -> fail."""
    model = _model()
    statuses = {
        "CAU-Top-C-000-C": FAILED,
        "CAU-Gated-C-001-M": FAILED,
        "CAU-Wrong-C-002-C": FAILED,
        "CAU-Broken-C-003-M": FAILED,
        "CAU-Fine-C-004-M": PASSED,
        "CAU-Quiet-C-005-C": SKIPPED,
    }
    cases = {rule_id: JUnitCase(rule_id, status, "", "") for rule_id, status in statuses.items()}
    run = RefereeRun(JUnitReport(cases, len(cases), 4, 1, 0))
    errata = load_conformance().errata
    erratum = next(iter(errata.values()))
    clean = [ErratumCheck("CAU-Wrong-C-002-C", erratum.reason, "x", True, 0)]
    outcomes = classify(run, model, [], {"CAU-Wrong-C-002-C": erratum}, clean)
    assert rule_results(cases, outcomes, model) == {
        "CAU-Broken-C-003-M": "fail",
        "CAU-Fine-C-004-M": "pass",
        "CAU-Gated-C-001-M": "skipped",
        "CAU-Quiet-C-005-C": "skipped",
        "CAU-Top-C-000-C": "erratum",
        "CAU-Wrong-C-002-C": "erratum",
    }
    found = [ErratumCheck("CAU-Wrong-C-002-C", erratum.reason, "x", True, 3)]
    outcomes = classify(run, model, [], {"CAU-Wrong-C-002-C": erratum}, found)
    assert rule_results(cases, outcomes, model)["CAU-Wrong-C-002-C"] == "fail"
