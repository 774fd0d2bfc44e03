"""Named sync values written by two processes at once (issue 12's reconcile `last_run`)."""

from __future__ import annotations

import threading

from app.runtime import Runtime
from app.sync import state


def test_two_writers_creating_one_value_do_not_collide(committed_rt: Runtime) -> None:
    # A holds its new row uncommitted while B writes the same, not yet existing, name: a
    # read-then-insert would send B an INSERT that fails on the key once A commits.
    db = committed_rt.db
    errors: list[BaseException] = []
    first = db.sessions()
    first.begin()
    state.set_value(first, "reconcile.last_run", "from-a")
    first.flush()

    def second_writer() -> None:
        try:
            with db.sessions() as session, session.begin():
                state.set_value(session, "reconcile.last_run", "from-b")
        except BaseException as exc:  # noqa: BLE001 (reported by the assertion below)
            errors.append(exc)

    thread = threading.Thread(target=second_writer)
    thread.start()
    thread.join(0.5)  # B is waiting on A's row (PostgreSQL) or on the write lock (SQLite)
    first.commit()
    first.close()
    thread.join(30)
    assert not thread.is_alive()
    assert errors == []
    with db.sessions() as session:
        assert state.get_value(session, "reconcile.last_run") == "from-b"


def test_a_value_read_then_overwritten_in_one_session_reads_the_new_value(
    committed_rt: Runtime,
) -> None:
    with committed_rt.db.sessions() as session, session.begin():
        state.set_value(session, "sync.site", "one")
    with committed_rt.db.sessions() as session, session.begin():
        assert state.get_value(session, "sync.site") == "one"
        state.set_value(session, "sync.site", "two")
        assert state.get_value(session, "sync.site") == "two"
        state.set_json(session, "sync.site", {"k": 1})
        assert state.get_json(session, "sync.site") == {"k": 1}
