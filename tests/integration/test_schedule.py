"""The schedule: one run per slot however often it ticks, failures visible (API and CLI),
and a GDPR incident nobody writes to still gets its finding and escalation on time."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from app import create_app
from app.models import Escalation, Finding, Incident, ScheduleRun
from app.runtime import Runtime
from app.services import schedule
from tests.conftest import ApiClient, make_settings, runtime, settle

from .receivers import free_port

HINDSIGHT = str(Path(sys.executable).parent / "hindsight")


def _boom(runtime: Runtime, now: datetime) -> str:
    raise RuntimeError("the digest template is missing")


@pytest.fixture
def failing_job() -> Iterator[str]:
    """A job added the way other modules add theirs: one line in schedule.JOBS."""
    entry = schedule.ScheduledJob("test-digest", _boom, "1h")
    schedule.JOBS.append(entry)
    yield entry.name
    schedule.JOBS.remove(entry)


def test_each_slot_runs_once_however_many_ticks_and_failures_show(
    api: ApiClient, rt: Runtime, app: Flask, failing_job: str
) -> None:
    now = datetime(2027, 5, 3, 10, 7, tzinfo=UTC)
    first = schedule.tick(rt, now)
    assert {"reevaluate", "follow-through", failing_job} <= set(first)
    assert schedule.tick(rt, now + timedelta(minutes=1)) == []  # same 15-minute slot
    settle(app)
    later = schedule.tick(rt, now + timedelta(minutes=15))
    assert set(later) == {"reevaluate", "follow-through"}  # the hourly job waits its hour
    settle(app)
    with rt.db.sessions() as session:
        counts = dict(
            session.execute(select(ScheduleRun.job, func.count()).group_by(ScheduleRun.job)).all()
        )
    assert counts == {
        "reevaluate": 2,
        "follow-through": 2,
        "audit-checkpoint": 1,
        "learning-digest": 1,
        failing_job: 1,
    }
    body = api.get("/api/v1/schedule").json
    jobs = {j["name"]: j for j in body["jobs"]}
    assert jobs["follow-through"]["last_run"]["outcome"] == "ok"
    assert jobs["follow-through"]["every_seconds"] == 900
    assert "examined" in jobs["follow-through"]["last_run"]["summary"]
    assert jobs["audit-checkpoint"]["last_run"]["outcome"] == "ok"  # the anchor outside the db
    assert jobs["learning-digest"]["last_run"]["outcome"] == "ok"
    assert jobs["learning-digest"]["every_seconds"] == 7 * 86400
    assert jobs[failing_job]["last_failure"]["error"].endswith("the digest template is missing")
    assert [f["job"] for f in body["failures"]] == [failing_job]
    assert jobs["jira-reconcile"]["enabled"] is False  # no Jira configured


def test_policy_intervals_and_unknown_names(rt: Runtime) -> None:
    rt.policy = rt.policy.model_copy(update={"schedule": {"reevaluate": 0, "follow-through": 60}})
    assert "reevaluate" not in schedule.tick(rt, datetime(2027, 5, 3, 10, 0, tzinfo=UTC))
    assert schedule.job("follow-through").interval(rt) == 60
    rt.policy = rt.policy.model_copy(update={"schedule": {"follow-thru": 60}})
    with pytest.raises(Exception, match="no scheduled job 'follow-thru'"):
        schedule.check(rt)


def test_a_gdpr_incident_with_no_writes_gets_its_finding_and_escalation_on_schedule(
    api: ApiClient, rt: Runtime, app: Flask
) -> None:
    detected = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    created = api.post(
        "/api/v1/incidents",
        json={
            "title": "Customer export bucket was public",
            "severity": "SEV2",
            "services": ["checkout"],
            "regulatory": ["gdpr"],
            "detected_at": detected.isoformat(),
        },
    )
    assert created.status_code == 201, created.json
    key = created.json["key"]
    settle(app)  # the evaluation after creation: the obligation becomes an action
    deadline = detected + timedelta(hours=72)

    def state_at(hours: float) -> tuple[set[str], list[tuple[str, int, str | None]]]:
        schedule.tick(rt, deadline + timedelta(hours=hours))
        settle(app)
        with rt.db.sessions() as session:
            incident_id = session.scalar(select(Incident.id).where(Incident.key == key))
            rules = set(
                session.scalars(select(Finding.rule).where(Finding.incident_id == incident_id))
            )
            steps = [
                (e.step.partition("@")[0], e.level, e.recipient)
                for e in session.scalars(
                    select(Escalation).where(Escalation.incident_key == key).order_by(Escalation.id)
                )
            ]
        return rules, steps

    rules, steps = state_at(-30)
    assert "compliance.due" in rules and steps == []
    rules, steps = state_at(-23)
    assert steps == [("reminder", 0, "Grace Adeyemi")]
    rules, steps = state_at(0.5)  # 30 minutes past the 72 hours
    assert "compliance.overdue" in rules and "compliance.due" not in rules
    assert steps[-1] == ("G1", 1, "Grace Adeyemi")
    _, steps = state_at(4.5)
    assert steps[-1] == ("G2", 2, "Grace Adeyemi")  # compliance's lead, 4 hours on
    _, steps = state_at(12.5)
    assert steps[-1] == ("G3", 3, "Laura Chen")  # compliance's director
    assert len(steps) == 4
    found = api.get("/api/v1/escalations?team=compliance&level=3").json["items"]
    assert "GDPR" in found[0]["why"] and "hours ago" in found[0]["why"]


def test_hindsight_schedule_lists_jobs_and_exits_1_on_a_failed_run(
    committed_database_url: str, tmp_path: Path
) -> None:
    closed = free_port()  # nothing listens: the reconcile fails to connect
    settings = make_settings(
        committed_database_url,
        jira_url=f"http://127.0.0.1:{closed}",
        jira_project="OPS",
        jira_user="hindsight",
        jira_token="x",
        jira_timeout_seconds=2,
    )
    app = create_app(settings)
    rt = runtime(app)
    try:
        schedule.tick(rt, datetime(2027, 5, 3, 10, 0, tzinfo=UTC))
        settle(app)
    finally:
        rt.close()
    env = {
        "PATH": str(Path(sys.executable).parent),
        "HINDSIGHT_DATABASE_URL": committed_database_url,
        "HINDSIGHT_CONFIG_DIR": str(settings.config_dir),
        "HINDSIGHT_JIRA_URL": f"http://127.0.0.1:{closed}",
        "HINDSIGHT_JIRA_PROJECT": "OPS",
    }
    done = subprocess.run(
        [HINDSIGHT, "schedule"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1, done.stdout + done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.strip()}
    assert "failed" in lines["jira-reconcile"] and "ok" in lines["follow-through"]
    assert "failed runs:" in done.stdout
