"""The report as plain text: aligned tables for a terminal or a log, no colours or box characters."""

from __future__ import annotations

from cloudcost.report.model import ReportData
from cloudcost.report.sections import Section, Table, basis_line, build_sections, heading


def format_table(table: Table, indent: str = "  ") -> list[str]:
    """Columns padded to their widest cell; numbers right-aligned; a rule above the TOTAL row."""
    body = [table.headers, *table.rows, *([table.total] if table.total else [])]
    widths = [max(len(row[i]) for row in body) for i in range(len(table.headers))]

    def line(cells: list[str]) -> str:
        padded = [
            cell.rjust(width) if i in table.numeric else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return (indent + "  ".join(padded)).rstrip()

    rule = indent + "  ".join("-" * w for w in widths)
    lines = [line(table.headers), rule, *(line(row) for row in table.rows)]
    if table.total:
        lines += [rule, line(table.total)]
    return lines


def format_section(section: Section) -> list[str]:
    lines = [section.title, *(f"  {text}" for text in section.lines)]
    if section.table is not None:
        lines += format_table(section.table)
    return lines


def render_text(data: ReportData) -> str:
    """The whole report as text, sections separated by a blank line."""
    blocks = [[heading(data), basis_line()], *(format_section(s) for s in build_sections(data))]
    return "\n\n".join("\n".join(block) for block in blocks) + "\n"
