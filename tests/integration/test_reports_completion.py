"""The completion report: every figure against values counted by hand (report_fixtures.py).

Durations of done/verified actions, in days: ACT-1 2, ACT-2 10, ACT-3 4.5, ACT-8 1.75.
Percentiles interpolate as percentile_cont: for [1.75, 2, 4.5, 10] the median sits at
position 1.5 (2 + 0.5 * 2.5 = 3.25) and p90 at 2.7 (4.5 + 0.7 * 5.5 = 8.35).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from app.cli import main
from app.runtime import Runtime
from app.schemas.reports import CompletionQuery
from app.services.reports import completion_report
from tests.conftest import ApiClient

from .report_fixtures import NOW, load_actions

ZERO = dict(open=0, in_progress=0, blocked=0, done=0, verified=0, wont_do=0, overdue=0)


def fig(
    total: int, rate: float | None, median: float | None, p90: float | None, **counts: int
) -> dict[str, Any]:
    out: dict[str, Any] = {**ZERO, "total": total, "on_time_rate": rate}
    out.update(median_days_to_complete=median, p90_days_to_complete=p90, **counts)
    return out


def check(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    got = {k: actual[k] for k in expected}
    assert got == expected


def by_key(groups: list[dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    return {g["key"]: g for g in groups}


def run(rt: Runtime, **query: Any) -> dict[str, Any]:
    return completion_report(rt, CompletionQuery(**query), now=NOW).model_dump()


def test_totals(rt: Runtime) -> None:
    load_actions(rt)
    report = run(rt)
    check(
        report["totals"],
        fig(
            8,
            0.6667,
            3.25,
            8.35,
            open=1,
            in_progress=1,
            blocked=1,
            done=3,
            verified=1,
            wont_do=1,
            overdue=2,
            on_time=2,
            completed_with_due=3,
        ),
    )
    assert set(report["by"]) == {"team", "service", "severity", "priority", "type", "month"}


def test_by_team_and_service(rt: Runtime) -> None:
    load_actions(rt)
    by = run(rt)["by"]
    team, service = by_key(by["team"]), by_key(by["service"])
    check(team["web"], fig(5, 0.6667, 2.0, 8.4, in_progress=1, done=2, verified=1, wont_do=1))
    check(team["db"], fig(3, None, 4.5, 4.5, open=1, blocked=1, done=1, overdue=2))
    checkout = fig(4, 0.5, 4.5, 8.9, open=1, done=2, verified=1, overdue=1)
    check(service["checkout"], checkout)
    check(service["payments"], checkout)  # an action counts under each incident service
    check(
        service["search"],
        fig(4, 1.0, 1.75, 1.75, in_progress=1, blocked=1, wont_do=1, done=1, overdue=1),
    )
    assert set(service) == {"checkout", "payments", "search"}


def test_by_severity_priority_type_month(rt: Runtime) -> None:
    load_actions(rt)
    by = run(rt)["by"]
    severity, priority = by_key(by["severity"]), by_key(by["priority"])
    check(severity["SEV1"], fig(4, 0.5, 4.5, 8.9, open=1, done=2, verified=1, overdue=1))
    check(
        severity["SEV2"],
        fig(4, 1.0, 1.75, 1.75, in_progress=1, blocked=1, wont_do=1, done=1, overdue=1),
    )
    check(priority["P1"], fig(4, 1.0, 2.0, 4.0, open=1, done=3, overdue=1))
    check(priority["P2"], fig(2, 0.0, 10.0, 10.0, in_progress=1, verified=1))
    check(priority["P3"], fig(1, None, None, None, wont_do=1))
    check(priority[None], fig(1, None, None, None, blocked=1, overdue=1))
    kinds = by_key(by["type"])
    check(kinds["prevent"], fig(4, 1.0, 2.0, 4.0, done=3, blocked=1, overdue=1))
    assert {k: v["total"] for k, v in kinds.items()} == {
        "prevent": 4,
        "detect": 1,
        "mitigate": 1,
        "process": 1,
        "documentation": 1,
    }
    month = by_key(by["month"])
    check(month["2026-01"], fig(2, 0.5, 6.0, 9.2, done=1, verified=1))
    check(month["2026-02"], fig(3, None, 4.5, 4.5, open=1, in_progress=1, done=1, overdue=1))
    check(month["2026-03"], fig(3, 1.0, 1.75, 1.75, blocked=1, wont_do=1, done=1, overdue=1))


def test_filters(rt: Runtime) -> None:
    load_actions(rt)
    assert run(rt, team="web")["totals"]["total"] == 5
    assert by_key(run(rt, team="web")["by"]["service"])["search"]["total"] == 3
    assert run(rt, service="search")["totals"]["total"] == 4
    period = run(
        rt, since=NOW.replace(month=2, day=1, hour=0), until=NOW.replace(month=3, day=1, hour=0)
    )
    check(period["totals"], fig(3, None, 4.5, 4.5, open=1, in_progress=1, done=1, overdue=1))
    empty = run(rt, team="nobody")
    check(empty["totals"], fig(0, None, None, None))
    assert empty["by"]["team"] == []


def test_api_json_csv_md_and_errors(api: ApiClient, rt: Runtime) -> None:
    load_actions(rt)
    body = api.get("/api/v1/reports/completion?service=search").get_json()
    assert body["totals"]["total"] == 4 and body["filters"]["service"] == "search"
    res = api.get("/api/v1/reports/completion?format=csv")
    assert res.status_code == 200 and res.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(res.get_data(as_text=True))))
    assert rows[0]["breakdown"] == "all" and rows[0]["total"] == "8"
    web = next(r for r in rows if r["breakdown"] == "team" and r["key"] == "web")
    assert web["done"] == "2" and web["on_time_rate"] == "0.6667"
    md = api.get("/api/v1/reports/completion?format=md")
    assert md.mimetype == "text/markdown" and "| team | web | 5 |" in md.get_data(as_text=True)
    bad = api.get(
        "/api/v1/reports/completion?since=2026-03-01T00:00:00Z&until=2026-02-01T00:00:00Z"
    )
    assert bad.status_code == 422
    assert bad.get_json()["errors"][0]["loc"] == ["query", "until"]
    assert api.get("/api/v1/reports/completion?since=yesterday").status_code == 422
    assert api.get("/api/v1/reports/completion?format=pdf").status_code == 422
    assert api.as_token(None).get("/api/v1/reports/completion").status_code == 401


def test_cli(
    committed_rt: Runtime,
    committed_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    load_actions(committed_rt)
    monkeypatch.setenv("HINDSIGHT_DATABASE_URL", committed_database_url)
    monkeypatch.delenv("HINDSIGHT_REDIS_URL", raising=False)
    assert main(["report", "completion", "--team", "db", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].startswith("all,all,3,1,0,1,1,0,0,2,")
    assert main(["report", "completion", "--since", "2026-03-01"]) == 0
    assert "| all | all | 3 |" in capsys.readouterr().out
