"""Report charts: small values draw readable SVG and PNG; no data draws a "no data" panel."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

from app.reports.charts import Chart, learning_chart, recurrence_chart, render
from app.schemas.recurrence import Rate, Rates, RecurrenceReport
from app.schemas.reports import LearningPeriod, LearningReport, Stat

NOW = datetime(2026, 3, 15, tzinfo=UTC)
TEAMS = Chart(
    "Actions by team and status",
    "stacked",
    ["web", "db"],
    {"open": [1.0, 2.0], "done": [3.0, 0.0]},
    "actions",
)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_svg_names_what_it_draws_and_is_deterministic() -> None:
    svg = render(TEAMS, "svg").decode()
    assert svg.startswith("<?xml") and "<svg" in svg
    for text in ("Actions by team and status", "web", "db", "open", "done", "actions"):
        assert text in svg
    assert "<dc:date>" not in svg and render(TEAMS, "svg").decode() == svg


def test_png_is_an_image_of_the_figure_size() -> None:
    assert png_size(render(TEAMS, "png")) == (750, 360)


def test_each_kind_draws() -> None:
    for kind in ("bar", "stacked", "line"):
        chart = Chart("t", kind, ["2026-01", "2026-02"], {"a": [1.0, None], "b": [None, 2.5]})
        assert "2026-02" in render(chart, "svg").decode()


def test_no_data_is_a_readable_chart_not_an_error() -> None:
    for chart in (
        Chart("Repeats by category", "bar", [], {}),
        Chart("Learning metrics", "line", ["2026-01"], {"mttr": [None]}),
    ):
        svg = render(chart, "svg").decode()
        assert "No data for this report yet" in svg and chart.title in svg
        assert png_size(render(chart, "png")) == (750, 360)


def test_learning_trends_take_monthly_medians() -> None:
    month = LearningPeriod(
        month="2026-01",
        incidents=2,
        metrics={"mttr": Stat(count=2, mean_minutes=90, median_minutes=60)},
    )
    report = LearningReport(
        computed_at=NOW,
        filters={},
        incidents=2,
        metrics={},
        actions_total=0,
        actions_completed=0,
        actions_wont_do=0,
        action_completion_rate=None,
        repeat_rate=None,
        months=[month],
    )
    chart = learning_chart(report)
    assert chart.labels == ["2026-01"] and chart.series["mttr"] == [60]
    assert chart.series["mttd"] == [None] and not chart.empty


def test_recurrence_by_category_counts_incidents_and_repeats() -> None:
    rates = Rates(
        by_service=[],
        by_category=[Rate(key="capacity", incidents=3, repeats=1, rate=0.3333)],
        repeats=1,
        after_actions_done=0,
        with_actions_not_done=1,
    )
    report = RecurrenceReport(computed_at=NOW, repeats=[], rates=rates)
    chart = recurrence_chart(report, "by_category")
    assert chart.series == {"incidents": [3.0], "repeats": [1.0]}
    assert recurrence_chart(report, "by_service").empty
