"""Reports as CSV, Markdown and HTML: rows of (breakdown, key, figures...), from plain dicts.

Markdown and HTML carry the report's charts as SVG data URIs, so one file is the
whole report (a mail, a wiki page, a file on disk) with nothing to fetch.
"""

from __future__ import annotations

import base64
import csv
import html
import io
from collections.abc import Mapping, Sequence
from typing import Any

from .charts import Chart, render


def cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    # A cell a spreadsheet would run as a formula is quoted as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def table_rows(
    totals: Mapping[str, Any], by: Mapping[str, Sequence[Mapping[str, Any]]], columns: list[str]
) -> list[list[str]]:
    rows = [["all", "all", *(cell(totals[c]) for c in columns)]]
    for name, groups in by.items():
        for g in groups:
            key = "(none)" if g["key"] is None else str(g["key"])
            rows.append([name, key, *(cell(g[c]) for c in columns)])
    return rows


def to_csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _md_cell(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")
    return escaped.replace(">", "&gt;").replace("\n", " ")


def _data_uri(chart: Chart) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(render(chart, "svg")).decode()


def to_markdown(
    title: str,
    lines: list[str],
    header: list[str],
    rows: list[list[str]],
    charts: Sequence[Chart] = (),
) -> str:
    out = [f"# {title}", "", *lines, ""]
    out.extend(f"![{_md_cell(c.title)}]({_data_uri(c)})\n" for c in charts)
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "---|" * len(header))
    out.extend("| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows)
    return "\n".join(out) + "\n"


def to_html(
    title: str,
    lines: list[str],
    header: list[str],
    rows: list[list[str]],
    charts: Sequence[Chart] = (),
) -> str:
    """A standalone HTML page: every value escaped, charts as <img> of SVG data URIs."""
    e = html.escape
    out = [
        "<!doctype html>",
        f'<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title></head><body>',
        f"<h1>{e(title)}</h1>",
        *(f"<p>{e(line)}</p>" for line in lines),
        *(f'<figure><img alt="{e(c.title)}" src="{_data_uri(c)}"></figure>' for c in charts),
        "<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr></thead>",
        "<tbody>",
        *("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows),
        "</tbody></table></body></html>",
    ]
    return "\n".join(out) + "\n"


def to_document(
    fmt: str,
    title: str,
    lines: list[str],
    header: list[str],
    rows: list[list[str]],
    charts: Sequence[Chart] = (),
) -> str:
    """Markdown (`md`) or HTML (`html`) of one report with its charts."""
    if fmt == "html":
        return to_html(title, lines, header, rows, charts)
    return to_markdown(title, lines, header, rows, charts)
