"""Report charts as SVG or PNG bytes: report values in, a drawing out (matplotlib, Agg).

People would rather look at a trend than read a table of months, so the three
reports each offer charts: the learning report's monthly `trends`, completion
`by_team` and `by_service`, recurrence `by_category` and `by_service`.

- Drawn with matplotlib's object API on the Agg canvas (no pyplot, no display,
  no global figure state), so concurrent requests do not share a figure.
- SVG output is deterministic: no date or creator metadata, a fixed hash salt
  for element ids, text kept as text (`svg.fonttype: none`), so the same report
  draws the same bytes and tests can compare them.
- A chart with no data draws a readable "No data" panel, never an error.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from app.schemas.recurrence import RecurrenceReport
from app.schemas.reports import CompletionReport, LearningReport

if TYPE_CHECKING:
    from matplotlib.axes import Axes

ChartFormat = Literal["svg", "png"]
MIMETYPES: dict[str, str] = {"svg": "image/svg+xml", "png": "image/png"}
CHARTS: dict[str, tuple[str, ...]] = {
    "completion": ("by_team", "by_service"),
    "learning": ("trends",),
    "recurrence": ("by_category", "by_service"),
}
COMPLETION_STATES = ("open", "in_progress", "blocked", "done", "verified", "wont_do")
TREND_METRICS = ("mttd", "mtta", "mttm", "mttr", "postmortem")
_STYLE: dict[Any, Any] = {
    "svg.hashsalt": "hindsight",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 9,
}


@dataclass(frozen=True)
class Chart:
    """What to draw: one category or month per label, one value per label per series."""

    title: str
    kind: Literal["bar", "stacked", "line"]
    labels: Sequence[str]
    series: Mapping[str, Sequence[float | None]] = field(default_factory=dict)
    y_label: str = ""

    @property
    def empty(self) -> bool:
        return not self.labels or all(
            v is None or v == 0 for values in self.series.values() for v in values
        )


def completion_chart(report: CompletionReport, chart: str) -> Chart:
    """Actions per team (or service) stacked by their current status."""
    dimension = chart.removeprefix("by_")
    groups = report.by.get(dimension, [])
    labels = ["(none)" if g.key is None else g.key for g in groups]
    series = {s: [float(getattr(g, s)) for g in groups] for s in COMPLETION_STATES}
    return Chart(f"Actions by {dimension} and status", "stacked", labels, series, "actions")


def learning_chart(report: LearningReport, chart: str = "trends") -> Chart:
    """Median minutes of each learning metric, month by month."""
    months = [p for p in report.months if p.month]
    labels = [p.month or "" for p in months]
    series = {
        m: [p.metrics[m].median_minutes if m in p.metrics else None for p in months]
        for m in TREND_METRICS
    }
    return Chart("Learning metrics by month (median)", "line", labels, series, "minutes")


def recurrence_chart(report: RecurrenceReport, chart: str) -> Chart:
    """Incidents and the repeats among them, per cause category (or service)."""
    rates = report.rates.by_category if chart == "by_category" else report.rates.by_service
    dimension = "category" if chart == "by_category" else "service"
    labels = [r.key for r in rates]
    series = {
        "incidents": [float(r.incidents) for r in rates],
        "repeats": [float(r.repeats) for r in rates],
    }
    return Chart(f"Repeats by {dimension}", "bar", labels, series, "incidents")


def render(chart: Chart, fmt: ChartFormat) -> bytes:
    """The chart as SVG or PNG bytes."""
    # matplotlib is imported here, not at module load: it is heavy and only charts need it.
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(7.5, 3.6), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        if chart.empty:
            _no_data(ax, chart.title)
        else:
            _draw(ax, chart)
            fig.tight_layout()
        out = io.BytesIO()
        if fmt == "svg":
            fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
        else:
            fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def _no_data(ax: Axes, title: str) -> None:
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.5, "No data for this report yet", ha="center", va="center", fontsize=14)


def _draw(ax: Axes, chart: Chart) -> None:
    a = ax
    positions = list(range(len(chart.labels)))
    names = list(chart.series)
    if chart.kind == "line":
        for name in names:
            values = [float("nan") if v is None else v for v in chart.series[name]]
            a.plot(positions, values, marker="o", label=name)
    elif chart.kind == "stacked":
        bottom = [0.0] * len(positions)
        for name in names:
            values = [v or 0.0 for v in chart.series[name]]
            a.bar(positions, values, bottom=bottom, label=name)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    else:
        width = 0.8 / max(len(names), 1)
        for i, name in enumerate(names):
            values = [v or 0.0 for v in chart.series[name]]
            shifted = [p + (i - (len(names) - 1) / 2) * width for p in positions]
            a.bar(shifted, values, width=width, label=name)
    a.set_title(chart.title)
    a.set_ylabel(chart.y_label)
    a.set_xticks(positions, list(chart.labels), rotation=30, ha="right")
    a.legend(fontsize=8)
