"""The report as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched.

A Content-Security-Policy forbids every network load and script, so the page renders the same offline,
from a mail attachment or an artifact store. Every text from the warehouse (team names come from tags)
is escaped. The page holds no clock reading of its own: "generated at" is whatever the caller passes.
"""

from __future__ import annotations

from html import escape

from cloudcost.report.charts import WIDTH, stacked_daily_chart, team_bar_chart, untagged_trend_chart
from cloudcost.report.model import ReportData
from cloudcost.report.sections import Section, Table, basis_line, build_sections

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
STYLE = f"""
* {{ box-sizing: border-box; }}
body {{ font-family: "DejaVu Sans", sans-serif; font-size: 13px; line-height: 1.4; color: #222; background: #fff;
       margin: 24px 40px; width: {WIDTH + 40}px; }}
h1 {{ font-size: 22px; margin: 0 0 4px; }}
h2 {{ font-size: 16px; margin: 28px 0 8px; border-bottom: 1px solid #ccc; padding-bottom: 4px; }}
p {{ margin: 4px 0; }}
.meta, .note, footer {{ color: #555; }}
.kpis {{ display: flex; gap: 12px; margin: 16px 0; }}
.kpi {{ border: 1px solid #ddd; border-radius: 4px; padding: 8px 12px; min-width: 200px; }}
.kpi .label {{ display: block; color: #555; font-size: 12px; }}
.kpi .value {{ display: block; font-size: 20px; font-weight: bold; }}
figure {{ margin: 16px 0 8px; }}
figcaption {{ font-weight: bold; margin-bottom: 4px; }}
svg text {{ font-family: "DejaVu Sans", sans-serif; fill: #222; }}
svg .tick {{ font-size: 11px; fill: #555; }}
svg .legend, svg .label {{ font-size: 12px; }}
svg .value {{ font-size: 11px; }}
table {{ border-collapse: collapse; margin: 6px 0; }}
th, td {{ padding: 3px 10px; border-bottom: 1px solid #eee; text-align: left; white-space: nowrap; }}
th {{ background: #f3f3f3; border-bottom: 1px solid #ccc; }}
td.num, th.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
tr.total td {{ font-weight: bold; border-top: 2px solid #999; }}
tr.critical td {{ background: #fde2e2; }}
tr.warning td {{ background: #fff3cd; }}
footer {{ margin-top: 32px; font-size: 12px; }}
"""


def _table(table: Table) -> list[str]:
    def cells(values: list[str], tag: str) -> str:
        return "".join(
            f"<{tag}{' class=num' if i in table.numeric else ''}>{escape(v)}</{tag}>" for i, v in enumerate(values)
        )

    out = ["<table>", f"<thead><tr>{cells(table.headers, 'th')}</tr></thead>", "<tbody>"]
    for i, row in enumerate(table.rows):
        css = table.row_classes[i] if i < len(table.row_classes) else ""
        out.append(f'<tr class="{escape(css)}">{cells(row, "td")}</tr>' if css else f"<tr>{cells(row, 'td')}</tr>")
    if table.total:
        out.append(f'<tr class="total">{cells(table.total, "td")}</tr>')
    return [*out, "</tbody>", "</table>"]


def _section(section: Section) -> list[str]:
    out = [f'<section id="{section.key}">', f"<h2>{escape(section.title)}</h2>"]
    out += [f'<p class="note">{escape(line)}</p>' for line in section.lines]
    if section.table is not None:
        out += _table(section.table)
    return [*out, "</section>"]


def _kpis(summary: Section) -> list[str]:
    """The totals as tiles at the top of the page: one row of tiles per currency, the currency beside each amount
    (a share names it in its label); tiles without a currency end the last row."""
    out = ['<section id="summary">']
    rows: list[list[list[str]]] = []
    last = None
    for label, currency, value in summary.table.rows if summary.table else []:
        if currency and currency != last:
            rows.append([])
            last = currency
        if not rows:
            rows.append([])
        if not currency:
            rows[-1].append([label, value])
        elif value.endswith("%"):
            rows[-1].append([f"{label}, {currency}", value])
        else:
            rows[-1].append([label, f"{value} {currency}"])
    for tiles in rows:
        out.append('<div class="kpis">')
        for label, value in tiles:
            spans = f'<span class="label">{escape(label)}</span><span class="value">{escape(value)}</span>'
            out.append(f'<div class="kpi">{spans}</div>')
        out.append("</div>")
    out += [f'<p class="note">{escape(line)}</p>' for line in summary.lines]
    return [*out, "</section>"]


def _figure(caption: str, svg: str) -> list[str]:
    return ["<figure>", f"<figcaption>{escape(caption)}</figcaption>", svg, "</figure>"]


def _charts(data: ReportData) -> list[str]:
    """The three charts once per currency (ids suffixed with it where there are several)."""
    currencies = data.currencies
    out = []
    each: list[str | None] = [*currencies] or [None]  # one pass without a currency when there is no data
    for currency in each:
        view = data if currency is None else data.in_currency(currency)
        suffix = f"-{currency.lower()}" if currency and len(currencies) > 1 else ""
        cur = f", {currency}" if currency else ""
        out += _figure(f"Daily EffectiveCost by provider (stacked){cur}", stacked_daily_chart(view, suffix))
        out += _figure(f"EffectiveCost by team{cur}", team_bar_chart(view, suffix))
        out += _figure(f"Untagged share of EffectiveCost per day{cur}", untagged_trend_chart(view, suffix))
    return out


def render_html(data: ReportData) -> str:
    """The page: heading, total tiles, the three charts, then every section's table."""
    summary, *sections = build_sections(data)
    title = f"Cost report: {data.org_name}, {data.start} to {data.end}"
    days = len(data.days)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        f"<title>{escape(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">org {escape(data.org)} · {escape(data.dataset)} · {days} day{"s" if days != 1 else ""}, '
        f"{len(data.days_with_data)} with data</p>",
        f'<p class="meta">{escape(basis_line())}</p>',
        "</header>",
        *_kpis(summary),
        '<section id="charts">',
        *_charts(data),
        "</section>",
    ]
    for section in sections:
        out += _section(section)
    generated = f"generated at {data.generated_at:%Y-%m-%d %H:%M} UTC " if data.generated_at else ""
    out += [f"<footer>{escape(generated)}by cloudcost report from {escape(data.dataset)} rollups</footer>"]
    out += ["</body>", "</html>", ""]
    return "\n".join(out)
