"""cloudcost report on a small known dataset: totals to the cent, untagged shares, movers, budget sections.

The dataset is written straight into the rollup tables (and, where a test wants them, the evaluation tables
budget_status / anomalies / alerts, created from their schemas here), so these tests do not depend on the
rollup or evaluation code. 2026-11-01..04 is the range; 2026-11-05 holds rows that must stay out of it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from cloudcost.report.html import render_html
from cloudcost.report.money import allocate_cents
from cloudcost.report.queries import fetch_report
from cloudcost.report.sections import build_sections
from cloudcost.report.terminal import render_text
from cloudcost.schemas import load_table_schema
from cloudcost.warehouse import open_warehouse
from cloudcost.warehouse.duckdb import DuckDBSession, DuckDBWarehouse

DATASET = "demo_prod"
START, END = date(2026, 11, 1), date(2026, 11, 4)
AT = datetime(2026, 11, 5, 6, 0, tzinfo=UTC)
D = Decimal

# team -> (provider, ServiceCategory, billed per day, effective per day 1..4 then the out-of-range 5th,
#          rows per day, untagged rows per day)
TEAMS = {
    "payments": ("aws", "Compute", D("100"), ["80", "80", "80", "80.005", "999"], 10, 0),
    "__untagged__": ("aws", "Storage", D("20"), ["20", "20", "40", "40.005", "999"], 5, 5),
    "search": ("gcp", "Databases", D("55"), ["50", "50", "90", "90.005", "999"], 4, 0),
    "platform": ("azure", "Compute", D("45"), ["40.005", "40", "20", "20", "999"], 3, 0),
}
TAG_KEYS = [  # (day, provider, tag_key, rows, effective_cost)
    (date(2026, 11, 1), "aws", "Name", 5, "20"),
    (date(2026, 11, 2), "aws", "Name", 5, "20"),
    (date(2026, 11, 3), "aws", "Name", 4, "30"),
    (date(2026, 11, 4), "aws", "Name", 4, "30"),
    (date(2026, 11, 3), "aws", "CostCentre", 6, "25"),  # a misspelling no alias maps
    (date(2026, 11, 4), "aws", "CostCentre", 6, "25"),
    (date(2026, 11, 5), "aws", "Project", 5, "999"),  # outside the range
]


def seed_rollups(evaluation: bool = False) -> None:
    """Write the known dataset; with ``evaluation`` also budget_status, anomalies and alerts."""
    warehouse = open_warehouse()
    with warehouse.session("demo_prod") as session:
        for name in ("daily_cost_by_team", "untagged_tag_keys"):
            warehouse.ensure_table(session, DATASET, load_table_schema(f"rollups/{name}.yml"))
        for team, (provider, category, billed, costs, rows, untagged) in TEAMS.items():
            for i, cost in enumerate(costs):
                session.execute(
                    f"insert into {DATASET}.daily_cost_by_team "
                    "values (?, ?, 'USD', 'eng', ?, ?, 'cc-1', ?, ?, ?, 2, ?, ?, 0, ?)",
                    [date(2026, 11, 1 + i), provider, team, "prod", category, billed, D(cost), rows, untagged, AT],
                )
        for row in TAG_KEYS:
            day, provider, *rest = row
            session.execute(
                f"insert into {DATASET}.untagged_tag_keys values (?, ?, 'USD', ?, ?, ?, ?)", [day, provider, *rest, AT]
            )
        if evaluation:
            seed_evaluation(warehouse, session)


def seed_evaluation(warehouse: DuckDBWarehouse, session: DuckDBSession) -> None:
    """Evaluation rows as the other engineer's schemas define them, with known values."""
    for name in ("budget_status", "anomalies", "alerts"):
        warehouse.ensure_table(session, DATASET, load_table_schema(f"rollups/{name}.yml"))
    budgets = [  # as_of, budget, team, amount, actual, forecast, status
        (date(2026, 11, 3), "org-monthly", "*", "5000", "600.01", "5100", "WARNING"),
        (date(2026, 11, 4), "org-monthly", "*", "5000", "840.02", "6300.15", "WARNING"),
        (date(2026, 11, 4), "payments-monthly", "payments", "3000", "320.01", "2400.04", "OK"),
        (date(2026, 11, 4), "search-monthly", "search", "250", "280.01", "2100", "CRITICAL"),
    ]
    for as_of, budget, team, amount, actual, forecast, status in budgets:
        session.execute(
            f"insert into {DATASET}.budget_status values (?, ?, ?, ?, ?, 'EffectiveCost', 'USD', ?, ?, ?, ?, ?)",
            [as_of, budget, team, date(2026, 11, 1), date(2026, 12, 1), D(amount), D(actual), D(forecast), status, AT],
        )
    for day, team, category, cost, z in [
        (date(2026, 11, 3), "search", "Databases", "90", "40"),
        (date(2026, 11, 6), "payments", "Compute", "500", "9"),  # outside the range
    ]:
        session.execute(
            f"insert into {DATASET}.anomalies values (?, ?, ?, ?, 50, 1, ?, 2.5, 7, ?, 'USD')",
            [day, team, category, cost, z, AT],
        )
    alerts = [
        ("anomaly:search/Databases:2026-11-03", "anomaly", "WARNING", "search/Databases", date(2026, 11, 3), AT),
        ("budget:org-monthly:2026-11", "budget", "WARNING", "org-monthly", date(2026, 11, 4), None),
    ]
    for key, kind, severity, subject, day, resolved in alerts:
        session.execute(
            f"insert into {DATASET}.alerts values (?, ?, ?, ?, ?, ?, 1, 1, ?, null, ?, 'USD')",
            [key, kind, severity, subject, day, f"{subject} is over", AT, resolved],
        )


@pytest.fixture
def rollups(data_dir: Path) -> Path:
    seed_rollups()
    return data_dir


@pytest.fixture
def evaluated(data_dir: Path) -> Path:
    seed_rollups(evaluation=True)
    return data_dir


def _section_text(text: str, title: str) -> str:
    """The lines of one section of the text report (up to the next blank line)."""
    start = text.index(f"\n{title}") + 1
    end = text.find("\n\n", start)
    return text[start : end if end > 0 else None]


def _row(section: str, first: str) -> list[str]:
    """The cells of the row whose first cell is ``first`` (cells are separated by 2+ spaces)."""
    for line in section.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if cells[0] == first:
            return cells
    raise AssertionError(f"no row {first!r} in:\n{section}")


def test_totals_to_the_cent_and_every_table_adds_up(rollups: Path) -> None:
    text = render_text(fetch_report("demo", START, END))
    assert "Amounts are EffectiveCost" in text
    assert "2026-11-01 to 2026-11-04, 4 days, 4 with data" in text
    totals = _section_text(text, "Totals")
    assert _row(totals, "EffectiveCost (the report's basis)")[1:] == ["USD", "840.02"]  # exact, the 5th day left out
    assert _row(totals, "BilledCost")[1:] == ["USD", "880.00"]
    providers = _section_text(text, "Cost by provider")
    assert _row(providers, "aws")[1:3] == ["440.01", "480.00"]
    assert _row(providers, "gcp")[1:3] == ["280.01", "220.00"]  # 280.005 takes the cent the total needs
    assert _row(providers, "azure")[1:3] == ["120.00", "180.00"]  # 120.005: no cent left for it
    assert _row(providers, "TOTAL")[1:3] == ["840.02", "880.00"]
    teams = _section_text(text, "Cost by team")
    # each team is x.xx5: rounding each half up would show 840.04 for a total of 840.02
    assert [_row(teams, t)[1] for t in ("payments", "search", "__untagged__", "platform", "TOTAL")] == [
        "320.01",
        "280.01",
        "120.00",
        "120.00",
        "840.02",
    ]
    assert _row(_section_text(text, "Cost by service category"), "Compute")[1:3] == ["440.01", "580.00"]

    for section in build_sections(fetch_report("demo", START, END)):
        table = section.table
        if table is None or table.total is None:
            continue
        for column in sorted(table.numeric):
            if "%" in table.headers[column]:
                continue
            values = [D(row[column].replace(",", "")) for row in table.rows]
            assert sum(values) == D(table.total[column].replace(",", "")), (section.key, table.headers[column])


def test_untagged_share_per_provider_and_unmapped_tag_keys(rollups: Path) -> None:
    text = render_text(fetch_report("demo", START, END))
    providers = _section_text(text, "Cost by provider")
    assert _row(providers, "aws")[3:] == ["120.01", "27.3 %", "33.3 %"]  # 120.005 / 440.01; 20 of 60 rows
    assert _row(providers, "gcp")[3:] == ["0.00", "0.0 %", "0.0 %"]
    assert _row(providers, "TOTAL")[3:] == ["120.01", "14.3 %", "22.7 %"]  # 120.005 / 840.02; 20 of 88 rows
    assert _row(_section_text(text, "Totals"), "untagged share of spend")[1:] == ["USD", "14.3 %"]
    keys = _section_text(text, "Tag keys on untagged rows")
    assert _row(keys, "aws")[1:] == ["USD", "Name", "18", "90.0 %", "100.00"]  # 18 of aws's 20 untagged rows
    assert "CostCentre" in keys and "Project" not in keys  # Project only appears after the range
    assert [day for day, _ in fetch_report("demo", START, END).untagged_trend()] == [
        date(2026, 11, d) for d in range(1, 5)
    ]
    assert [v for _, v in fetch_report("demo", START, END).untagged_trend()] == [
        D("10.5"),
        D("10.5"),
        D("17.4"),
        D("17.4"),
    ]


def test_top_movers_compare_the_two_halves(rollups: Path) -> None:
    data = fetch_report("demo", START, END)
    assert [(m.kind, m.name, m.change) for m in data.movers] == [
        ("team", "search", D("80.005")),
        ("team", "__untagged__", D("40.005")),  # ties on |change| ordered by name
        ("team", "platform", D("-40.005")),
        ("team", "payments", D("0.005")),
        ("service category", "Databases", D("80.005")),
        ("service category", "Storage", D("40.005")),
        ("service category", "Compute", D("-40.000")),  # 240.005 -> 200.005
    ]
    movers = _section_text(render_text(data), "Top movers")
    assert "second half of the range vs the first half" in movers
    assert "2026-11-03..2026-11-04 vs 2026-11-01..2026-11-02" in movers
    assert _row(movers, "team")[1:] == ["search", "USD", "100.00", "180.01", "+80.01", "80.0 %"]
    odd = fetch_report("demo", START, date(2026, 11, 3))  # the middle day, 11-02, is in neither half
    assert (odd.halves.first, odd.halves.second) == ((START, START), (date(2026, 11, 3), date(2026, 11, 3)))
    one_day = render_text(fetch_report("demo", START, START))
    assert "a one-day range has no halves to compare: no movers" in one_day


def test_days_without_rollups_are_named_and_flagged_for_the_movers(rollups: Path) -> None:
    text = render_text(fetch_report("demo", START, date(2026, 11, 7)))
    assert "7 days, 5 with data" in text and "no rollups for: 2026-11-06..2026-11-07" in text
    assert "careful: no rollups for 2 day(s) of 2026-11-05..2026-11-07; a missing day counts as no cost" in text
    assert "careful" not in render_text(fetch_report("demo", START, END))


def test_without_evaluation_tables_the_report_says_so(rollups: Path) -> None:
    text = render_text(fetch_report("demo", START, END))
    assert "no budgets evaluated (demo_prod.budget_status does not exist yet)" in text
    assert "no anomalies (demo_prod.anomalies does not exist yet)" in text
    assert "no alerts (demo_prod.alerts does not exist yet)" in text
    assert "Budget status as of" not in text


def test_budget_status_as_of_the_last_day_and_anomalies_alerts_in_range(evaluated: Path) -> None:
    text = render_text(fetch_report("demo", START, END))
    budgets = _section_text(text, "Budget status as of 2026-11-04")
    assert [line.split()[0] for line in budgets.splitlines()[3:]] == [
        "search-monthly",  # CRITICAL first
        "org-monthly",
        "payments-monthly",
    ]
    assert _row(budgets, "org-monthly")[1:] == [
        "*",
        "2026-11-01..2026-12-01",
        "EffectiveCost",
        "USD",
        "5,000.00",
        "840.02",
        "6,300.15",
        "126.0 %",
        "WARNING",
    ]
    assert "600.01" not in budgets  # the 11-03 evaluation is superseded
    anomalies = _section_text(text, "Anomalies")
    assert _row(anomalies, "2026-11-03")[1:] == ["search", "Databases", "USD", "90.00", "50.00", "40.00", "2.50"]
    assert "2026-11-06" not in anomalies
    alerts = _section_text(text, "Alerts")
    assert _row(alerts, "2026-11-03")[1:] == [
        "anomaly",
        "WARNING",
        "search/Databases",
        "search/Databases is over",
        "resolved",
    ]
    assert _row(alerts, "2026-11-04")[-1] == "open"

    earlier = render_text(fetch_report("demo", START, date(2026, 11, 3)))
    assert "Budget status as of 2026-11-03" in earlier
    before = render_text(fetch_report("demo", date(2026, 10, 1), date(2026, 10, 31)))
    assert "no budgets evaluated for 2026-10-01..2026-10-31" in before and "no anomalies in 2026-10-01" in before


def test_budget_status_falls_back_to_the_latest_evaluated_day(evaluated: Path) -> None:
    text = render_text(fetch_report("demo", START, date(2026, 11, 5)))
    assert "Budget status as of 2026-11-04" in text
    assert "the latest evaluation in the range is of 2026-11-04; 2026-11-05 is not evaluated yet" in text


def test_cli_prints_the_report_and_writes_the_page(
    rollups: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cloudcost.cli import main

    page = tmp_path / "out" / "report.html"
    assert main(["report", "--org", "demo", "--from", "2026-11-01", "--to", "2026-11-04", "--html", str(page)]) == 0
    out = capsys.readouterr().out
    assert "Cost by provider" in out and f"wrote {page}" in out
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg ") == 3 and "840.02" in html and "generated at" in html
    assert main(["report", "--org", "demo", "--from", "2026-11-04", "--to", "2026-11-01"]) == 2
    assert "is before" in capsys.readouterr().out


def test_cli_without_rollups_names_what_to_run(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cloudcost.cli import main

    assert main(["report", "--org", "demo", "--from", "2026-11-01", "--to", "2026-11-04"]) == 2
    assert "demo_prod.daily_cost_by_team does not exist" in capsys.readouterr().out


def test_page_is_self_contained_and_escapes_tag_values(rollups: Path) -> None:
    with open_warehouse().session("demo_prod") as session:
        session.execute(
            f"insert into {DATASET}.daily_cost_by_team values (?, 'aws', 'USD', 'eng', ?, 'prod', 'cc', 'Compute', "
            "1, 1, 1, 1, 0, 0, ?)",
            [START, '<script>alert("x")</script>', AT],
        )
    html = render_html(fetch_report("demo", START, END, generated_at=AT))
    assert "<script" not in html.lower() and "&lt;script&gt;" in html
    assert not re.search(r"\b(src|href)=", html)  # nothing to fetch: no images, styles or scripts from anywhere
    assert "default-src 'none'" in html and "generated at 2026-11-05 06:00 UTC" in html
    assert render_html(fetch_report("demo", START, END, generated_at=AT)) == html  # deterministic


@pytest.mark.parametrize(
    "values",
    [
        ["0.005", "0.005", "0.005"],
        ["1.004", "2.004", "3.004", "-0.004"],
        ["-0.005", "-0.005", "10"],
        ["0.3333333333", "0.3333333333", "0.3333333334"],
        [],
    ],
)
def test_allocated_cents_add_up_and_stay_within_a_cent(values: list[str]) -> None:
    exact = [D(v) for v in values]
    parts, total = allocate_cents(exact)
    assert sum(parts, D(0)) == total == sum(exact, D(0)).quantize(D("0.01"), rounding="ROUND_HALF_UP")
    assert all(abs(p - e) < D("0.01") for p, e in zip(parts, exact, strict=True))


def test_cli_defaults_to_the_last_loaded_month_to_date(rollups: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every enabled provider loaded 11-01..11-04; on 11-05 only aws did, so the default ends on 11-04."""
    from cloudcost.cli import main
    from cloudcost.config import load_org_by_slug
    from tests.helpers import seed_load_state

    providers = [p for p, e in load_org_by_slug("demo").providers.items() if e.enabled]
    seed_load_state({p: [date(2026, 11, d) for d in range(1, 5)] for p in providers})
    seed_load_state({"aws": [date(2026, 11, 5)]})
    seed_load_state({p: [date(2026, 11, 6)] for p in providers}, status="landed")
    capsys.readouterr()
    assert main(["report", "--org", "demo"]) == 0
    default = capsys.readouterr().out
    assert default.startswith("Cost report for Demo Corp (org demo, demo_prod): 2026-11-01 to 2026-11-04, 4 days")
    assert default == render_text(fetch_report("demo", START, END))  # same report as the explicit range
    assert main(["report", "--org", "demo", "--month", "2026-11"]) == 0
    assert "2026-11-01 to 2026-11-04, 4 days" in capsys.readouterr().out  # the loaded part of the month
    assert main(["report", "--org", "demo", "--month", "2026-10"]) == 0
    assert "2026-10-01 to 2026-10-31, 31 days, 0 with data" in capsys.readouterr().out
    assert main(["report", "--org", "demo", "--month", "2026-11", "--from", "2026-11-01", "--to", "2026-11-02"]) == 2
    assert "--month cannot be combined" in capsys.readouterr().out
    assert main(["report", "--org", "demo", "--from", "2026-11-01"]) == 2
    assert "--from and --to go together" in capsys.readouterr().out


def test_cli_without_any_load_asks_for_a_range(rollups: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cloudcost.cli import main

    assert main(["report", "--org", "demo"]) == 2
    assert "give --month YYYY-MM or --from/--to" in capsys.readouterr().out


def test_alerts_are_labelled_with_the_day_they_were_raised_for(evaluated: Path) -> None:
    """A budget alert keeps the figures of its own day; the report says so beside the current budget status."""
    text = render_text(fetch_report("demo", START, END))
    alerts = _section_text(text, "Alerts")
    assert "raised for day" in alerts and "message (figures as of the raising day)" in alerts
    assert "the budget's current figures are in the budget status above (as of 2026-11-04)" in alerts
