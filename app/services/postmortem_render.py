"""The postmortem as Markdown (wikis, Jira, `hindsight lint`) and HTML (people).

Both carry everything the rules read: cause ids and kinds, what each action
addresses, its status, success criteria and validation, the evidence, the
incident's times and when the review was held. So `hindsight lint` on the
Markdown judges what the service judged (tests/integration/test_lint_export.py).

Text people typed is made inert and kept whole: in Markdown raw HTML is
escaped (`&lt;script&gt;`: a wiki that renders the export must not run it),
a line that would start a heading, list, quote, table or fence gets a
backslash, and continuation lines are indented so a multi-line value stays
in its item; lint reverses exactly this. HTML is autoescaped. An empty
section says "None recorded." in both formats.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

NONE = "None recorded."
_BLOCK_START = re.compile(r"^(\s*)(?:(\d+)(?=[.)])|([#+*=_`~|-]))")


_CELL_BREAK = "\x1e"  # a line break inside a table cell, until `_markdown_text` writes <br>


def _markdown_text(value: Any) -> Any:
    """Text people typed, made inert in Markdown: a wiki that renders the export must not
    run `<script>` or `<img onerror>` from a timeline entry. Entities read the same. The
    one tag written is `<br>`, the line break of a table cell (GFM), from `md_cell`."""
    if isinstance(value, str):
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return value.replace(_CELL_BREAK, "<br>")
    return value


def _escape_line(line: str) -> str:
    m = _BLOCK_START.match(line)
    if not m:
        return line
    if m.group(2):  # "1. text" would start an ordered list: escape the dot
        end = m.end(2)
        return line[:end] + "\\" + line[end:]
    return line[: m.start(3)] + "\\" + line[m.start(3) :]


def md_item(value: Any, indent: int = 2) -> str:
    """A value inside a list item or paragraph: block markers escaped, continuation indented."""
    lines = str(value).replace("\\", "\\\\").split("\n")  # a typed backslash stays one
    pad = " " * indent
    return "\n".join(
        (_escape_line(ln) if n == 0 else (pad + _escape_line(ln) if ln.strip() else ""))
        for n, ln in enumerate(lines)
    )


def md_cell(value: Any) -> str:
    """A value inside a table cell: pipes escaped, each line break a `<br>` (lint reads it
    back as one), so a multi-line timeline entry is the same text in every format."""
    text = str(value).replace(_CELL_BREAK, "").replace("\\", "\\\\").replace("|", "\\|")
    return _CELL_BREAK.join(text.split("\n"))


def money(amount: float | None, currency: str | None) -> str:
    if amount is None:
        return NONE
    return f"{amount:,.2f} {currency or '(currency not recorded)'}"


def stamp(value: Any) -> str:
    """ISO 8601 in UTC, the form lint and import read back; microseconds only when there
    are any, so lint reads back the very instant the rules compared."""
    if value is None:
        return NONE
    fraction = f".{value.microsecond:06d}" if value.microsecond else ""
    return str(value.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z")


def label(value: Any) -> str:
    return str(getattr(value, "value", value)).replace("_", " ")


@cache
def templates(fmt: str) -> Environment:
    """HTML is autoescaped; Markdown gets its raw HTML neutralised by `_markdown_text`."""
    env = Environment(
        loader=PackageLoader("app", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        finalize=_markdown_text if fmt == "md" else None,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(md_item=md_item, md_cell=md_cell, stamp=stamp, label=label)
    env.globals.update(money=money, NONE=NONE)
    return env


def render_document(doc: Any, fmt: str) -> str:
    return templates(fmt).get_template(f"postmortem.{fmt}.j2").render(doc=doc)
