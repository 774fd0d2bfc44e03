"""Charts as server-rendered SVG: no script, nothing to load, prints as drawn."""

from __future__ import annotations

from markupsafe import Markup, escape

BAR = 22
LABEL = 170
WIDTH = 620


def bars(title: str, items: list[tuple[str, float | None]], unit: str = "") -> Markup:
    """A horizontal bar chart; the numbers are written beside the bars (and in a table the
    page shows too), so the chart is never the only way to read them."""
    top = max((v or 0.0 for _, v in items), default=0.0) or 1.0
    height = BAR * len(items) + 10
    rows = []
    for i, (label, value) in enumerate(items):
        y = i * BAR + 5
        width = int((WIDTH - LABEL - 80) * (value or 0.0) / top)
        text = "no data" if value is None else f"{value:g}{unit}"
        rows.append(
            f'<text x="{LABEL - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{LABEL}" y="{y + 3}" width="{width}" height="{BAR - 6}" fill="#0b5cad">'
            f"<title>{escape(label)}: {escape(text)}</title></rect>"
            f'<text x="{LABEL + width + 6}" y="{y + 15}">{escape(text)}</text>'
        )
    return Markup(
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}"><title>{escape(title)}</title>'
        + "".join(rows)
        + "</svg>"
    )
