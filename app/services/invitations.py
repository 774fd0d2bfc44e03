"""The review invitation (.ics, RFC 5545 through `icalendar`) and the announcement text.

Both are drawn from the incident: what happened (title, severity, services), how long
each phase took, the first lines of the timeline, and an agenda for a blameless review.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from typing import Any, TypeVar

from icalendar import Calendar, Event, vCalAddress, vText

from app.models import Incident, PostmortemReview

_TIMELINE_LINES = 15
_PHASES = (
    ("detect", "to detect"),
    ("acknowledge", "to acknowledge"),
    ("mitigate", "to mitigate"),
    ("resolve", "to resolve"),
)
AGENDA = (
    "What happened: walk the timeline (15 min)",
    "Detection and response: what helped, what slowed us (the timings above)",
    "Contributing factors: systems and conditions, not people",
    "Improvement actions: owner, due date, success criteria",
    "What went well, and where we got lucky",
)
T = TypeVar("T")


def timing_lines(timings: dict[str, Any]) -> list[str]:
    out = []
    for key, label in _PHASES:
        minutes = timings.get(key)
        out.append(f"{label}: {'not recorded' if minutes is None else f'{minutes} min'}")
    return out


def timeline_lines(incident: Incident) -> list[str]:
    events = sorted(incident.timeline, key=lambda t: t.at)
    lines = [
        f"{t.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC {t.kind}: {' '.join(t.text.split())[:200]}"
        for t in events[:_TIMELINE_LINES]
    ]
    if len(events) > _TIMELINE_LINES:
        lines.append(f"... and {len(events) - _TIMELINE_LINES} more in the postmortem")
    return lines


def agenda_text(incident: Incident, review: PostmortemReview, link: str) -> str:
    services = ", ".join(incident.services) or "no catalogued service"
    parts = [
        f"Postmortem review for {incident.key}: {incident.title}",
        f"Severity {incident.severity}; services: {services}",
        f"Facilitator: {review.facilitator or 'not assigned yet'}",
        "",
        "Timings: " + "; ".join(timing_lines(review.timings)),
        "",
        "Timeline:",
        *[f"- {line}" for line in timeline_lines(incident)],
        "",
        "Agenda:",
        *[f"{n}. {item}" for n, item in enumerate(AGENDA, 1)],
        "",
        f"Postmortem draft: {link}",
    ]
    return "\n".join(parts)


def _address(email: str, name: str, role: str | None = None) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["cn"] = vText(name)
    if role:
        address.params["role"] = vText(role)
        address.params["partstat"] = vText("NEEDS-ACTION")
        address.params["rsvp"] = vText("TRUE")
    return address


def build(incident: Incident, review: PostmortemReview, *, now: datetime, link: str) -> str:
    """A METHOD:REQUEST calendar with one event: the review, in UTC, organised by the
    facilitator when the catalog knows their e-mail, inviting every participant who has one."""
    cal = Calendar()
    cal.add("prodid", "-//Hindsight//Postmortem review//EN")
    cal.add("version", "2.0")
    cal.add("method", "REQUEST")
    event = Event()
    event.add("uid", review.invitation_uid)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", review.starts_at.astimezone(UTC))
    event.add("dtend", review.ends_at.astimezone(UTC))
    event.add("summary", f"Postmortem review: {incident.key} {incident.title}"[:250])
    event.add("description", agenda_text(incident, review, link))
    event.add("url", link)
    event.add("sequence", 0)
    event.add("status", "CONFIRMED")
    event.add("categories", ["postmortem", str(incident.severity)])
    facilitator = next((p for p in review.participants if p["why"] == "facilitator"), None)
    if facilitator and facilitator.get("email"):
        event.add("organizer", _address(facilitator["email"], facilitator["name"]))
    for person in review.participants:
        if person.get("email"):
            event.add(
                "attendee",
                _address(person["email"], person["name"], "REQ-PARTICIPANT"),
                encode=False,
            )
    cal.add_component(event)
    return str(cal.to_ical().decode())


def announcement(
    incident: Incident,
    review: PostmortemReview,
    *,
    team: str | None,
    link: str,
    make: Callable[..., T],
) -> T:
    """Subject, plain text and HTML for the announcement, with the .ics attached."""
    subject = f"Postmortem open: {incident.key} {incident.title}"[:200]
    when = f"{review.starts_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    people = [f"{p['name']} ({p['why']})" for p in review.participants]
    text = "\n".join(
        [
            f"{incident.key} is {incident.status}; its postmortem draft is open.",
            f"Review: {when}, due {review.due.isoformat()}, facilitator "
            f"{review.facilitator or 'not assigned yet'}.",
            "Invited: " + ("; ".join(people) or "nobody in the catalog"),
            "",
            agenda_text(incident, review, link),
        ]
    )
    html = (
        f"<p><strong>{escape(incident.key or '')}</strong> {escape(incident.title)} is "
        f"{escape(incident.status)}; its postmortem draft is open.</p>"
        f"<p>Review {escape(when)} (due {review.due.isoformat()}), facilitator "
        f"{escape(review.facilitator or 'not assigned yet')}.</p>"
        "<ul>" + "".join(f"<li>{escape(p)}</li>" for p in people) + "</ul>"
        "<ol>" + "".join(f"<li>{escape(a)}</li>" for a in AGENDA) + "</ol>"
        f'<p><a href="{escape(link)}">The postmortem draft</a></p>'
    )
    return make(
        subject=subject,
        text=text,
        html=html,
        team=team,
        people=tuple(p["name"] for p in review.participants),
        emails=tuple(p["email"] for p in review.participants if p.get("email")),
        incident_key=incident.key or "",
        link=link,
        dedupe_key=f"postmortem-opened:{review.invitation_uid}",
        attachments=(("postmortem-review.ics", "text/calendar", review.invitation.encode()),),
    )
