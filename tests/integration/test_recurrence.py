"""Repeats, similar incidents and suggested actions on a small hand-made history, both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.cli import main
from app.models import Action, ActionStatusChange, Cause, Incident
from app.runtime import Runtime
from tests.conftest import ApiClient


def t(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


DISK = "Disk volume full because log rotation stopped"
# key, service, category, cause, started
INCIDENTS = [
    ("INC-10", "search", "monitoring", "Dashboard alerting gap on a probe", t(12, 1, 2025)),
    ("INC-11", "search", "capacity", DISK, t(1, 1)),
    ("INC-12", "checkout", "capacity", DISK, t(1, 15)),
    ("INC-13", "search", "capacity", "The log partition filled the disk volume again", t(2, 1)),
    ("INC-14", "search", "capacity", "Connection pool exhausted by a leak", t(2, 5)),
]
# incident, key, status, completed, history [(at, to)]
ACTIONS: list[tuple[str, str, str, datetime | None, list[tuple[datetime, str]]]] = [
    ("INC-11", "ACT-a", "done", t(1, 5), [(t(1, 5), "done")]),
    ("INC-11", "ACT-b", "done", t(2, 10), [(t(1, 10), "in_progress"), (t(2, 10), "done")]),
    ("INC-11", "ACT-c", "open", None, []),
    ("INC-12", "ACT-d", "done", t(1, 20), [(t(1, 20), "done")]),
]


def load(rt: Runtime) -> None:
    with rt.db.sessions() as session:
        made: dict[str, Incident] = {}
        for key, service, category, cause, started in INCIDENTS:
            inc = Incident(key=key, title="Outage", severity="SEV2", services=[service])
            inc.started_at = inc.created_at = started
            inc.causes.append(Cause(kind="root_cause", category=category, statement=cause))
            made[key] = inc
            session.add(inc)
        for inc_key, key, status, completed, history in ACTIONS:
            action = Action(
                key=key,
                incident=made[inc_key],
                title=f"Fix {key}",
                type="prevent",
                status=status,
                completed_at=completed,
                created_at=t(1, 2),
            )
            for at, to in history:
                action.history.append(ActionStatusChange(to_status=to, actor="t", at=at))
            session.add(action)
        session.commit()


def test_recurrence_report(api: ApiClient, rt: Runtime) -> None:
    load(rt)
    body: dict[str, Any] = api.get("/api/v1/reports/recurrence").json
    assert set(body) == {"computed_at", "repeats", "rates"}
    [repeat] = body["repeats"]
    assert (repeat["incident"], repeat["repeat_of"]) == ("INC-13", "INC-11")
    assert repeat["score"] > 0.43 and "same service: search" in repeat["reasons"]
    assert repeat["earlier_actions"] == [
        {"key": "ACT-a", "status_at_repeat": "done", "verdict": "ineffective"},
        {"key": "ACT-b", "status_at_repeat": "in_progress", "verdict": "too_late"},
        {"key": "ACT-c", "status_at_repeat": "open", "verdict": "open"},
    ]
    rates = body["rates"]
    assert {r["key"]: (r["incidents"], r["repeats"], r["rate"]) for r in rates["by_service"]} == {
        "search": (4, 1, 0.25),
        "checkout": (1, 0, 0.0),
    }
    assert {r["key"]: r["rate"] for r in rates["by_category"]} == {
        "capacity": 0.25,
        "monitoring": 0.0,
    }
    assert (rates["repeats"], rates["after_actions_done"], rates["with_actions_not_done"]) == (
        1,
        0,
        1,
    )
    csv = api.get("/api/v1/reports/recurrence?format=csv").get_data(as_text=True)
    assert "INC-13,INC-11," in csv and ",ACT-a,done,ineffective" in csv


def test_similar_and_suggested_actions(api: ApiClient, rt: Runtime) -> None:
    load(rt)
    similar = api.get("/api/v1/incidents/INC-11/similar").json["similar"]
    keys = [s["incident"] for s in similar]
    assert keys[0] == "INC-12" and "INC-13" in keys and "INC-10" not in keys
    assert all(set(s) == {"incident", "score", "reasons"} for s in similar)
    assert api.get("/api/v1/incidents/INC-99/similar").status_code == 404
    body = api.get("/api/v1/incidents/INC-13/suggested-actions").json
    verdicts = {s["action"]: s["verdict"] for s in body["suggestions"]}
    assert verdicts == {
        "ACT-a": "did_not_work",
        "ACT-b": "worked",
        "ACT-c": "unproven",
        "ACT-d": "worked",
    }
    order = [s["verdict"] for s in body["suggestions"]]
    assert order == sorted(order, key=["worked", "unproven", "did_not_work"].index)


def test_cli(
    committed_rt: Runtime,
    committed_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    load(committed_rt)
    monkeypatch.setenv("HINDSIGHT_DATABASE_URL", committed_database_url)
    monkeypatch.delenv("HINDSIGHT_REDIS_URL", raising=False)
    learning = api_learning(committed_rt)
    assert learning == (0.2, 0.25)  # INC-13 of all five; of the four search incidents
    assert main(["report", "recurrence"]) == 0
    out = capsys.readouterr().out
    assert "1 incidents repeat an earlier one" in out and "| INC-13 | INC-11 |" in out


def api_learning(rt: Runtime) -> tuple[float | None, float | None]:
    from app.schemas.reports import LearningQuery
    from app.services.reports import learning_report

    now = t(3, 1)
    every = learning_report(rt, LearningQuery(), now=now).repeat_rate
    search = learning_report(rt, LearningQuery(service="search"), now=now).repeat_rate
    return every, search


@pytest.mark.parametrize("path", ["similar", "suggested-actions"])
def test_similar_and_suggestions_read_a_key_as_every_route_does(
    api: ApiClient, rt: Runtime, path: str
) -> None:
    """Lower case names the incident; NUL or an over-long key is a 404, never a 500."""
    load(rt)
    assert api.get(f"/api/v1/incidents/inc-13/{path}").status_code == 200
    assert api.get(f"/api/v1/incidents/INC-%00/{path}").status_code == 404
    assert api.get(f"/api/v1/incidents/INC-{'9' * 80}/{path}").status_code == 404


def test_earlier_actions_read_in_chunks(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunked reads (large reports stay under PostgreSQL's bound-parameter limit) lose nothing."""
    from app.reports import recurrence

    load(rt)
    keys = ["INC-11", "INC-12", "INC-13", "INC-99"]
    with rt.db.sessions() as session:
        whole = recurrence.actions_of(session, keys)
        monkeypatch.setattr(recurrence, "CHUNK", 1)
        chunked = recurrence.actions_of(session, keys)
    assert chunked == whole
    assert [a.key for a in whole["INC-11"]] == ["ACT-a", "ACT-b", "ACT-c"]
    assert whole["INC-11"][1].history == ((t(1, 10), "in_progress"), (t(2, 10), "done"))


def test_a_chain_names_each_repeat_once_against_its_latest_match(
    api: ApiClient, rt: Runtime
) -> None:
    """INC-11, INC-13, INC-16: one mechanism in search. INC-16 repeats INC-13 (the latest
    earlier match), not also INC-11, so its earlier actions are INC-13's."""
    load(rt)
    with rt.db.sessions() as session:
        thirteen = session.query(Incident).filter_by(key="INC-13").one()
        done = Action(
            key="ACT-e",
            incident=thirteen,
            title="Alert on the log partition",
            type="detect",
            status="done",
            completed_at=t(2, 20),
            created_at=t(2, 2),
        )
        done.history.append(ActionStatusChange(to_status="done", actor="t", at=t(2, 20)))
        later = Incident(key="INC-16", title="Outage", severity="SEV2", services=["search"])
        later.started_at = later.created_at = t(3, 1)
        later.causes.append(Cause(kind="root_cause", category="capacity", statement=DISK))
        session.add_all([done, later])
        session.commit()
    body: dict[str, Any] = api.get("/api/v1/reports/recurrence").json
    repeats = {r["incident"]: r for r in body["repeats"]}
    assert len(body["repeats"]) == 2  # INC-16 once, not also against INC-11
    assert {k: r["repeat_of"] for k, r in repeats.items()} == {
        "INC-13": "INC-11",
        "INC-16": "INC-13",
    }
    assert repeats["INC-16"]["earlier_actions"] == [
        {"key": "ACT-e", "status_at_repeat": "done", "verdict": "ineffective"}
    ]
    assert [a["key"] for a in repeats["INC-13"]["earlier_actions"]] == ["ACT-a", "ACT-b", "ACT-c"]
    rates = body["rates"]
    by_service = {r["key"]: (r["incidents"], r["repeats"]) for r in rates["by_service"]}
    assert by_service["search"] == (5, 2)
    assert (rates["repeats"], rates["after_actions_done"], rates["with_actions_not_done"]) == (
        2,
        1,
        1,
    )


def test_verdicts_judged_in_sql_are_those_judged_in_python(rt: Runtime) -> None:
    """PostgreSQL judges the earlier actions itself: the same status and verdict as `judge`,
    at every kind of moment (before an action existed, on a change's own instant, between
    changes, after completion), in the order the repeats were given."""
    from app.reports import recurrence
    from app.reports.sql import dialect_of
    from app.schemas.earlier_actions import EarlierActions

    load(rt)
    moments = [t(1, 1), t(1, 2), t(1, 5), t(1, 7), t(1, 10), t(2, 10), t(3, 1)]
    earlier = [(key, at) for at in moments for key in ("INC-12", "INC-11", "INC-13")]
    with rt.db.sessions() as session:
        if dialect_of(session) != "postgresql":
            pytest.skip("SQLite keeps the Python path")
        actions = recurrence.actions_of(session, [k for k, _ in earlier])
        expected = [
            (n, j.key, j.status_at_repeat, j.verdict)
            for n, (key, at) in enumerate(earlier)
            for j in (recurrence.judge(a, at) for a in actions.get(key, []))
        ]
        found = [
            (n, a.key, a.status_at_repeat, a.verdict)
            for n, count, packed in recurrence.judged_in_sql(session, earlier)
            for a in EarlierActions.packed(count, packed) or []
        ]
    assert found == expected
    assert {v for *_, v in found} == {"ineffective", "too_late", "open"}
    assert {s for _, _, s, _ in found} >= {"not_created", "open", "in_progress", "done"}


def test_learning_reuses_the_recurrence_match_until_the_data_moves(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One match serves both reports; a new repeat (written after) is matched again."""
    from app.schemas.reports import LearningQuery
    from app.services import repeats
    from app.services.recurrence import recurrence_report
    from app.services.reports import learning_report

    calls: list[int] = []
    match = repeats.latest_repeats

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return match(*args, **kwargs)

    monkeypatch.setattr(repeats, "latest_repeats", counted)
    load(rt)
    now = t(3, 1)
    assert [r.incident for r in recurrence_report(rt, now=now).repeats] == ["INC-13"]
    assert learning_report(rt, LearningQuery(), now=now).repeat_rate == 0.2
    assert len(calls) == 1
    with rt.db.sessions() as session:
        inc = Incident(key="INC-15", title="Outage", severity="SEV2", services=["search"])
        inc.started_at = inc.created_at = t(2, 20)
        inc.causes.append(Cause(kind="root_cause", category="capacity", statement=DISK))
        session.add(inc)
        session.commit()
    assert learning_report(rt, LearningQuery(), now=now).repeat_rate == round(2 / 6, 4)
    assert len(calls) == 2
    found = {(r.incident, r.repeat_of) for r in recurrence_report(rt, now=now).repeats}
    assert found == {("INC-13", "INC-11"), ("INC-15", "INC-13")} and len(calls) == 2
    # an edit outside a unit of work that moves no count, id or incident: the texts' length
    with rt.db.sessions() as session:
        cause = session.query(Cause).join(Incident).filter(Incident.key == "INC-15").one()
        cause.statement = "The TLS certificate of the edge proxy had expired"
        session.commit()
    found = {(r.incident, r.repeat_of) for r in recurrence_report(rt, now=now).repeats}
    assert found == {("INC-13", "INC-11")} and len(calls) == 3


def test_an_action_key_holding_a_separator_is_reported_whole(api: ApiClient, rt: Runtime) -> None:
    """The packed form of earlier actions cannot hold US or RS: such a key is read apart."""
    load(rt)
    with rt.db.sessions() as session:
        action = session.query(Action).filter(Action.key == "ACT-c").one()
        action.key = "ACT\x1fc\x1e"
        session.commit()
    [repeat] = api.get("/api/v1/reports/recurrence").json["repeats"]
    assert [a["key"] for a in repeat["earlier_actions"]] == ["ACT-a", "ACT-b", "ACT\x1fc\x1e"]
    assert repeat["earlier_actions"][2] == {
        "key": "ACT\x1fc\x1e",
        "status_at_repeat": "open",
        "verdict": "open",
    }
