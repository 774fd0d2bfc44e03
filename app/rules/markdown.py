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
  "Rationale:" (or "because ...");
* Hindsight's own export names everything explicitly (cause ids and kinds,
  action keys and statuses, timeline kinds, the incident's times), which
  `markdown_items.py` reads; the facts only an export carries (owners' teams,
  dates, scores, validation records, notifications, the generated time) are
  read by `markdown_export.py`, so lint judges an export as the service did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from markdown_it import MarkdownIt
from markdown_it.token import Token

from . import markdown_items as items
from .views import (
    ActionView,
    CauseView,
    IncidentView,
    PostmortemView,
    TimelineView,
)

SECTIONS: dict[str, re.Pattern[str]] = {
    "summary": re.compile(r"^(executive\s+)?summary$|^overview$|^tl;?dr$|^what\s+happened$", re.I),
    "review_summary": re.compile(r"^(postmortem|review)\s+summary$", re.I),
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
    "key": re.compile(r"^(key|id|#)$", re.I),
    "status": re.compile(r"^(status|state)$", re.I),
    "kind": re.compile(r"^(kind|type)$", re.I),
    "text": re.compile(r"^(what\s+happened|event|description|text|details)$", re.I),
    "rationale": re.compile(r"^((decision\s+)?rationale|decision|why)$", re.I),
}
_KV = re.compile(r"^\s*(?:[-*]\s*)?\**([A-Za-z][A-Za-z /-]{1,30}?)\**\s*:\s*\**\s*(.*)$")
_RC = re.compile(r"\bRC\s*-?\s*(\d+)\b", re.I)
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
    times: dict[str, datetime] = field(default_factory=dict)
    head: dict[str, tuple[str, int]] = field(default_factory=dict)  # "Key: value" before sections
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
            blocks = [b for b in _blocks(tokens[i : end + 1], source) if not _empty(b)]
            for block in blocks:
                _metadata(doc, block.text)
                if section is None and block.cells is None and (kv := _KV.match(block.text)):
                    doc.head.setdefault(kv.group(1).strip().lower(), (kv.group(2), block.line))
            if section:
                doc.blocks.setdefault(section[0], []).extend(blocks)
            i = end + 1
            continue
        i += 1
    return doc


def _empty(block: Block) -> bool:
    """ "_None recorded._" under a heading says the section is empty; it is not an item."""
    return block.cells is None and items.is_placeholder(block.text)


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
        return [Block(items.unescape(tokens[1].content), _line(first))]
    if first.type == "table_open":
        return _rows(tokens)
    lines = source.splitlines()
    out = []
    for tok in tokens:
        if tok.type == "list_item_open" and tok.level == first.level + 1 and tok.map:
            start, end = tok.map
            head = re.match(r"^\s*(?:[-*+]|\d+[.)])?\s?", lines[start])
            indent = head.end() if head else 0  # where the item's text begins
            raw = [lines[start][indent:]] + [_dedent(ln, indent) for ln in lines[start + 1 : end]]
            out.append(Block(items.unescape("\n".join(raw).rstrip()), start + 1))
    return out


def _dedent(line: str, indent: int) -> str:
    """A continuation line less the item's indentation, so a typed indent survives."""
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(spaces, indent) :].rstrip() if spaces >= indent else line.strip()


def _rows(tokens: list[Token]) -> list[Block]:
    header: list[str] = []
    out = []
    row: list[str] = []
    line = 1
    for tok in tokens:
        if tok.type == "tr_open":
            row, line = [], _line(tok)
        elif tok.type == "inline":
            row.append(items.unescape_cell(tok.content.strip()))
        elif tok.type == "tr_close":
            if not header:
                header = row
                continue
            if not any(header) and len(row) == 2:  # a key | value table, e.g. the export's head
                out.append(Block(f"{row[0]}: {row[1]}", line))
                continue
            cells = dict(zip(header, row, strict=False))
            out.append(Block(" \u2014 ".join(c for c in row if c), line, cells))
    return out


def _metadata(doc: Document, text: str) -> None:
    if doc.severity is None and (m := _SEVERITY.search(text)):
        doc.severity = "SEV" + re.sub(r"\D", "", m.group(1))
    if doc.facilitator is None and (f := _FACILITATOR.search(text)):
        doc.facilitator = items.value(f.group(1).strip().strip("*"))
    for line in text.splitlines():
        if (kv := _KV.match(line)) and (found := items.time_field(kv.group(1), kv.group(2))):
            doc.times.setdefault(*found)


def fields(block: Block) -> dict[str, str]:
    """'Key: value' lines (or table columns) mapped onto the names the policies use."""
    pairs: list[tuple[str, str]] = list((block.cells or {}).items())
    pairs += [(m.group(1), m.group(2)) for ln in block.text.splitlines() if (m := _KV.match(ln))]
    out: dict[str, str] = {}
    for key, text in pairs:
        name = next((n for n, rx in _FIELDS.items() if rx.match(key.strip())), None)
        found = items.value(text.strip().strip("*"))
        if name and found and name not in out:
            out[name] = found
    return out


def to_view(doc: Document, key: str) -> IncidentView:
    lines: list[tuple[str, int]] = []
    went: dict[str, tuple[str, ...]] = {}
    for name in ("went_well", "went_wrong", "lucky", "lessons"):
        blocks = doc.blocks.get(name, [])
        went[name] = tuple(b.text for b in blocks)
        lines += [(f"{name}[{i}]", b.line) for i, b in enumerate(blocks)]
    review = doc.blocks.get("review_summary", [])
    if review:
        lines.append(("summary", review[0].line))
    return IncidentView(
        key=key,
        title=doc.title or key,
        severity=doc.severity or "unknown",
        status="resolved",
        summary=_joined(doc.blocks.get("summary", [])),
        started_at=doc.times.get("started_at"),
        detected_at=doc.times.get("detected_at"),
        resolved_at=doc.times.get("resolved_at"),
        closed_at=doc.times.get("closed_at"),
        timeline=tuple(_event(b, n) for n, b in enumerate(doc.blocks.get("timeline", []), 1)),
        causes=_causes(doc),
        actions=tuple(_action(b, n) for n, b in enumerate(doc.blocks.get("actions", []), 1)),
        participants=tuple(
            items.participant_view(b.text) for b in doc.blocks.get("participants", [])
        ),
        postmortem=PostmortemView(
            facilitator=doc.facilitator,
            review_held_at=doc.times.get("review_held_at"),
            summary=_joined(review),
            went_well=went["went_well"],
            went_wrong=went["went_wrong"],
            lucky=went["lucky"],
            lessons=went["lessons"],
            lines=tuple(lines),
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
    for name, default in (("causes", "root_cause"), ("contributing", "contributing_factor")):
        for n, b in enumerate(doc.blocks.get(name, []), 1):
            number, kind, category, rest = items.cause_head(b.text)
            kind = kind or default
            statement, why, why_offset = items.cause_parts(rest)
            key = f"RC{number}" if number else (f"RC{n}" if kind == "root_cause" else f"CF{n}")
            out.append(
                CauseView(
                    key=key,
                    kind=kind,
                    category=category or "process",
                    statement=statement,
                    why=why,
                    line=b.line,
                    why_line=b.line + why_offset if why else None,
                )
            )
    return tuple(out)


def _event(block: Block, n: int) -> TimelineView:
    f = fields(block) if block.cells else {}
    text = f.get("text") or block.text
    kind = items.timeline_kind(f.get("kind")) or _kind(text)
    rationale: str | None
    if block.cells is not None and "text" in f:  # a table that says it: nothing is guessed
        explicit = next((c for h, c in block.cells.items() if _FIELDS["rationale"].match(h)), "")
        decision = bool(explicit.strip()) or kind == "decision"
        rationale = f.get("rationale")
    else:
        decision = bool(_DECISION.search(text)) or kind == "decision"
        found = _RATIONALE.search(text) if decision else None
        rationale = (found.group(1) or found.group(2)) if found else None
    return TimelineView(
        key=f.get("key") or f"T{n}",
        kind=kind,
        text=text,
        is_decision=decision,
        rationale=rationale,
        line=block.line,
    )


def _kind(text: str) -> str:
    tag = _TAG.search(text)
    if tag:
        return tag.group(1).lower()
    if _RESOLVE.search(text):
        return "resolution"
    if _DETECT.search(text):
        return "detection"
    return "note"


def _action(block: Block, n: int) -> ActionView:
    f = fields(block)
    key, first = items.explicit_key(block.text.splitlines()[0] if block.text else "")
    title = f.get("title") or first
    return ActionView(
        key=f.get("key") or key or f"A{n}",
        title=title.strip()[:200],
        type="prevent",
        owner=f.get("owner"),
        priority=p if (p := (f.get("priority") or "").upper()) in _PRIORITIES else None,
        success_criteria=f.get("criteria"),
        validation_method=f.get("validation"),
        status=items.action_status(f.get("status")),
        cause_keys=tuple(f"RC{int(x)}" for x in _RC.findall(f.get("addresses", ""))),
        line=block.line,
    )
