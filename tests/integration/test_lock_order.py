"""An evaluation holding an incident's lock and a write to that incident never deadlock.

PostgreSQL only: SQLite has one writer at a time, so two transactions never
each hold a lock the other wants. The write (an action's move, say) takes the
audit log's head and then inserts the incident's pending-evaluation row, whose
foreign key takes a KEY SHARE lock on the incident; the evaluation holds the
incident's row and then wants the audit head for its own changes. A FOR UPDATE
lock on the incident conflicts with KEY SHARE and the two wait on each other
until PostgreSQL aborts one (an answer of 500 under load); the evaluation's
FOR NO KEY UPDATE still serialises evaluations and writers of the row, and lets
the foreign key check through.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from app import audit
from app.factory import create_app
from app.models import Action, Incident
from app.rules.model import Change
from app.runtime import Runtime
from app.services.common import load_action
from app.services.evaluation import apply_changes, lock_incident, request_evaluation
from tests.conftest import make_settings, runtime


@pytest.fixture
def pg_rt(postgresql_committed_database: str) -> Iterator[Runtime]:
    application = create_app(make_settings(postgresql_committed_database))
    rt = runtime(application)
    yield rt
    rt.close()


def _audit(session: sa.orm.Session, who: str) -> None:
    audit.record(
        session, actor=who, action="action.update", entity_type="action", entity_key="ACT-1"
    )


def test_a_write_and_an_evaluation_of_one_incident_both_commit(pg_rt: Runtime) -> None:
    rt = pg_rt
    with rt.db.sessions() as session:
        incident = Incident(key="INC-900", title="Checkout errors", severity="SEV2")
        session.add(incident)
        session.commit()
        incident_id = incident.id
    head_taken, errors = threading.Event(), []

    def write() -> None:
        try:
            with rt.uow() as uow:
                _audit(uow.session, "writer")  # the write's audit entry: it holds the head
                head_taken.set()
                request_evaluation(uow, incident_id)  # inserts the pending row (foreign key)
                uow.commit()
        except Exception as exc:
            errors.append(exc)
            head_taken.set()

    with rt.uow() as evaluation:
        assert lock_incident(evaluation.session, incident_id) is not None
        writer = threading.Thread(target=write)
        writer.start()
        assert head_taken.wait(30)
        try:
            _audit(evaluation.session, "rules")  # the evaluation's own change, after the write
            evaluation.commit()
        except Exception as exc:
            errors.append(exc)
        writer.join(60)
    assert not writer.is_alive()
    assert errors == []
    with rt.db.sessions() as session:
        assert audit.verify(session).ok


def _waiting_for_a_lock(rt: Runtime, pid: int) -> bool:
    with rt.db.engine.connect() as conn:
        kind = conn.scalar(
            sa.text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        )
    return kind == "Lock"


def test_a_move_and_an_evaluation_changing_two_actions_both_commit(pg_rt: Runtime) -> None:
    """The move holds its action's row and then wants the audit head; the evaluation audits
    its change to one action (taking the head) and then changes the action the move holds.
    The evaluation takes every action's row first, so it waits before it holds the head."""
    rt = pg_rt
    with rt.db.sessions() as session:
        incident = Incident(key="INC-901", title="Checkout errors", severity="SEV2")
        for key in ("ACT-901", "ACT-902"):
            session.add(Action(key=key, incident=incident, title="Add a canary", type="prevent"))
        session.commit()
        incident_id = incident.id
    evaluation_pid: list[int] = []
    errors: list[Exception] = []

    def evaluate() -> None:
        try:
            with rt.uow() as uow:
                evaluation_pid.append(uow.session.scalar(sa.text("SELECT pg_backend_pid()")))
                locked = lock_incident(uow.session, incident_id)
                assert locked is not None
                changes = [
                    Change("ownership.assign", "action", key, {"owner": "Maya"}, "r")
                    for key in ("ACT-901", "ACT-902")
                ]
                apply_changes(uow, locked, changes, rt.settings)
                uow.commit()
        except Exception as exc:
            errors.append(exc)

    with rt.uow() as move:
        load_action(move.session, "ACT-902", lock=True)
        evaluator = threading.Thread(target=evaluate)
        evaluator.start()
        deadline = time.monotonic() + 30
        while not (evaluation_pid and _waiting_for_a_lock(rt, evaluation_pid[0])):
            assert time.monotonic() < deadline, "the evaluation never waited for the action"
            time.sleep(0.05)
        try:
            _audit(move.session, "mover")  # the move's audit entry
            move.commit()
        except Exception as exc:
            errors.append(exc)
        evaluator.join(60)
    assert not evaluator.is_alive()
    assert errors == []
    with rt.db.sessions() as session:
        owners = session.scalars(sa.select(Action.owner).where(Action.incident_id == incident_id))
        assert list(owners) == ["Maya", "Maya"]
        assert audit.verify(session).ok
