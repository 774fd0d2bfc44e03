"""The Jira-comment channel: an escalation lands as a comment on the action's mirrored
issue (REST v3 with ADF on Cloud, v2 plain text on Data Center), through the Tracker port."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.models import Notification
from app.services import escalations, notifications

from .conftest import SyncEnv, complete_incident, wait_for


def test_an_escalation_is_a_comment_on_the_mirrored_issue(env: SyncEnv) -> None:
    _, (action,) = complete_incident(env.api, actions=1)
    env.settle()
    wait_for(lambda: bool(env.api.get(f"/api/v1/actions/{action}").json["tracker_key"]), 30, "push")
    issue_key = env.api.get(f"/api/v1/actions/{action}").json["tracker_key"]
    due = datetime(2030, 1, 1, 12, tzinfo=UTC)
    report = escalations.sweep(env.rt, now=due + timedelta(days=8))
    assert report.escalations == 1
    env.settle()
    wait_for(lambda: bool(env.srv.issue(issue_key).comments), 30, "the comment to reach Jira")
    (comment,) = env.srv.issue(issue_key).comments
    assert action in comment.body and "Escalation level 2" in comment.body
    assert "What is needed:" in comment.body
    with env.rt.db.sessions() as session:
        row = session.scalars(select(Notification).where(Notification.action_key == action)).one()
    assert (row.channel, row.status) == ("jira_comment", "sent")
    notifications.deliver(env.rt)
    assert len(env.srv.issue(issue_key).comments) == 1


def test_a_jira_only_team_gets_only_the_comment(env: SyncEnv) -> None:
    rt = env.rt
    rt.settings = rt.settings.model_copy(
        update={"smtp_url": "smtp://127.0.0.1:2525", "notify_webhook_url": "http://127.0.0.1:9/h"}
    )
    only_jira = notifications.route(
        rt, team="infrastructure", people=["Lars Eriksson"], action_key="ACT-1"
    )
    assert only_jira == [("jira_comment", "ACT-1")]
    every = notifications.route(rt, team="sre", people=["Noor Haddad"], action_key="ACT-1")
    assert [c for c, _ in every] == ["webhook", "email", "jira_comment"]
