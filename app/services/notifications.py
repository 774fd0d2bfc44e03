"""Notifications: routed from the catalog, stored as outbox rows, delivered by a job.

`notify` is called inside the caller's unit of work (an escalation step, a
postmortem opening, a calendar invitation): it writes one row per channel and
recipient, in that transaction, so the message exists exactly when the change
that caused it does, and a channel that is down can neither block nor lose
it. After commit the drain job (`notify-drain`) sends what is due; a failure
backs off exponentially on the row, and a row that keeps failing (or that a
channel refuses for good) lands in the dead letter shown at
GET /api/v1/notifications?status=dead and `hindsight notifications --dead`.
The periodic sweep re-dispatches the drain while rows are due, so a lost job
or a restart only delays a message.

Routing: a team's `notify.channels` in config/catalog.yaml (all channels when
left out): `webhook` (the team's webhook_url, else HINDSIGHT_NOTIFY_WEBHOOK_URL),
`email` (the catalog e-mail of each person named; explicit `emails` are always
mailed), `jira_comment` (on the action's mirrored issue). A channel with
nothing configured gets no rows.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, func, select, update
from sqlalchemy.orm import Session

from app.catalog import CHANNELS
from app.db import JobRequest, UnitOfWork, conflict_insert
from app.domain.errors import Conflict, NotFound
from app.models import Notification
from app.notify.email import SmtpChannel
from app.notify.message import Attachment, Channel, DeliveryError, Message
from app.notify.webhook import WebhookChannel
from app.runtime import Runtime, current
from app.sync.state import rowcount

from .notify_jira import JiraComments

log = logging.getLogger(__name__)
PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"
_NOTIFICATIONS: Table = Notification.__table__  # type: ignore[assignment]
SEND_LEASE = timedelta(minutes=5)  # a row left `sending` by a killed worker is retried after


def notify_job() -> None:
    """The job: deliver every due notification (queue `notify`)."""
    deliver(current())


NOTIFY_JOB = JobRequest(notify_job, (), "notify-drain", "notify")


def notify(
    uow: UnitOfWork,
    *,
    kind: str,
    subject: str,
    text: str,
    html: str | None = None,
    team: str | None = None,
    people: Sequence[str] = (),
    emails: Sequence[str] = (),
    incident_key: str | None = None,
    action_key: str | None = None,
    link: str | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
    dedupe_key: str,
) -> None:
    """Queue one message to every channel and recipient the catalog routes it to.

    Idempotent on `dedupe_key`: the same key (with the same routing) writes nothing
    new, so a job that runs twice or a webhook delivered twice sends one message.
    """
    queue_notification(
        current(),
        uow,
        kind=kind,
        subject=subject,
        text=text,
        html=html,
        team=team,
        people=people,
        emails=emails,
        incident_key=incident_key,
        action_key=action_key,
        link=link,
        attachments=attachments,
        dedupe_key=dedupe_key,
    )


@dataclass(frozen=True)
class Outgoing:
    """One message to queue: `queue_many` writes a batch of them in one statement."""

    kind: str
    subject: str
    text: str
    dedupe_key: str
    html: str | None = None
    team: str | None = None
    people: Sequence[str] = ()
    emails: Sequence[str] = ()
    incident_key: str | None = None
    action_key: str | None = None
    link: str | None = None
    attachments: Sequence[tuple[str, str, bytes]] = ()


def queue_notification(runtime: Runtime, uow: UnitOfWork, **message: Any) -> None:
    """`notify` with the runtime given (services that have one pass it)."""
    queue_many(runtime, uow, [Outgoing(**message)])


def queue_many(runtime: Runtime, uow: UnitOfWork, messages: Sequence[Outgoing]) -> None:
    """Queue every message to every channel and recipient it routes to, in one INSERT.

    Idempotent on each message's `dedupe_key`: a row whose key (dedupe key, channel,
    recipient) exists already, or is written by a concurrent call, is skipped by
    `ON CONFLICT DO NOTHING` on the unique key, so no savepoint per row is needed.
    """
    rows: dict[str, dict[str, Any]] = {}
    for m in messages:
        routes = route(
            runtime, team=m.team, people=m.people, emails=m.emails, action_key=m.action_key
        )
        if not routes:
            log.info("notification %s: no channel is configured for it", m.dedupe_key)
        stored = [
            {"filename": name, "mime_type": mime, "content": base64.b64encode(data).decode()}
            for name, mime, data in m.attachments
        ]
        for channel, recipient in routes:
            rows.setdefault(
                _row_key(m.dedupe_key, channel, recipient),
                {
                    "dedupe_key": m.dedupe_key[:240],
                    "kind": m.kind,
                    "channel": channel,
                    "recipient": recipient,
                    "subject": m.subject[:300],
                    "text": m.text,
                    "html": m.html,
                    "link": m.link,
                    "team": m.team,
                    "incident_key": m.incident_key,
                    "action_key": m.action_key,
                    "attachments": stored,
                },
            )
    if not rows:
        return
    insert = conflict_insert(uow.session.get_bind().dialect.name)
    statement = insert(_NOTIFICATIONS).on_conflict_do_nothing(index_elements=["key"])
    uow.session.execute(statement, [{"key": key, **row} for key, row in rows.items()])
    uow.after_commit(NOTIFY_JOB)


def _row_key(dedupe_key: str, channel: str, recipient: str) -> str:
    return hashlib.sha256(f"{dedupe_key}|{channel}|{recipient}".encode()).hexdigest()


def route(
    runtime: Runtime,
    *,
    team: str | None,
    people: Sequence[str] = (),
    emails: Sequence[str] = (),
    action_key: str | None = None,
) -> list[tuple[str, str]]:
    """(channel, recipient) pairs for a message, from the team's routing in the catalog."""
    settings, catalog = runtime.settings, runtime.catalog
    known = catalog.team(team)
    channels = known.notify.channels if known else list(CHANNELS)
    out: list[tuple[str, str]] = []
    if "webhook" in channels and (
        (known and known.notify.webhook_url) or settings.notify_webhook_url
    ):
        out.append(("webhook", f"team:{known.name}" if known else "default"))
    if settings.smtp_url:
        addresses: list[str] = []
        if "email" in channels:
            for name in people:
                person = catalog.person(name)
                if person and person.email:
                    addresses.append(person.email)
        addresses += [e.strip() for e in emails if e.strip()]
        out += [("email", a) for a in dict.fromkeys(a.lower() for a in addresses)]
    if "jira_comment" in channels and action_key and settings.jira_enabled:
        out.append(("jira_comment", action_key))
    return out


# -- delivery ---------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(Notification.status.in_((PENDING, SENDING)), Notification.next_attempt_at <= now)


def count_due(session: Session, now: datetime) -> int:
    """For the sweep: rows waiting (or stranded mid-send) whose time has come."""
    return session.scalar(select(func.count()).select_from(Notification).where(_due(now))) or 0


def deliver(runtime: Runtime, *, limit: int = 500) -> DeliveryReport:
    """Send what is due, each row claimed by one conditional UPDATE (one sender per row)."""
    report = DeliveryReport()
    senders = Senders(runtime)
    try:
        with runtime.db.sessions() as session:
            ids = list(
                session.scalars(
                    select(Notification.id)
                    .where(_due(datetime.now(UTC)))
                    .order_by(Notification.next_attempt_at, Notification.id)
                    .limit(limit)
                )
            )
        for row_id in ids:
            row = _claim(runtime, row_id)
            if row is not None:
                _send_one(runtime, senders, row, report)
    finally:
        senders.close()
    if report.sent or report.dead or report.retried:
        log.info("notifications: %s", report)
    return report


def _claim(runtime: Runtime, row_id: int) -> Notification | None:
    now = datetime.now(UTC)
    with runtime.db.sessions() as session, session.begin():
        taken = rowcount(
            session.execute(
                update(Notification)
                .where(Notification.id == row_id, _due(now))
                .values(status=SENDING, next_attempt_at=now + SEND_LEASE)
            )
        )
        return session.get(Notification, row_id) if taken else None


def _send_one(
    runtime: Runtime, senders: Senders, row: Notification, report: DeliveryReport
) -> None:
    settings = runtime.settings
    values: dict[str, object]
    try:
        receipt = senders.send(row)
        values = {"status": SENT, "sent_at": datetime.now(UTC), "last_error": receipt}
        report.sent += 1
    except DeliveryError as exc:
        attempts = row.attempts + 1
        dead = not exc.transient or attempts >= settings.notify_max_attempts
        delay = min(
            settings.notify_backoff_cap_seconds,
            settings.notify_backoff_base_seconds * 2 ** (attempts - 1),
        ) * random.uniform(0.8, 1.2)
        values = {
            "status": DEAD if dead else PENDING,
            "attempts": attempts,
            "last_error": str(exc)[:2000],
            "next_attempt_at": datetime.now(UTC) + timedelta(seconds=delay),
        }
        report.errors.append(f"{row.channel} {row.recipient}: {exc}")
        if dead:
            report.dead += 1
        else:
            report.retried += 1
    with runtime.db.sessions() as session, session.begin():
        session.execute(update(Notification).where(Notification.id == row.id).values(**values))


class Senders:
    """The channels for one drain, built on first use (the Jira context costs a round trip)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._jira: JiraComments | None = None

    def _message(self, row: Notification) -> Message:
        attachments = tuple(
            Attachment(a["filename"], a["mime_type"], base64.b64decode(a["content"]))
            for a in row.attachments or []
        )
        team = self.runtime.catalog.team(row.team)
        return Message(
            row.subject,
            row.text,
            row.html,
            row.link,
            attachments,
            team.slack_channel if team else None,
        )

    def _webhook_url(self, recipient: str) -> str:
        team = self.runtime.catalog.team(recipient.removeprefix("team:"))
        url = (
            team.notify.webhook_url if team else None
        ) or self.runtime.settings.notify_webhook_url
        if not url:
            raise DeliveryError("no webhook URL is configured any more", transient=False)
        return url

    def send(self, row: Notification) -> str:
        settings = self.runtime.settings
        message = self._message(row)
        channel: Channel
        if row.channel == "webhook":
            channel = WebhookChannel(settings.outbound_timeout_seconds)
            return channel.send(self._webhook_url(row.recipient), message)
        if row.channel == "email":
            if not settings.smtp_url:
                raise DeliveryError("HINDSIGHT_SMTP_URL is not set any more", transient=False)
            channel = SmtpChannel(
                settings.smtp_url, settings.notify_from, settings.outbound_timeout_seconds
            )
            return channel.send(row.recipient, message)
        if row.channel == "jira_comment":
            if self._jira is None:
                self._jira = JiraComments(self.runtime)
            return self._jira.send(row.recipient, message)
        raise DeliveryError(f"unknown channel {row.channel!r}", transient=False)

    def close(self) -> None:
        if self._jira is not None:
            self._jira.close()


# -- reading and retrying ----------------------------------------------------------------------


def list_notifications(
    runtime: Runtime, *, status: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[Notification], int]:
    with runtime.db.sessions() as session:
        query = select(Notification)
        if status:
            query = query.where(Notification.status == status)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(
            query.order_by(Notification.id.desc()).limit(limit).offset(offset)
        ).all()
        return list(rows), total


def retry(runtime: Runtime, notification_id: int) -> Notification:
    """Send a dead-lettered notification again (after fixing the address or the channel)."""
    with runtime.uow() as uow:
        row = uow.session.get(Notification, notification_id)
        if row is None:
            raise NotFound(f"no notification {notification_id}")
        if row.status != DEAD:
            raise Conflict(f"notification {notification_id} is {row.status}, not dead")
        row.status, row.attempts, row.next_attempt_at = PENDING, 0, datetime.now(UTC)
        uow.after_commit(NOTIFY_JOB)
        uow.commit()
        return row


def by_dedupe_keys(session: Session, keys: Sequence[str]) -> dict[str, list[Notification]]:
    """The outbox rows of each dedupe key: the channel results of an escalation step."""
    out: dict[str, list[Notification]] = {}
    if not keys:
        return out
    for row in session.scalars(
        select(Notification)
        .where(Notification.dedupe_key.in_(list(keys)))
        .order_by(Notification.id)
    ):
        out.setdefault(row.dedupe_key, []).append(row)
    return out
