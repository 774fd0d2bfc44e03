"""Learning metrics against hand-counted values (report_fixtures.INCIDENTS), in minutes.

MTTD 10, 30, 2 (INC-4 has no start); MTTA 5, 10; MTTM 60, 120; MTTR 120, 240, 60;
resolution to published postmortem 2880 (INC-1) and 1440 (INC-3; INC-2 is a draft).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from app.cli import main
from app.runtime import Runtime
from app.schemas.reports import LearningQuery
from app.services.reports import learning_report
from tests.conftest import ApiClient

from .report_fixtures import NOW, load_incidents, m


def stat(count: int, mean: float | None = None, median: float | None = None) -> dict[str, Any]:
    return {"count": count, "mean_minutes": mean, "median_minutes": median}


def run(rt: Runtime, **query: Any) -> dict[str, Any]:
    return learning_report(rt, LearningQuery(**query), now=NOW).model_dump()


def test_overall_metrics(rt: Runtime) -> None:
    load_incidents(rt)
    r = run(rt)
    assert r["incidents"] == 4
    assert r["metrics"] == {
        "mttd": stat(3, 14.0, 10.0),
        "mtta": stat(2, 7.5, 7.5),
        "mttm": stat(2, 90.0, 90.0),
        "mttr": stat(3, 140.0, 120.0),
        "postmortem": stat(2, 2160.0, 2160.0),
    }
    assert (r["actions_total"], r["actions_completed"], r["actions_wont_do"]) == (4, 2, 1)
    assert r["action_completion_rate"] == 0.6667
    assert r["repeat_rate"] == 0.0  # no causes: nothing can repeat


def test_monthly_trends(rt: Runtime) -> None:
    load_incidents(rt)
    jan, feb = run(rt)["months"]
    assert (jan["month"], jan["incidents"], feb["month"], feb["incidents"]) == (
        "2026-01",
        2,
        "2026-02",
        2,
    )
    assert jan["metrics"] == {
        "mttd": stat(2, 20.0, 20.0),
        "mtta": stat(2, 7.5, 7.5),
        "mttm": stat(2, 90.0, 90.0),
        "mttr": stat(2, 180.0, 180.0),
        "postmortem": stat(1, 2880.0, 2880.0),
    }
    assert feb["metrics"] == {
        "mttd": stat(1, 2.0, 2.0),
        "mtta": stat(0),
        "mttm": stat(0),
        "mttr": stat(1, 60.0, 60.0),
        "postmortem": stat(1, 1440.0, 1440.0),
    }


def test_filters(rt: Runtime) -> None:
    load_incidents(rt)
    search = run(rt, service="search")
    assert search["incidents"] == 2 and search["metrics"]["mttr"] == stat(1, 60.0, 60.0)
    assert (search["actions_total"], search["action_completion_rate"]) == (1, 0.0)
    feb = run(rt, since=m(2, 1, 0))
    assert feb["incidents"] == 2 and [p["month"] for p in feb["months"]] == ["2026-02"]
    none = run(rt, service="nothing")
    assert none["incidents"] == 0 and none["months"] == []
    assert none["metrics"]["mttr"] == stat(0) and none["action_completion_rate"] is None


def test_api_and_cli(
    committed_api: ApiClient,
    committed_rt: Runtime,
    committed_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    load_incidents(committed_rt)
    body = committed_api.get("/api/v1/reports/learning?service=checkout").get_json()
    assert body["incidents"] == 2 and body["metrics"]["mttr"]["mean_minutes"] == 180.0
    res = committed_api.get("/api/v1/reports/learning?format=csv")
    rows = list(csv.DictReader(io.StringIO(res.get_data(as_text=True))))
    mttr = next(r for r in rows if r["period"] == "all" and r["metric"] == "mttr")
    assert (mttr["count"], mttr["mean_minutes"], mttr["median_minutes"]) == ("3", "140.0", "120.0")
    bad = committed_api.get(
        "/api/v1/reports/learning?since=2026-03-01T00:00:00Z&until=2026-03-01T00:00:00Z"
    )
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["loc"] == ["query", "until"]
    monkeypatch.setenv("HINDSIGHT_DATABASE_URL", committed_database_url)
    monkeypatch.delenv("HINDSIGHT_REDIS_URL", raising=False)
    assert main(["report", "learning", "--service", "search"]) == 0
    out = capsys.readouterr().out
    assert "| all | 2 | mttr | 1 | 60.0 | 60.0 |" in out and "completion rate 0.0%" in out
