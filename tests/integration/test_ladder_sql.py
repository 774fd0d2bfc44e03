"""The ladder worked out in SQL is `plan`'s: on random actions, policies and clocks, on
SQLite and PostgreSQL, every action's due step (key, level, rung, why, repeat, time) and its
next look come out as `app.rules.follow_through.plan` says."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import Flask
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from app.models import Action, Incident
from app.rules.follow_through import FollowThroughPolicy, Subject, plan
from app.services.ladder_sql import _NONE, NOW, Shape, from_micros, ladder_cte, micros
from tests.conftest import runtime

BASE = datetime(2027, 3, 1, tzinfo=UTC)
RUNGS = ("owner", "team_lead", "director", "director")
# after_days strictly increasing from 0, as the deadlines policy insists; 0 then 1 makes two
# rungs fall at one time (both overdue a day after the due date), which plan settles too.
LADDERS = st.lists(st.integers(1, 12), min_size=0, max_size=3).map(
    lambda gaps: tuple((RUNGS[i], sum(gaps[:i])) for i in range(len(gaps) + 1))
)
WHEN = st.integers(-40 * 86_400, 60 * 86_400).map(lambda s: BASE + timedelta(seconds=s))
ACTIONS = st.lists(
    st.tuples(
        st.none() | st.integers(-30, 40).map(lambda d: BASE.date() + timedelta(days=d)),
        st.tuples(WHEN, st.integers(0, 999_999)).map(lambda p: p[0].replace(microsecond=p[1])),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ladder=LADDERS,
    stale_after=st.integers(1, 20),
    remind=st.integers(0, 5),
    every=st.sampled_from([1.0, 2.5, 7.0, 0.3]),
    actions=ACTIONS,
    now=st.tuples(WHEN, st.integers(0, 999_999)).map(lambda p: p[0].replace(microsecond=p[1])),
)
@example(  # SQLite's date functions round .9995 s up to the next second: read without it
    ladder=(("owner", 0),),
    stale_after=1,
    remind=0,
    every=7.0,
    actions=[(None, datetime(2027, 3, 1, 0, 0, 0, 999_500, tzinfo=UTC))],
    now=datetime(2027, 3, 2, 0, 0, 1, tzinfo=UTC),
)
def test_the_sql_ladder_agrees_with_plan(
    app: Flask,
    ladder: tuple[tuple[str, int], ...],
    stale_after: int,
    remind: int,
    every: float,
    actions: list[tuple[date | None, datetime]],
    now: datetime,
) -> None:
    rt = runtime(app)
    policy = FollowThroughPolicy(remind_before_days=remind, repeat_every_days=every)
    shape = Shape(ladder, stale_after, policy)  # type: ignore[arg-type]
    with rt.db.sessions() as session:
        incident = session.execute(
            insert(Incident).returning(Incident.id),
            {"key": "INC-LADDER", "title": "t", "severity": "SEV3", "status": "resolved"},
        ).scalar_one()
        ids = (
            session.execute(
                insert(Action).returning(Action.id),
                [
                    {
                        "key": f"ACT-L{n}",
                        "incident_id": incident,
                        "title": "t",
                        "type": "detect",
                        "status": "open",
                        "due_date": due,
                        "last_activity_at": idle,
                    }
                    for n, (due, idle) in enumerate(actions)
                ],
            )
            .scalars()
            .all()
        )
        query = ladder_cte(shape, session.get_bind().dialect.name, [Action.id.in_(ids)])
        rows = {r.id: r for r in session.execute(select(query), {NOW.key: micros(now)})}
        session.rollback()
    for action_id, (due, idle) in zip(ids, actions, strict=True):
        expected = plan(Subject(due, idle), ladder, stale_after, policy, now)  # type: ignore[arg-type]
        row = rows[action_id]
        step = expected.due
        got_step = (
            None
            if row.step is None
            else (row.step, row.level, row.rung, row.why, row.repeat, from_micros(row.step_at))
        )
        want_step = (
            None
            if step is None
            else (step.key, step.level, step.rung, step.why, step.repeat, step.at)
        )
        assert got_step == want_step, (due, idle, now)
        got_next = None if row.next_at == _NONE else from_micros(row.next_at)
        assert got_next == expected.next_at, (due, idle, now)
