"""The words of a reminder or an escalation: which action, why, what is needed, where.

Kept apart from the sweep so the wording can change without touching the
ladder, and so every channel (chat, e-mail, Jira comment) says the same thing.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime

from app.rules.follow_through import Step

_NEEDED = {
    "due_soon": "Finish it by the due date, or agree a new date and record why it moved.",
    "overdue": "Finish it, or agree a new date with the owner and record why it moved; "
    "mark it done once it is.",
    "stale": "Post progress, mark it blocked with the reason, or close it as won't do with a "
    "rationale.",
    "regulatory_due": "Make sure the notification goes out before the deadline; record it on "
    "the action and mark it done.",
    "regulatory_overdue": "Complete the regulatory notification now, record it on the action, "
    "and mark it done.",
}


@dataclass(frozen=True)
class Facts:
    action_key: str
    title: str
    incident_key: str
    owner: str | None
    team: str | None
    due_date: date | None
    last_activity_at: datetime
    regulation: str | None
    regulatory_due_at: datetime | None
    recipient: str | None
    link: str


@dataclass(frozen=True)
class Text:
    subject: str
    text: str
    html: str
    why: str


def _why(step: Step, facts: Facts, now: datetime) -> str:
    if step.why == "due_soon" and facts.due_date:
        days = (facts.due_date - now.date()).days
        return f"is due {facts.due_date} (in {days} day(s))"
    if step.why == "overdue" and facts.due_date:
        return f"is {(now.date() - facts.due_date).days} day(s) overdue (due {facts.due_date})"
    if step.why == "stale":
        days = (now - facts.last_activity_at).days
        return f"has had no activity for {days} days (since {facts.last_activity_at:%Y-%m-%d})"
    due = facts.regulatory_due_at
    assert due is not None
    hours = abs((due - now).total_seconds()) / 3600
    when = f"{due:%Y-%m-%d %H:%M} UTC"
    if step.why == "regulatory_due":
        return f"is a {facts.regulation} regulatory deadline due {when} (in {hours:.0f} hours)"
    return f"is a {facts.regulation} regulatory deadline that passed {when} ({hours:.0f} hours ago)"


def compose(step: Step, facts: Facts, now: datetime) -> Text:
    rung = step.rung.replace("_", " ")
    if step.level == 0:
        label = "Reminder"
    else:
        label = f"Escalation level {step.level} ({rung})"
        if step.repeat:
            label += f", repeat {step.repeat}"
    why = _why(step, facts, now)
    who = facts.recipient or "nobody in the catalog"
    lines = [
        f"{facts.action_key} \u201c{facts.title}\u201d (incident {facts.incident_key}) {why}.",
        f"{label}: to {who}"
        + (f" ({rung} of {facts.team})" if facts.team and step.rung != "owner" else "")
        + f". Owner: {facts.owner or 'none'}.",
        f"What is needed: {_NEEDED[step.why]}",
        f"Open it: {facts.link}",
    ]
    body = "\n".join(lines)
    markup = "".join(f"<p>{html.escape(line)}</p>" for line in lines[:-1])
    markup += f'<p><a href="{html.escape(facts.link)}">Open {facts.action_key} in Hindsight</a></p>'
    subject = f"[Hindsight] {label}: {facts.action_key} {facts.title}"
    return Text(subject[:300], body, markup, f"{label}: {facts.action_key} {why}")
