"""Small hand-counted fixtures for the report tests (rows written directly, times chosen)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.models import Action, Incident
from app.runtime import Runtime

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def t(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


# key, incident, team, priority, type, status, created, completed, due
ACTIONS = [
    ("ACT-1", 1, "web", "P1", "prevent", "done", t(1, 1), t(1, 3), date(2026, 1, 5)),
    ("ACT-2", 1, "web", "P2", "detect", "verified", t(1, 10), t(1, 20), date(2026, 1, 15)),
    ("ACT-3", 1, "db", "P1", "prevent", "done", t(2, 1), t(2, 5, 12), None),
    ("ACT-4", 1, "db", "P1", "mitigate", "open", t(2, 10), None, date(2026, 3, 1)),
    ("ACT-5", 2, "web", "P2", "process", "in_progress", t(2, 15), None, date(2026, 4, 1)),
    ("ACT-6", 2, "db", None, "prevent", "blocked", t(3, 1), None, date(2026, 3, 10)),
    ("ACT-7", 2, "web", "P3", "documentation", "wont_do", t(3, 2), t(3, 3), date(2026, 3, 1)),
    ("ACT-8", 2, "web", "P1", "prevent", "done", t(3, 5), t(3, 6, 18), date(2026, 3, 6)),
]


def load_actions(rt: Runtime) -> None:
    with rt.db.sessions() as session:
        incidents = {
            1: Incident(
                key="INC-1",
                title="Checkout down",
                severity="SEV1",
                services=["checkout", "payments"],
                created_at=t(1, 1),
            ),
            2: Incident(
                key="INC-2",
                title="Search slow",
                severity="SEV2",
                services=["search"],
                created_at=t(2, 15),
            ),
        }
        session.add_all(incidents.values())
        for key, inc, team, prio, kind, status, created, completed, due in ACTIONS:
            session.add(
                Action(
                    key=key,
                    incident=incidents[inc],
                    title=key,
                    type=kind,
                    team=team,
                    priority=prio,
                    status=status,
                    created_at=created,
                    completed_at=completed,
                    verified_at=completed if status == "verified" else None,
                    due_date=due,
                )
            )
        session.commit()


def m(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


# key, services, started, detected, acknowledged, mitigated, resolved, published, actions
INCIDENTS = [
    (
        "INC-1",
        ["checkout"],
        m(1, 10, 10),
        m(1, 10, 10, 10),
        m(1, 10, 10, 15),
        m(1, 10, 11),
        m(1, 10, 12),
        m(1, 12, 12),
        ["done", "verified", "wont_do"],
    ),
    (
        "INC-2",
        ["checkout"],
        m(1, 20, 0),
        m(1, 20, 0, 30),
        m(1, 20, 0, 40),
        m(1, 20, 2),
        m(1, 20, 4),
        None,
        [],
    ),
    ("INC-3", ["search"], m(2, 5, 8), m(2, 5, 8, 2), None, None, m(2, 5, 9), m(2, 6, 9), ["open"]),
    ("INC-4", ["search"], None, m(2, 20, 1), None, None, None, None, []),
]


def load_incidents(rt: Runtime) -> None:
    from app.models import Postmortem

    with rt.db.sessions() as session:
        for key, services, st, det, ack, mit, res, pub, statuses in INCIDENTS:
            inc = Incident(
                key=key,
                title=key,
                severity="SEV2",
                services=services,
                started_at=st,
                detected_at=det,
                acknowledged_at=ack,
                mitigated_at=mit,
                resolved_at=res,
                created_at=st or m(2, 20, 0),
            )
            session.add(inc)
            status = "published" if pub else "draft"
            session.add(Postmortem(incident=inc, status=status, published_at=pub))
            for i, s in enumerate(statuses):
                session.add(
                    Action(key=f"{key}-A{i}", incident=inc, title="a", type="prevent", status=s)
                )
        session.commit()
