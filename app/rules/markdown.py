"""Read a postmortem written in Markdown into an `IncidentView`, keeping line numbers.

Documents written outside Hindsight follow loose conventions, so sections
are recognised by heading words at any level ("Summary", "Timeline",
"Root causes", "Action items", "Lessons learned", "Participants") and
fields by "Key: value" lines or table columns. Conventions the policies rely
on (documented in `hindsight lint --help`):

* root causes are list items, identified as RC1, RC2 ... in order, or by an
  explicit "RC7:" prefix; items under "Contributing factors" are not root
  causes;
* an action says which causes it addresses with "Addresses: RC1, RC2" (or an
  "Addresses" table column), plus "Owner:", "Due:", "Success criteria:" and
  "Validation:";
* a timeline item mentioning an alert, page or report is a detection, one
  saying service was restored or resolved is a resolution; an explicit
  "[detection]" / "[resolution]" tag wins; "Decision:" items need a
  "Rationale:" (or "because ...").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

from .views import (
    ActionView,
    CauseView,
    IncidentView,
    ParticipantView,
    PostmortemView,
    TimelineView,
)

SECTIONS: dict[str, re.Pattern[str]] = {
    "summary": re.compile(r"^(executive\s+)?summary$|^overview$|^tl;?dr$|^what\s+happened$", re.I),
    "timeline": re.compile(r"^(detailed\s+)?timeline$|^chronology$|^sequence\s+of\s+events$", re.I),
    "causes": re.compile(r"^(root\s+causes?(\s+analysis)?|causes|causal\s+analysis)$", re.I),
    "contributing": re.compile(r"^contributing\s+(factors?|causes?)$", re.I),
    "actions": re.compile(
        r"^((corrective\s+|follow[- ]up\s+)?action(\s+item)?s|follow[- ]ups?"
        r"|remediation(\s+items)?|next\s+steps)$",
        re.I,
    ),
    "went_well": re.compile(r"^what\s+went\s+well$", re.I),
    "went_wrong": re.compile(r"^what\s+went\s+(wrong|badly)$", re.I),
    "lucky": re.compile(r"^where\s+we\s+got\s+lucky$", re.I),
    "lessons": re.compile(r"^lessons(\s+learned|\s+learnt)?$", re.I),
    "participants": re.compile(r"^(participants|attendees|people|roles|responders)$", re.I),
}
REQUIRED = ("summary", "timeline", "causes", "actions")

_FIELDS = {
    "owner": re.compile(r"^(owner|assignee|assigned\s+to|dri)$", re.I),
    "due": re.compile(r"^(due(\s+date)?|deadline|target(\s+date)?)$", re.I),
    "priority": re.compile(r"^(priority|prio)$", re.I),
    "criteria": re.compile(r"^(success(\s+criteria)?|acceptance\s+criteria|done\s+when)$", re.I),
    "validation": re.compile(
        r"^(validation(\s+method)?|verification|verified\s+by|how\s+to\s+"
        r"verify)$",
        re.I,
    ),
    "addresses": re.compile(r"^(addresses|fixes|root\s+causes?|causes?|rc)$", re.I),
    "title": re.compile(r"^(action(\s+item)?|title|item|task|what)$", re.I),
}
_KV = re.compile(r"^\s*(?:[-*]\s*)?\**([A-Za-z][A-Za-z /-]{1,30}?)\**\s*:\s*\**\s*(.*)$")
_RC = re.compile(r"\bRC\s*-?\s*(\d+)\b", re.I)
_RC_PREFIX = re.compile(r"^\s*\**\s*RC\s*-?\s*(\d+)\s*\**\s*[:.)\-\u2014]\s*", re.I)
_SEVERITY = re.compile(r"\bseverity\s*\**\s*[:=]\s*\**\s*(SEV\s*-?\s*[1-4])\b", re.I)
_FACILITATOR = re.compile(r"^\s*\**facilitator\**\s*:\s*\**\s*(\S.*)$", re.I | re.M)
_TAG = re.compile(r"\[(detection|resolution|alert|mitigation|decision)\]", re.I)
_DETECT = re.compile(
    r"\b(alert(s|ed)?|paged?|pages|detected|noticed|reported|complain(ed|ts)|"
    r"monitor(ing)?\s+(fired|flagged)|ticket\s+(opened|raised))\b",
    re.I,
)
_RESOLVE = re.compile(
    r"\b(resolved|resolution|recovered|restored|all[- ]clear|back\s+to\s+normal|"
    r"fully\s+operational|incident\s+closed)\b",
    re.I,
)
_PRIORITIES = {"P0", "P1", "P2", "P3"}
_DECISION = re.compile(r"\bdecision\s*:|\bdecided\s+to\b", re.I)
_RATIONALE = re.compile(r"\brationale\s*:\s*(\S.*)|\bbecause\s+(\S.*)", re.I | re.S)
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


@dataclass
class Block:
    """A list item, table row or paragraph inside a section, with its first line (1-based)."""

    text: str
    line: int
    cells: dict[str, str] | None = None


@dataclass
class Document:
    title: str = ""
    severity: str | None = None
    facilitator: str | None = None
    headings: dict[str, int] = field(default_factory=dict)
    blocks: dict[str, list[Block]] = field(default_factory=dict)


def parse(source: str) -> Document:
    tokens = MarkdownIt("commonmark").enable("table").parse(source)
    doc = Document()
    section: tuple[str, int] | None = None
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open":
            level, text, line = int(tok.tag[1]), tokens[i + 1].content.strip(), _line(tok)
            name = _classify(text)
            if level == 1 and not doc.title:
                doc.title = text
            if name:
                section = (name, level)
                doc.headings.setdefault(name, line)
            elif section and level <= section[1]:
                section = None
            i += 3
            continue
        if tok.type in {"bullet_list_open", "ordered_list_open", "table_open", "paragraph_open"}:
            end = _close(tokens, i)
            blocks = _blocks(tokens[i : end + 1], source)
            for block in blocks:
                _metadata(doc, block.text)
            if section:
                doc.blocks.setdefault(section[0], []).extend(blocks)
            i = end + 1
            continue
        i += 1
    return doc


def _classify(text: str) -> str | None:
    clean = re.sub(r"^[\d.\s]+|[:#*_`]+", "", text).strip()
    return next((name for name, rx in SECTIONS.items() if rx.match(clean)), None)


def _line(tok: Token) -> int:
    return tok.map[0] + 1 if tok.map else 1


def _close(tokens: list[Token], start: int) -> int:
    depth = 0
    for j in range(start, len(tokens)):
        depth += tokens[j].nesting
        if depth == 0:
            return j
    return len(tokens) - 1


def _blocks(tokens: list[Token], source: str) -> list[Block]:
    first = tokens[0]
    if first.type == "paragraph_open":
        return [Block(tokens[1].content, _line(first))]
    if first.type == "table_open":
        return _rows(tokens)
    lines = source.splitlines()
    out = []
    for tok in tokens:
        if tok.type == "list_item_open" and tok.level == first.level + 1 and tok.map:
            start, end = tok.map
            raw = [
                re.sub(r"^\s*(?:[-*+]|\d+[.)])?\s?", "", ln, count=1) if k == start else ln.strip()
                for k, ln in enumerate(lines[start:end], start)
            ]
            out.append(Block("\n".join(raw).rstrip(), start + 1))
    return out


def _rows(tokens: list[Token]) -> list[Block]:
    header: list[str] = []
    out = []
    row: list[str] = []
    line = 1
    for tok in tokens:
        if tok.type == "tr_open":
            row, line = [], _line(tok)
        elif tok.type == "inline":
            row.append(tok.content.strip())
        elif tok.type == "tr_close":
            if not header:
                header = row
                continue
            cells = dict(zip(header, row, strict=False))
            out.append(Block(" \u2014 ".join(c for c in row if c), line, cells))
    return out


def _metadata(doc: Document, text: str) -> None:
    if doc.severity is None and (m := _SEVERITY.search(text)):
        doc.severity = "SEV" + re.sub(r"\D", "", m.group(1))
    if doc.facilitator is None and (f := _FACILITATOR.search(text)):
        doc.facilitator = f.group(1).strip().strip("*")


def fields(block: Block) -> dict[str, str]:
    """'Key: value' lines (or table columns) mapped onto the names the policies use."""
    pairs: list[tuple[str, str]] = list((block.cells or {}).items())
    pairs += [(m.group(1), m.group(2)) for ln in block.text.splitlines() if (m := _KV.match(ln))]
    out: dict[str, str] = {}
    for key, value in pairs:
        name = next((n for n, rx in _FIELDS.items() if rx.match(key.strip())), None)
        if name and value.strip() and name not in out:
            out[name] = value.strip().strip("*").strip()
    return out


def to_view(doc: Document, key: str) -> IncidentView:
    causes = _causes(doc)
    went = {
        name: tuple(b.text for b in doc.blocks.get(name, ()))
        for name in ("went_well", "went_wrong", "lucky", "lessons")
    }
    return IncidentView(
        key=key,
        title=doc.title or key,
        severity=doc.severity or "unknown",
        status="resolved",
        summary=_joined(doc.blocks.get("summary", [])),
        timeline=tuple(_event(b, n) for n, b in enumerate(doc.blocks.get("timeline", []), 1)),
        causes=causes,
        actions=tuple(_action(b, n) for n, b in enumerate(doc.blocks.get("actions", []), 1)),
        participants=tuple(_participant(b) for b in doc.blocks.get("participants", [])),
        postmortem=PostmortemView(
            facilitator=doc.facilitator,
            went_well=went["went_well"],
            went_wrong=went["went_wrong"],
            lucky=went["lucky"],
            lessons=went["lessons"],
        ),
        line=_first_line(doc, "summary"),
    )


def _first_line(doc: Document, section: str) -> int:
    blocks = doc.blocks.get(section)
    return blocks[0].line if blocks else doc.headings.get(section, 1)


def _joined(blocks: list[Block]) -> str:
    """One text whose line offsets match the file, so blame hits get their own line."""
    if not blocks:
        return ""
    first, out = blocks[0].line, list[str]()
    for b in blocks:
        out.extend([""] * (b.line - first - len(out)))
        out.extend(b.text.splitlines())
    return "\n".join(out)


def _causes(doc: Document) -> tuple[CauseView, ...]:
    out = []
    for name, kind in (("causes", "root_cause"), ("contributing", "contributing_factor")):
        for n, b in enumerate(doc.blocks.get(name, []), 1):
            m = _RC_PREFIX.match(b.text)
            key = f"RC{m.group(1)}" if m else (f"RC{n}" if kind == "root_cause" else f"CF{n}")
            statement = b.text[m.end() :] if m else b.text
            out.append(
                CauseView(key=key, kind=kind, category="process", statement=statement, line=b.line)
            )
    return tuple(out)


def _event(block: Block, n: int) -> TimelineView:
    text = block.text
    tag = _TAG.search(text)
    if tag:
        kind = tag.group(1).lower()
    elif _RESOLVE.search(text):
        kind = "resolution"
    elif _DETECT.search(text):
        kind = "detection"
    else:
        kind = "note"
    decision = bool(_DECISION.search(text)) or kind == "decision"
    rationale = _RATIONALE.search(text) if decision else None
    return TimelineView(
        key=f"T{n}",
        kind=kind,
        text=text,
        is_decision=decision,
        rationale=(rationale.group(1) or rationale.group(2)) if rationale else None,
        line=block.line,
    )


def _action(block: Block, n: int) -> ActionView:
    f = fields(block)
    title = f.get("title") or block.text.splitlines()[0]
    return ActionView(
        key=f"A{n}",
        title=title.strip()[:200],
        type="prevent",
        owner=f.get("owner"),
        priority=p if (p := (f.get("priority") or "").upper()) in _PRIORITIES else None,
        success_criteria=f.get("criteria"),
        validation_method=f.get("validation"),
        cause_keys=tuple(f"RC{int(x)}" for x in _RC.findall(f.get("addresses", ""))),
        line=block.line,
    )


def _participant(block: Block) -> ParticipantView:
    text = block.text
    role = next((name for name, rx in _ROLES if rx.search(text)), "responder")
    name = re.split(r"\s+[-\u2014\u2013(]\s*|\s*[:,(]\s*", text, maxsplit=1)[0].strip("* ")
    return ParticipantView(role=role, name=name or None)
