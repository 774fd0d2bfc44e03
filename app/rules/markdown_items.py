"""The items of a Markdown postmortem: causes, actions, timeline rows, participants, metadata.

`markdown.py` finds the sections and their blocks; this module reads one
block into the values a view needs. It understands the conventions of
documents written by hand and, exactly, those of Hindsight's own export
(`app/templates/postmortem.md.j2`), so `hindsight lint` on an export reads
what the service read:

* text is unescaped the way a renderer shows it (backslash escapes, HTML
  entities: the export escapes raw HTML as `&lt;`, so it is never passed
  through, and lint reads the `<` back);
* "_None recorded._" (or "none", "n/a", "—") is no value, not text;
* an item's `Key: value` lines continue until the next known key, so a
  cause's multi-line "Why:" is read whole;
* explicit ids win: "**RC12** (root cause; config): ...", "**ACT-7**: ...",
  a timeline table's "#" column; "Status:", "Kind", "Decision rationale".
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from app.domain.vocabulary import ActionStatus, CauseCategory, ParticipantRole, TimelineKind

from .views import ParticipantView

_PLACEHOLDER = re.compile(
    r"^[_*\s]*(none(\s+(recorded|yet|given))?|nothing(\s+recorded)?|not\s+(yet\s+)?"
    r"(recorded|described|set)|n/?a|[\u2014\u2013-])[.\s_*]*$",
    re.I,
)
_BREAK = re.compile(r"<br\s*/?>", re.I)
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_KEY = re.compile(r"^\s*\**\s*([A-Z][A-Z0-9]*-\d+)\s*\**\s*[:.\u2014-]\s*")
_RC_HEAD = re.compile(
    r"^\s*\**\s*RC\s*-?\s*(\d+)\s*\**\s*(?:\(([^)]*)\))?\s*[:.)\-\u2014]\s*", re.I
)
_LINE_KEY = re.compile(r"^\s*\**([A-Za-z][A-Za-z /-]{1,30}?)\**\s*:\s*\**\s*(.*)$")
_CAUSE_KEYS = {"why": "why", "explains": "parent", "evidence": "evidence"}
_KINDS = {k.value for k in TimelineKind}
_CATEGORIES = {c.value for c in CauseCategory}
_ROLE_LABELS = {r.value.replace("_", " "): r.value for r in ParticipantRole}
_ROLES = (
    ("facilitator", re.compile(r"facilitat", re.I)),
    ("incident_commander", re.compile(r"incident\s+commander|\bIC\b")),
    ("customer_support", re.compile(r"support", re.I)),
    ("communications", re.compile(r"comm(unication)?s\b|\bPR\b", re.I)),
    (
        "business_stakeholder",
        re.compile(r"business|product|stakeholder|account|legal|\bPM\b", re.I),
    ),
    (
        "subject_matter_expert",
        re.compile(r"expert|\bSME\b|engineer|\bSRE\b|developer|\bDBA\b", re.I),
    ),
    ("responder", re.compile(r"respond|on-?call|operator", re.I)),
)
_TIME = re.compile(
    r"^(started|detected|acknowledged|mitigated|resolved|closed|review\s+held)(\s+at)?$", re.I
)


def unescape(text: str) -> str:
    """What a renderer shows for the source text (a backslash escape, then an entity)."""
    return html.unescape(_ESCAPE.sub(r"\1", text))


def unescape_cell(text: str) -> str:
    """A table cell as shown: `<br>` is its line break (typed `<br>` arrives as `&lt;br&gt;`)."""
    return unescape(_BREAK.sub("\n", text))


def is_placeholder(text: str | None) -> bool:
    return not (text or "").strip() or bool(_PLACEHOLDER.match(text or ""))


def value(text: str | None) -> str | None:
    """A field's value, or None when it says there is none."""
    return None if is_placeholder(text) else (text or "").strip()


def item_fields(text: str, known: set[str]) -> tuple[str, dict[str, tuple[str, int]]]:
    """The item's lead text and its `Key: value` fields with the line offset each starts on.

    Keys are lower-cased, known ones only; a field runs until the next line that
    starts a known key, so values may span lines.
    """
    lead: list[str] = []
    out: dict[str, list[str]] = {}
    starts: dict[str, int] = {}
    current: list[str] = lead
    for n, line in enumerate(text.splitlines()):
        m = _LINE_KEY.match(line)
        key = m.group(1).strip().lower() if m else ""
        if m and key in known and key not in out:
            current = out[key] = [m.group(2)]
            starts[key] = n
        else:
            current.append(line)
    fields = {k: ("\n".join(v).strip(), starts[k]) for k, v in out.items()}
    return "\n".join(lead).strip(), fields


def cause_head(text: str) -> tuple[str | None, str | None, str | None, str]:
    """(RC number, kind, category, rest) of "**RC12** (root cause; config): statement"."""
    m = _RC_HEAD.match(text)
    if not m:
        return None, None, None, text
    note = (m.group(2) or "").lower()
    kind = next(
        (
            k
            for word, k in (
                ("root", "root_cause"),
                ("contribut", "contributing_factor"),
                ("trigger", "trigger"),
            )
            if word in note
        ),
        None,
    )
    category = next((c for c in re.split(r"[;,\s]+", note) if c in _CATEGORIES), None)
    return m.group(1), kind, category, text[m.end() :]


def cause_parts(text: str) -> tuple[str, str | None, int]:
    """(statement, why, the line offset of "Why:") of a cause item's text after its head."""
    lead, found = item_fields(text, set(_CAUSE_KEYS))
    why, offset = found.get("why", ("", 0))
    return lead, value(why), offset


def explicit_key(text: str) -> tuple[str | None, str]:
    """ "**ACT-7**: title" -> ("ACT-7", "title"); no key -> (None, text)."""
    m = _KEY.match(text)
    return (m.group(1), text[m.end() :]) if m else (None, text)


def action_status(text: str | None) -> str:
    """ "done", "won't do", "wont_do (not worth it)" -> the status; anything else is open."""
    head = re.sub(r"\(.*$", "", (text or "")).strip().lower()
    word = re.sub(r"[\s'\u2019-]+", "_", head).replace("won_t", "wont")
    return word if word in {s.value for s in ActionStatus} else ActionStatus.OPEN.value


def timeline_kind(text: str | None) -> str | None:
    word = (text or "").strip().lower()
    return word if word in _KINDS else None


def participant(text: str) -> tuple[str | None, str | None]:
    """(role, name) of "incident commander: Noor Haddad (sre)"; (None, None) if not that form."""
    head, sep, rest = text.partition(":")
    role = _ROLE_LABELS.get(head.strip().strip("*").strip().lower())
    if role is None:
        head, _, team = text.partition("(")
        role = _ROLE_LABELS.get(head.strip().strip("*").strip().lower())
        return (role, None) if role else (None, None)
    name = re.sub(r"\s*\([^)]*\)\s*$", "", rest).strip() if sep else ""
    return role, value(name)


def participant_view(text: str) -> ParticipantView:
    """A participant line: "role: name (team)" exactly, else the role guessed from its words."""
    role, name = participant(text)
    if role is not None:
        return ParticipantView(role=role, name=name)
    role = next((r for r, rx in _ROLES if rx.search(text)), "responder")
    name = re.split(r"\s+[-\u2014\u2013(]\s*|\s*[:,(]\s*", text, maxsplit=1)[0].strip("* ")
    return ParticipantView(role=role, name=name or None)


def parse_time(text: str) -> datetime | None:
    """An ISO 8601 time as the export writes it ("Z" or an offset; naive means UTC)."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def time_field(key: str, text: str) -> tuple[str, datetime] | None:
    """("detected_at", time) from a "Detected: 2025-11-28T14:31:00Z" line; None otherwise."""
    m = _TIME.match(key.strip())
    when = parse_time(text) if m else None
    if m is None or when is None:
        return None
    return re.sub(r"\s+", "_", m.group(1).lower()) + "_at", when
