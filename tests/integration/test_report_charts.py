"""Report charts from the API, and embedded in the Markdown and HTML reports."""

from __future__ import annotations

import base64
import re

import pytest

from app.cli import main
from app.runtime import Runtime
from tests.conftest import ApiClient

from .report_fixtures import load_actions, load_incidents


def test_completion_by_team_as_svg_and_png(api: ApiClient, rt: Runtime) -> None:
    load_actions(rt)
    svg = api.get("/api/v1/reports/completion/chart.svg?chart=by_team")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    text = svg.get_data(as_text=True)
    assert "Actions by team and status" in text and ">web<" in text and ">db<" in text
    assert api.get("/api/v1/reports/completion/chart.svg").get_data() == svg.get_data()
    only = api.get("/api/v1/reports/completion/chart.svg?team=db").get_data(as_text=True)
    assert ">db<" in only and ">web<" not in only
    png = api.get("/api/v1/reports/completion/chart.png?chart=by_service")
    assert png.mimetype == "image/png" and png.get_data()[:4] == b"\x89PNG"


def test_learning_trends_name_each_month(api: ApiClient, rt: Runtime) -> None:
    load_incidents(rt)
    text = api.get("/api/v1/reports/learning/chart.svg?chart=trends").get_data(as_text=True)
    assert "2026-01" in text and "2026-02" in text and "mttr" in text


def test_empty_database_draws_no_data(api: ApiClient) -> None:
    for path in ("recurrence/chart.svg?chart=by_category", "completion/chart.svg"):
        res = api.get(f"/api/v1/reports/{path}")
        assert res.status_code == 200 and "No data for this report yet" in res.get_data(
            as_text=True
        )
    assert api.get("/api/v1/reports/learning/chart.png").status_code == 200


def test_bad_chart_names_the_field(api: ApiClient) -> None:
    res = api.get("/api/v1/reports/completion/chart.svg?chart=pie")
    assert res.status_code == 422 and res.get_json()["errors"][0]["loc"] == ["query", "chart"]
    assert api.get("/api/v1/reports/recurrence/chart.gif").status_code == 404
    assert api.as_token(None).get("/api/v1/reports/learning/chart.svg").status_code == 401


def test_markdown_and_html_embed_the_charts(api: ApiClient, rt: Runtime) -> None:
    load_actions(rt)
    md = api.get("/api/v1/reports/completion?format=md").get_data(as_text=True)
    uris = re.findall(r"!\[([^]]+)\]\(data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)\)", md)
    assert [alt for alt, _ in uris] == [
        "Actions by team and status",
        "Actions by service and status",
    ]
    assert ">checkout<" in base64.b64decode(uris[1][1]).decode()
    html = api.get("/api/v1/reports/completion?format=html")
    assert html.mimetype == "text/html"
    page = html.get_data(as_text=True)
    assert page.count('<img alt="Actions by') == 2 and "<td>web</td>" in page
    for name in ("learning", "recurrence"):
        page = api.get(f"/api/v1/reports/{name}?format=html").get_data(as_text=True)
        assert "<img alt=" in page and "data:image/svg+xml;base64," in page
    spec = api.get("/openapi.json").get_json()["paths"]
    assert "image/png" in str(spec["/api/v1/reports/recurrence/chart.png"])


def test_cli_html_report_embeds_charts(
    committed_rt: Runtime,
    committed_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    load_actions(committed_rt)
    monkeypatch.setenv("HINDSIGHT_DATABASE_URL", committed_database_url)
    monkeypatch.delenv("HINDSIGHT_REDIS_URL", raising=False)
    assert main(["report", "completion", "--format", "html", "--team", "db"]) == 0
    page = capsys.readouterr().out
    assert page.startswith("<!doctype html>") and page.count("data:image/svg+xml;base64,") == 2
    assert "<td>db</td>" in page and "<td>web</td>" not in page
