"""The related-incident history an evaluation reads: only incidents that can count.

Scoring counts an earlier incident when it shares a service and one of the
categories of this incident's causes; the history query reads exactly those
(and each one's full set of categories), so its cost follows the incidents that
matter, not the size of the scoring window.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from app.models import Cause, Incident
from app.rules.snapshot import related
from app.runtime import Runtime

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=90)


def _incident(
    session: Session, key: str, services: list[str], categories: list[str], days_ago: int
) -> Incident:
    incident = Incident(
        key=key,
        title=f"{key} checkout errors",
        severity="SEV2",
        services=services,
        started_at=NOW - timedelta(days=days_ago),
    )
    session.add(incident)
    for category in categories:
        session.add(
            Cause(incident=incident, kind="root_cause", category=category, statement="a change")
        )
    session.flush()
    return incident


def test_history_is_the_incidents_sharing_a_service_and_a_cause_category(rt: Runtime) -> None:
    with rt.db.sessions() as session:
        me = _incident(session, "INC-1", ["checkout", "search"], ["change"], 1)
        _incident(session, "INC-2", ["checkout"], ["change", "capacity"], 5)
        _incident(session, "INC-3", ["checkout"], ["capacity"], 5)  # no shared category
        _incident(session, "INC-4", ["billing"], ["change"], 5)  # no shared service
        _incident(session, "INC-5", ["checkout"], [], 5)  # no causes at all
        _incident(session, "INC-6", ["search"], ["change"], 400)  # before the window
        _incident(session, "INC-7", ["search", "billing"], ["change"], 10)
        got = related(session, me, since=SINCE)
        assert [(r.key, set(r.services), set(r.categories)) for r in got] == [
            ("INC-2", {"checkout"}, {"change", "capacity"}),
            ("INC-7", {"search", "billing"}, {"change"}),
        ]
        session.rollback()


def test_an_incident_without_causes_or_services_has_no_history(rt: Runtime) -> None:
    with rt.db.sessions() as session:
        _incident(session, "INC-1", ["checkout"], ["change"], 3)
        causeless = _incident(session, "INC-2", ["checkout"], [], 1)
        serviceless = _incident(session, "INC-3", [], ["change"], 1)
        assert related(session, causeless, since=SINCE) == ()
        assert related(session, serviceless, since=SINCE) == ()
        session.rollback()
