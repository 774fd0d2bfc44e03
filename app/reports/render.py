"""Reports as CSV and Markdown: rows of (breakdown, key, figures...), from plain dicts."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any


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


def to_markdown(title: str, lines: list[str], header: list[str], rows: list[list[str]]) -> str:
    out = [f"# {title}", "", *lines, ""]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "---|" * len(header))
    out.extend("| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows)
    return "\n".join(out) + "\n"
