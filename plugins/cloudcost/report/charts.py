"""Inline SVG charts drawn in Python: the HTML page needs no script, no library and no network.

Geometry uses floats (pixels only); every value a reader sees, in a label or a ``<title>`` tooltip, comes
from the exact Decimals. Each mark carries ``data-*`` attributes with its exact value so a test can read
the chart back from the browser's DOM. Coordinates are rounded to 0.1 px so the output is deterministic.
Each chart draws one currency's data (``ReportData.in_currency``): bars of two currencies never stack.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from html import escape

from cloudcost.report.model import UNTAGGED, ReportData
from cloudcost.report.money import allocate_cents, money, percent

WIDTH = 1160
PROVIDER_COLORS = {"aws": "#ff9900", "azure": "#0078d4", "gcp": "#34a853", "oci": "#c74634"}
OTHER_COLORS = ("#6f42c1", "#17a2b8", "#6c757d", "#e83e8c", "#795548")
TEAM_COLOR, UNTAGGED_COLOR, FOLDED_COLOR = "#4e79a7", "#d62728", "#9e9e9e"
AXIS, GRID, INK = "#444444", "#e4e4e4", "#222222"


def provider_colors(providers: Iterable[str]) -> dict[str, str]:
    """Fixed colours for the four clouds, then a palette in name order for any other provider."""
    others = iter(OTHER_COLORS * 10)
    return {p: PROVIDER_COLORS.get(p) or next(others) for p in sorted(providers)}


def _n(value: float) -> str:
    text = f"{value:.1f}"
    return "0" if text == "-0.0" else text.removesuffix(".0")


def _attrs(**values: object) -> str:
    return " ".join(f'{k.rstrip("_").replace("_", "-")}="{escape(str(v))}"' for k, v in values.items())


def axis(lo: float, hi: float, count: int = 5) -> tuple[float, float, list[float]]:
    """A "nice" axis (steps of 1, 2, 2.5 or 5 x 10^k) covering lo..hi and zero."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo <= 0:
        hi = lo + 1
    raw = (hi - lo) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if raw <= m * magnitude * (1 + 1e-9))
    first, last = math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step
    ticks = [round(first + i * step, 10) for i in range(round((last - first) / step) + 1)]
    return first, last, ticks


def _tick_label(value: float, step: float, suffix: str = "") -> str:
    decimals = 0 if step >= 1 else 2
    return f"{value:,.{decimals}f}{suffix}"


class _Frame:
    """Plot area of a chart and the value -> pixel scale of its y axis."""

    def __init__(self, height: int, left: int, top: int, right: int, bottom: int, lo: float, hi: float) -> None:
        self.left, self.top, self.right, self.bottom = left, top, WIDTH - right, height - bottom
        self.lo, self.hi = lo, hi

    def y(self, value: float) -> float:
        return self.bottom - (value - self.lo) / (self.hi - self.lo) * (self.bottom - self.top)

    def y_axis(self, ticks: list[float], suffix: str = "") -> list[str]:
        step = ticks[1] - ticks[0] if len(ticks) > 1 else 1
        out = []
        for tick in ticks:
            y = _n(self.y(tick))
            out.append(f'<line x1="{self.left}" x2="{self.right}" y1="{y}" y2="{y}" stroke="{GRID}"/>')
            label = _tick_label(tick, step, suffix)
            out.append(f'<text x="{self.left - 8}" y="{y}" dy="4" text-anchor="end" class="tick">{label}</text>')
        zero = _n(self.y(0))
        out.append(f'<line x1="{self.left}" x2="{self.right}" y1="{zero}" y2="{zero}" stroke="{AXIS}"/>')
        return out

    def day_slots(self, days: list[date]) -> list[tuple[date, float, float]]:
        """(day, slot start x, slot width) for each day of the range."""
        width = (self.right - self.left) / max(len(days), 1)
        return [(day, self.left + i * width, width) for i, day in enumerate(days)]

    def x_labels(self, days: list[date]) -> list[str]:
        every = max(1, math.ceil(len(days) / 16))
        out = []
        for i, (day, x, width) in enumerate(self.day_slots(days)):
            if i % every == 0:
                label = day.strftime("%m-%d")
                x_mid = _n(x + width / 2)
                out.append(f'<text x="{x_mid}" y="{self.bottom + 18}" text-anchor="middle" class="tick">{label}</text>')
        return out


def _svg(chart_id: str, title: str, height: int, body: list[str]) -> str:
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" id="{chart_id}" class="chart" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">',
            f"<title>{escape(title)}</title>",
            *body,
            "</svg>",
        ]
    )


def _legend(items: list[tuple[str, str]], x: float, y: float, line: bool = False) -> list[str]:
    out = []
    for label, color in items:
        if line:
            y_line = _n(y - 4)
            out.append(
                f'<line x1="{_n(x)}" x2="{_n(x + 18)}" y1="{y_line}" y2="{y_line}" stroke="{color}" stroke-width="3"/>'
            )
        else:
            out.append(f'<rect x="{_n(x)}" y="{_n(y - 10)}" width="12" height="12" fill="{color}"/>')
        out.append(f'<text x="{_n(x + 24)}" y="{_n(y)}" class="legend">{escape(label)}</text>')
        x += 40 + 8 * len(label)
    return out


def _currency(data: ReportData) -> str:
    """`` USD``: the one currency of the chart's data, for titles and tooltips ("" without spend)."""
    currency = data.one_currency()
    return f" {currency}" if currency else ""


def stacked_daily_chart(data: ReportData, suffix: str = "") -> str:
    """EffectiveCost per day, one stacked segment per provider (credits stack below zero), of one currency."""
    days, colors, cur = data.days, provider_colors(data.provider_names), _currency(data)
    cost = {(d.day, d.provider): d.effective_cost for d in data.daily}
    ups = [sum(float(v) for (day, _), v in cost.items() if day == d and v > 0) for d in days]
    downs = [sum(float(v) for (day, _), v in cost.items() if day == d and v < 0) for d in days]
    lo, hi, ticks = axis(min(downs, default=0), max(ups, default=0))
    height = 360
    frame = _Frame(height, left=80, top=44, right=20, bottom=36, lo=lo, hi=hi)
    body = _legend([(p, c) for p, c in colors.items()], frame.left, 20)
    body += frame.y_axis(ticks)
    for day, x, width in frame.day_slots(days):
        bar_x, bar_w = x + width * 0.15, width * 0.7
        up = down = 0.0
        for provider in colors:
            value = cost.get((day, provider))
            if value is None or value == 0:
                continue
            base = up if value > 0 else down
            top_value = base + float(value)
            y1, y2 = frame.y(max(base, top_value)), frame.y(min(base, top_value))
            if value > 0:
                up = top_value
            else:
                down = top_value
            body.append(
                f'<rect class="bar" {_attrs(data_day=day, data_provider=provider, data_value=value)} '
                f'x="{_n(bar_x)}" y="{_n(y1)}" width="{_n(bar_w)}" height="{_n(max(y2 - y1, 0.5))}" '
                f'fill="{colors[provider]}"><title>{escape(provider)} {day}: {money(value)}{cur}</title></rect>'
            )
        if len(days) <= 16 and any(d == day for d, _ in cost):  # day totals fit above the bars
            total = sum((v for (d, _), v in cost.items() if d == day), Decimal(0))
            body.append(
                f'<text x="{_n(x + width / 2)}" y="{_n(frame.y(up) - 6)}" text-anchor="middle" class="value" '
                f"{_attrs(data_day=day, data_total=total)}>{money(total)}</text>"
            )
    body += frame.x_labels(days)
    title = f"Daily EffectiveCost{cur} by provider, {data.start} to {data.end}"
    return _svg(f"chart-daily-by-provider{suffix}", title, height, body)


def team_bar_chart(data: ReportData, suffix: str = "") -> str:
    """EffectiveCost per team over the range, largest first; untagged spend in red. The labels are the team
    table's cells (allocated to the cent), so chart and table show the same figures."""
    teams, cur = data.teams, _currency(data)
    labels, _ = allocate_cents([t.effective_cost for t in teams])
    row_h, top, label_w, value_w = 26, 12, 230, 110
    height = top + row_h * max(len(teams), 1) + 12
    values = [float(t.effective_cost) for t in teams]
    lo, hi, _ = axis(min(values, default=0), max(values, default=0))
    plot_left, plot_right = label_w, WIDTH - value_w
    scale = (plot_right - plot_left) / (hi - lo)
    zero_x = plot_left + (0 - lo) * scale
    body = []
    for i, (team, label) in enumerate(zip(teams, labels, strict=True)):
        y = top + i * row_h
        x1, x2 = sorted((zero_x, zero_x + float(team.effective_cost) * scale))
        color = UNTAGGED_COLOR if team.name == UNTAGGED else FOLDED_COLOR if team.count > 1 else TEAM_COLOR
        name = team.name if len(team.name) <= 30 else team.name[:29] + "…"
        body.append(f'<text x="{label_w - 10}" y="{_n(y + 17)}" text-anchor="end" class="label">{escape(name)}</text>')
        body.append(
            f'<rect class="bar" {_attrs(data_team=team.name, data_value=team.effective_cost)} x="{_n(x1)}" '
            f'y="{_n(y + 4)}" width="{_n(max(x2 - x1, 0.5))}" height="{row_h - 8}" fill="{color}">'
            f"<title>{escape(team.name)}: {money(label)}{cur}</title></rect>"
        )
        body.append(f'<text x="{_n(max(x2, zero_x) + 6)}" y="{_n(y + 17)}" class="value">{money(label)}</text>')
    body.append(f'<line x1="{_n(zero_x)}" x2="{_n(zero_x)}" y1="{top}" y2="{height - 12}" stroke="{AXIS}"/>')
    title = f"EffectiveCost{cur} by team, {data.start} to {data.end}"
    return _svg(f"chart-cost-by-team{suffix}", title, height, body)


def untagged_trend_chart(data: ReportData, suffix: str = "") -> str:
    """Untagged share of EffectiveCost per day: all providers (black) and each provider; gaps = no data."""
    colors = provider_colors(data.provider_names)
    series: list[tuple[str, str, float, list[tuple[date, Decimal | None]]]] = [
        (provider, color, 1.5, data.untagged_trend(provider)) for provider, color in colors.items()
    ]
    series.append(("all providers", INK, 3, data.untagged_trend()))
    values = [float(v) for *_, points in series for _, v in points if v is not None]
    lo, hi, ticks = axis(min(values, default=0), max(max(values, default=0), 10.0))
    height = 300
    frame = _Frame(height, left=80, top=44, right=20, bottom=36, lo=lo, hi=hi)
    body = _legend([(name, color) for name, color, *_ in series], frame.left, 20, line=True)
    body += frame.y_axis(ticks, " %")
    slots = {day: x + width / 2 for day, x, width in frame.day_slots(data.days)}
    for name, color, stroke, points in series:
        segment: list[str] = []
        segments = [segment]
        for day, value in points:
            if value is None:
                segment = []
                segments.append(segment)
                continue
            segment.append(f"{_n(slots[day])},{_n(frame.y(float(value)))}")
        for part in segments:
            if len(part) > 1:
                body.append(
                    f'<polyline points="{" ".join(part)}" fill="none" stroke="{color}" stroke-width="{stroke}"/>'
                )
        for day, value in points:
            if value is not None:
                body.append(
                    f'<circle class="point" {_attrs(data_day=day, data_series=name, data_value=value)} '
                    f'cx="{_n(slots[day])}" cy="{_n(frame.y(float(value)))}" r="{stroke + 1.5}" fill="{color}">'
                    f"<title>{escape(name)} {day}: {percent(value)} untagged</title></circle>"
                )
    body += frame.x_labels(data.days)
    title = f"Untagged share of EffectiveCost{_currency(data)} per day, {data.start} to {data.end}"
    return _svg(f"chart-untagged-trend{suffix}", title, height, body)
