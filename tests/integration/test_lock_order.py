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
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from app import audit
from app.factory import create_app
from app.models import Incident
from app.runtime import Runtime
from app.services.evaluation import lock_incident, request_evaluation
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
