"""The learning digest on the recurrence fixture's hand-made history, both databases."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, update

from app.cli import main
from app.models import Action, Incident, Notification, Postmortem
from app.runtime import Runtime
from app.services.digest import build_digest, render_digest, send_digest
from tests.integration.test_recurrence import load, t


def history(rt: Runtime) -> None:
    """INC-13 repeats INC-11 (ACT-a was done first: ineffective); INC-13's postmortem is
    published on 3 February; ACT-c is open and was due on 20 January."""
    load(rt)
    with rt.db.sessions() as session:
        inc = session.scalar(select(Incident).where(Incident.key == "INC-13"))
        assert inc is not None
        inc.title = "<b>Disk full</b> again"
        session.add(Postmortem(incident=inc, status="published", published_at=t(2, 3)))
        session.execute(
            update(Action).where(Action.key == "ACT-c").values(due_date=date(2026, 1, 20))
        )
        session.commit()


def test_the_digest_names_what_was_published_what_recurs_and_what_failed(rt: Runtime) -> None:
    history(rt)
    digest = build_digest(rt, since=t(2, 1), until=t(3, 1), now=t(3, 1))
    assert [x.key for x in digest.published] == ["INC-13"]
    assert [(x.key, x.text) for x in digest.recurring] == [
        ("capacity", "1 repeat(s) in 4 incident(s)")  # INC-11, 12, 13, 14
    ]
    assert [(x.key, x.text) for x in digest.ineffective] == [
        ("ACT-a", "done for INC-11, and INC-13 repeated it")
    ]
    assert [x.key for x in digest.overdue] == ["ACT-c"] and digest.overdue_total == 1
    md = render_digest(digest, "md")
    assert md.startswith("# Learning digest 2026-02-01 to 2026-03-01")
    assert "- **ACT-a**: done for INC-11, and INC-13 repeated it" in md
    page = render_digest(digest, "html")
    assert "&lt;b&gt;Disk full&lt;/b&gt;" in page and "<b>Disk full" not in page


def test_a_quiet_period_reads_none_recorded_and_keeps_the_overdue(rt: Runtime) -> None:
    history(rt)
    digest = build_digest(rt, since=t(3, 1), until=t(3, 8), now=t(3, 8))
    assert not digest.published and not digest.ineffective
    md = render_digest(digest, "md")
    assert md.count("None recorded.") == 2  # published and ineffective; recurring and overdue stay
    assert "ACT-c" in md


def test_sending_twice_in_a_week_queues_one_message_per_team(rt: Runtime) -> None:
    history(rt)
    rt.settings = rt.settings.model_copy(update={"notify_webhook_url": "http://127.0.0.1:9/hook"})
    rt.queue.pause()  # the delivery itself is the notification tests' business
    try:
        summary = send_digest(rt, t(2, 6))  # the 7 days before: INC-13 began and was published
        assert summary.startswith("1 published, 1 ineffective, 1 overdue")
        send_digest(rt, t(2, 7))  # the same ISO week: nothing new
        with rt.db.sessions() as session:
            rows = session.scalar(
                select(func.count()).where(Notification.kind == "learning.digest")
            )
    finally:
        rt.queue.resume()
    # one per team routed to a webhook (a Jira-comment-only team has no action to comment on)
    assert rows == len([team for team in rt.catalog.teams if "webhook" in team.notify.channels])
    assert 0 < rows < len(rt.catalog.teams)


def test_digest_command(
    committed_rt: Runtime,
    committed_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    history(committed_rt)
    monkeypatch.setenv("HINDSIGHT_DATABASE_URL", committed_database_url)
    monkeypatch.delenv("HINDSIGHT_REDIS_URL", raising=False)
    assert main(["digest", "--since", "2026-02-01", "--until", "2026-03-01"]) == 0
    assert "INC-13" in capsys.readouterr().out
    assert main(["digest", "--since", "2026-03-01", "--until", "2026-02-01"]) == 2
    assert "--since must be before --until" in capsys.readouterr().err
