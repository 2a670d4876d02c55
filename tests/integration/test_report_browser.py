"""The HTML report in a real browser: Debian's chromium, headless, renders the known dataset's page.

- the DOM chromium builds has the three charts, each mark carrying its exact value, and the totals;
- a screenshot of the page matches tests/fixtures/report/report.png within a tolerance.

Screenshot comparison: both PNGs are decoded by the small pure-Python reader below (zlib + PNG row filters;
Pillow is not a dependency) and cut into 40x40 px cells; each cell's mean red, green and blue must stay
within CELL_TOLERANCE levels (of 255) of the reference, and the mean difference over the whole page within
MEAN_TOLERANCE. Anti-aliasing and font hinting of another chromium build move a text cell by a few levels;
a missing, recoloured or resized bar, a moved line or a shifted section moves cells by tens. Regenerate the
reference after an intended change of the page with
``CLOUDCOST_UPDATE_SCREENSHOTS=1 .venv/bin/pytest tests/integration/test_report_browser.py`` and look at it.

Chromium (/usr/bin/chromium, or ``CLOUDCOST_CHROMIUM``) and the page's font are installed by ``make chromium``
(part of ``make test``). Without them the tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cloudcost.report.html import render_html
from cloudcost.report.queries import fetch_report
from tests.unit.test_report import AT, END, START, seed_rollups

CHROMIUM = Path(os.environ.get("CLOUDCOST_CHROMIUM", "/usr/bin/chromium"))
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # "DejaVu Sans", the page's font
REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "report" / "report.png"
WINDOW = (1280, 2000)
CELL = 40
CELL_TOLERANCE = 16.0
MEAN_TOLERANCE = 1.0


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's chromium, and the page's font (another font would move every text cell of the screenshot)."""
    missing = [str(p) for p in (CHROMIUM, FONT) if not p.is_file()]
    if not missing and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    message = f"{', '.join(missing) or CHROMIUM} missing: run `make chromium` (packages chromium, fonts-dejavu-core)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def page(data_dir: Path, tmp_path: Path) -> Path:
    """The known dataset's report page, with a fixed "generated at" so the pixels never change."""
    seed_rollups(evaluation=True)
    path = tmp_path / "report.html"
    path.write_text(render_html(fetch_report("demo", START, END, generated_at=AT)), encoding="utf-8")
    return path


def _run_chromium(chromium: Path, page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        str(chromium),
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",  # never the user's profile; parallel runs apart
        "--no-first-run",
        "--disable-extensions",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        "--force-color-profile=srgb",
        "--font-render-hinting=none",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        *args,
        page.as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


class _Elements(HTMLParser):
    """Every element of the dumped DOM as (tag, attributes, the chart it sits in), and the page's text."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str], str | None]] = []
        self.text: list[str] = []
        self._chart: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "svg":
            self._chart = values.get("id")
        self.elements.append((tag, values, self._chart))

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._chart = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_browser_renders_the_three_charts_with_exact_values(chromium: Path, page: Path, tmp_path: Path) -> None:
    dom = _run_chromium(chromium, page, tmp_path, "--dump-dom").stdout
    parsed = _Elements()
    parsed.feed(dom)
    charts = [a["id"] for tag, a, _ in parsed.elements if tag == "svg"]
    assert charts == ["chart-daily-by-provider", "chart-cost-by-team", "chart-untagged-trend"]

    def marks(chart: str, tag: str) -> list[dict[str, str]]:
        return [a for t, a, c in parsed.elements if c == chart and t == tag and a.get("class") in ("bar", "point")]

    daily = marks("chart-daily-by-provider", "rect")
    assert len(daily) == 12  # 4 days x 3 providers
    assert sum(Decimal(a["data-value"]) for a in daily) == Decimal("840.02")  # exact, as in the warehouse
    by_provider: dict[str, Decimal] = {}
    for a in daily:
        by_provider[a["data-provider"]] = by_provider.get(a["data-provider"], Decimal(0)) + Decimal(a["data-value"])
    assert by_provider == {"aws": Decimal("440.01"), "gcp": Decimal("280.005"), "azure": Decimal("120.005")}
    heights = {(a["data-day"], a["data-provider"]): float(a["height"]) for a in daily}
    assert heights[("2026-11-03", "gcp")] > heights[("2026-11-01", "gcp")]  # 90 vs 50: drawn to scale

    teams = marks("chart-cost-by-team", "rect")
    assert [(a["data-team"], Decimal(a["data-value"])) for a in teams] == [
        ("payments", Decimal("320.005")),
        ("search", Decimal("280.005")),
        ("__untagged__", Decimal("120.005")),
        ("platform", Decimal("120.005")),
    ]
    untagged_fill = {a["data-team"]: a["fill"] for a in teams}
    assert untagged_fill["__untagged__"] != untagged_fill["payments"]

    points = marks("chart-untagged-trend", "circle")
    overall = {a["data-day"]: Decimal(a["data-value"]) for a in points if a["data-series"] == "all providers"}
    assert overall == {
        "2026-11-01": Decimal("10.5"),
        "2026-11-02": Decimal("10.5"),
        "2026-11-03": Decimal("17.4"),
        "2026-11-04": Decimal("17.4"),
    }
    assert len(points) == 16  # aws, azure, gcp and all providers, 4 days each

    text = " ".join(parsed.text)
    for figure in ("840.02", "880.00", "14.3 %", "27.3 %", "Budget status as of 2026-11-04", "CostCentre"):
        assert figure in text, figure
    assert "generated at 2026-11-05 06:00 UTC" in text
    _assert_every_amount_names_its_currency(dom, "USD")


MONEY = re.compile(r"^[-+]?\d{1,3}(,\d{3})*\.\d{2}$")
AMOUNT_IN_TEXT = re.compile(r"\d\.\d{2}(?![\d %])")


def _assert_every_amount_names_its_currency(dom: str, currency: str) -> None:
    """In the DOM chromium built: each chart's caption and every bar's tooltip name the currency; a table cell
    that is an amount sits in a table with a currency column or under a heading "in <currency>"; an amount
    inside a sentence (an alert's message) is followed by the currency."""
    captions = re.findall(r"<figcaption[^>]*>(.*?)</figcaption>", dom, re.S)
    assert len(captions) == 3 and all(c.strip().endswith(currency) for c in captions), captions
    tooltips = re.findall(r'<rect[^>]*class="bar"[^>]*>\s*<title>(.*?)</title>', dom, re.S)
    assert tooltips and all(t.endswith(f" {currency}") for t in tooltips), tooltips
    checked = 0
    for section in re.findall(r"<section.*?</section>", dom, re.S):
        if "<table" not in section:
            continue
        heading = re.search(r"<h2[^>]*>(.*?)</h2>", section, re.S)
        headers = [h.strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", section, re.S)]
        named = "currency" in headers or (heading is not None and heading.group(1).endswith(f"in {currency}"))
        for cell in (c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", section, re.S)):
            if MONEY.match(cell):
                assert named, (heading and heading.group(1), cell)
                checked += 1
            else:
                for found in AMOUNT_IN_TEXT.finditer(cell):
                    assert cell[found.end() :].startswith(f" {currency}"), cell
                    checked += 1
    assert checked > 20


# --------------------------------------------------------------------------- screenshot comparison


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    channels: int
    rows: list[bytes]  # unfiltered scanlines, width * channels bytes each


def _add_bytes(a: bytes, b: bytes) -> bytes:
    """Bytewise (a + b) mod 256 of two equal-length rows at once (SWAR on Python ints: no carry between bytes)."""
    n = len(a)
    x, y = int.from_bytes(a, "big"), int.from_bytes(b, "big")
    low, high = int.from_bytes(b"\x7f" * n, "big"), int.from_bytes(b"\x80" * n, "big")
    return (((x & low) + (y & low)) ^ ((x ^ y) & high)).to_bytes(n, "big")


def _unfilter(kind: int, line: bytes, previous: bytes, bpp: int) -> bytes:
    if kind == 0:
        return line
    if kind == 2:  # Up: the common case, done a row at a time
        return _add_bytes(line, previous)
    out = bytearray(line)
    for i in range(len(out)):
        left = out[i - bpp] if i >= bpp else 0
        up = previous[i]
        if kind == 1:
            out[i] = (out[i] + left) & 0xFF
        elif kind == 3:
            out[i] = (out[i] + ((left + up) >> 1)) & 0xFF
        elif kind == 4:
            corner = previous[i - bpp] if i >= bpp else 0
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            out[i] = (out[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        else:
            raise ValueError(f"unknown PNG filter {kind}")
    return bytes(out)


def read_png(data: bytes) -> Image:
    """Decode an 8-bit, non-interlaced RGB or RGBA PNG (what chromium writes) into unfiltered rows."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, bytearray(), None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    assert header is not None, "PNG without IHDR"
    width, height, depth, color, _, _, interlace = header
    channels = {2: 3, 6: 4}.get(color)
    assert depth == 8 and channels and not interlace, f"unsupported PNG: depth {depth}, colour type {color}"
    raw, stride = zlib.decompress(bytes(idat)), width * channels
    rows, previous = [], bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        previous = _unfilter(raw[start], raw[start + 1 : start + 1 + stride], previous, channels)
        rows.append(previous)
    return Image(width, height, channels, rows)


def cell_means(image: Image, cell: int = CELL) -> list[list[tuple[float, float, float]]]:
    """Mean (R, G, B) of every ``cell`` x ``cell`` block, row of blocks by row of blocks."""
    columns = -(-image.width // cell)
    grid = []
    for top in range(0, image.height, cell):
        sums = [[0, 0, 0] for _ in range(columns)]
        lines = image.rows[top : top + cell]
        for line in lines:
            for cx in range(columns):
                segment = line[cx * cell * image.channels : (cx + 1) * cell * image.channels]
                for c in range(3):
                    sums[cx][c] += sum(segment[c :: image.channels])
        grid.append(
            [
                tuple(s / (len(lines) * min(cell, image.width - cx * cell)) for s in sums[cx])
                for cx in range(columns)  # type: ignore[misc]
            ]
        )
    return grid


def compare(actual: Image, reference: Image) -> tuple[float, float, list[str]]:
    """(largest cell difference, mean cell difference, the cells beyond CELL_TOLERANCE as 'x,y: diff')."""
    assert (actual.width, actual.height) == (reference.width, reference.height), "screenshot size differs"
    worst, total, count, beyond = 0.0, 0.0, 0, []
    for cy, (row_a, row_b) in enumerate(zip(cell_means(actual), cell_means(reference), strict=True)):
        for cx, (a, b) in enumerate(zip(row_a, row_b, strict=True)):
            diff = max(abs(a[c] - b[c]) for c in range(3))
            worst, total, count = max(worst, diff), total + diff, count + 1
            if diff > CELL_TOLERANCE:
                beyond.append(f"x={cx * CELL},y={cy * CELL}: {diff:.1f}")
    return worst, total / count, beyond


def test_screenshot_matches_the_reference(chromium: Path, page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    _run_chromium(chromium, page, tmp_path, f"--screenshot={shot}")
    actual = read_png(shot.read_bytes())
    assert (actual.width, actual.height) == WINDOW
    if os.environ.get("CLOUDCOST_UPDATE_SCREENSHOTS") == "1":
        REFERENCE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, REFERENCE)
        pytest.skip(f"reference written: {REFERENCE}")
    worst, mean, beyond = compare(actual, read_png(REFERENCE.read_bytes()))
    kept = Path(os.environ.get("CLOUDCOST_SCREENSHOT_DIR", tmp_path)) / "report-actual.png"
    if beyond or mean > MEAN_TOLERANCE:
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, kept)
    assert not beyond, (
        f"{len(beyond)} cells differ by more than {CELL_TOLERANCE} (worst {worst:.1f}): {beyond[:10]} ({kept})"
    )
    assert mean <= MEAN_TOLERANCE, f"mean cell difference {mean:.2f} > {MEAN_TOLERANCE} (actual: {kept})"


def test_comparison_catches_a_changed_chart(chromium: Path, page: Path, tmp_path: Path) -> None:
    """The tolerance is not so loose that it passes a wrong chart: one day's gcp bar at a different height."""
    from cloudcost.warehouse import open_warehouse

    with open_warehouse().session("demo_prod") as session:
        session.execute(
            "update demo_prod.daily_cost_by_team set effective_cost = effective_cost * 1.5 "
            "where team = 'search' and charge_day = ?",
            [date(2026, 11, 3)],
        )
    changed = tmp_path / "changed.html"
    changed.write_text(render_html(fetch_report("demo", START, END, generated_at=AT)), encoding="utf-8")
    shot = tmp_path / "changed.png"
    _run_chromium(chromium, changed, tmp_path, f"--screenshot={shot}")
    _, _, beyond = compare(read_png(shot.read_bytes()), read_png(REFERENCE.read_bytes()))
    assert beyond
