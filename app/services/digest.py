"""The learning digest: what the organisation learned this period, sent to every team.

Postmortems only change behaviour when people read them, and nobody reads a list of
links. The digest puts the few things a team lead should act on in one message: the
postmortems published in the period, the cause categories that keep coming back, the
actions that were done and did not prevent a repeat (the ones to rethink), and the
actions that are overdue. It is built from the same reports as the API (recurrence,
the actions table), so its figures agree with the dashboards.

`hindsight digest --since` prints it; the scheduler sends it weekly
(`schedule.JOBS`, job `learning-digest`) through the notification outbox, one message
per team routed by the catalog, deduplicated per ISO week so a second run sends nothing.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from app.models import Action, Incident, Postmortem
from app.runtime import Runtime
from app.schemas.recurrence import RecurrenceReport

from . import notifications
from .escalations import OPEN
from .recurrence import recurrence_report

TOP_CATEGORIES = 5
MAX_ROWS = 50  # per section; the counts say how many there are in all


@dataclass(frozen=True)
class Line:
    key: str
    text: str


@dataclass
class Digest:
    since: datetime
    until: datetime
    published: list[Line] = field(default_factory=list)
    recurring: list[Line] = field(default_factory=list)
    ineffective: list[Line] = field(default_factory=list)
    overdue: list[Line] = field(default_factory=list)
    overdue_total: int = 0

    @property
    def title(self) -> str:
        return f"Learning digest {self.since:%Y-%m-%d} to {self.until:%Y-%m-%d}"


def build_digest(runtime: Runtime, *, since: datetime, until: datetime, now: datetime) -> Digest:
    """The digest of [since, until), with overdue actions as of `now`."""
    digest = Digest(since, until)
    with runtime.db.sessions() as session:
        rows = session.execute(
            select(Incident.key, Incident.title, Incident.severity, Postmortem.published_at)
            .join(Postmortem, Postmortem.incident_id == Incident.id)
            .where(Postmortem.published_at >= since, Postmortem.published_at < until)
            .order_by(Postmortem.published_at)
        ).all()
        digest.published = [
            Line(key or "", f"{title} ({severity}), published {at:%Y-%m-%d}")
            for key, title, severity, at in rows
        ]
        in_period: set[str | None] = set(
            session.scalars(
                select(Incident.key).where(
                    Incident.started_at >= since, Incident.started_at < until
                )
            )
        )
        overdue = session.execute(
            select(Action.key, Action.title, Action.owner, Action.due_date, Incident.key)
            .join(Incident, Incident.id == Action.incident_id)
            .where(Action.status.in_(OPEN), Action.due_date < now.date())
            .order_by(Action.due_date, Action.id)
        ).all()
    digest.overdue_total = len(overdue)
    digest.overdue = [
        Line(key or "", f"{title}, owner {owner or 'none'}, due {due}, {incident}")
        for key, title, owner, due, incident in overdue[:MAX_ROWS]
    ]
    _learned(digest, recurrence_report(runtime, now=now), in_period)
    return digest


def _learned(digest: Digest, report: RecurrenceReport, in_period: set[str | None]) -> None:
    """Recurring categories (all time, so a slow repeat still shows) and ineffective actions
    (those whose repeat began in the period: the news of this digest)."""
    by_category = report.rates.by_category
    top = sorted((r for r in by_category if r.repeats), key=lambda r: (-r.repeats, r.key))
    digest.recurring = [
        Line(r.key, f"{r.repeats} repeat(s) in {r.incidents} incident(s)")
        for r in top[:TOP_CATEGORIES]
    ]
    for repeat in report.repeats:
        if repeat.incident not in in_period:
            continue
        for action in repeat.earlier_actions:
            if action.verdict == "ineffective":
                text = f"done for {repeat.repeat_of}, and {repeat.incident} repeated it"
                digest.ineffective.append(Line(action.key, text))
    digest.ineffective = digest.ineffective[:MAX_ROWS]


_SECTIONS = (
    ("published", "Postmortems published"),
    ("recurring", "Cause categories that keep coming back"),
    ("ineffective", "Actions done that did not prevent a repeat"),
    ("overdue", "Overdue actions"),
)


def render_digest(digest: Digest, fmt: str) -> str:
    """Markdown (`md`) or a standalone HTML page; every value escaped in HTML."""
    if fmt == "html":
        e = html.escape
        out = [
            "<!doctype html>",
            f'<html lang="en"><head><meta charset="utf-8"><title>{e(digest.title)}</title>'
            "</head><body>",
            f"<h1>{e(digest.title)}</h1>",
        ]
        for name, heading in _SECTIONS:
            lines: list[Line] = getattr(digest, name)
            out.append(f"<h2>{e(_heading(digest, name, heading))}</h2>")
            items = "".join(f"<li><b>{e(x.key)}</b>: {e(x.text)}</li>" for x in lines)
            out.append(f"<ul>{items}</ul>" if lines else "<p>None recorded.</p>")
        return "\n".join([*out, "</body></html>"]) + "\n"
    md = [f"# {digest.title}", ""]
    for name, heading in _SECTIONS:
        lines = getattr(digest, name)
        md += [f"## {_heading(digest, name, heading)}", ""]
        md += [f"- **{_md(x.key)}**: {_md(x.text)}" for x in lines] or ["None recorded."]
        md.append("")
    return "\n".join(md)


def _heading(digest: Digest, name: str, heading: str) -> str:
    if name == "overdue" and digest.overdue_total > len(digest.overdue):
        return f"{heading} ({digest.overdue_total}, the oldest {len(digest.overdue)} shown)"
    return heading


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("<", "&lt;").replace(">", "&gt;").replace("*", "\\*")


def send_digest(runtime: Runtime, now: datetime, *, days: int = 7) -> str:
    """The scheduled job: the last `days` days' digest to every team in the catalog."""
    digest = build_digest(runtime, since=now - timedelta(days=days), until=now, now=now)
    week = f"{now:%G-W%V}"
    text, page = render_digest(digest, "md"), render_digest(digest, "html")
    teams = runtime.catalog.teams
    with runtime.uow() as uow:
        for team in teams:
            notifications.queue_notification(
                runtime,
                uow,
                kind="learning.digest",
                subject=digest.title,
                text=text,
                html=page,
                team=team.name,
                people=[p for p in (team.lead, team.director) if p],
                link=f"{runtime.settings.link_base}/dashboards",
                dedupe_key=f"digest:{week}:{team.name}",
            )
        uow.commit()
    return (
        f"{len(digest.published)} published, {len(digest.ineffective)} ineffective, "
        f"{digest.overdue_total} overdue; routed to {len(teams)} team(s) by the catalog"
    )
