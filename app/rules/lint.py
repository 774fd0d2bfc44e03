"""`hindsight lint FILE.md`: Hindsight's policies for Markdown postmortems.

Teams that write postmortems in a wiki or a repository get the same checks
in their docs CI or pre-commit hook as Hindsight applies to its own
incidents: the file is read into an `IncidentView` and run through the same
pipeline. A hand-written document is judged by the completeness and language
rules (ownership, deadlines, scoring and compliance need facts such a document
does not reliably carry). Hindsight's own export carries all of them
(`markdown_export.py`), so it is judged by every family, with the service's
catalog, at the moment it was generated unless `as_of` says otherwise: the
findings are the service's, fingerprints included. Missing sections are
reported first, since nothing else can be judged without them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from app.catalog import Catalog

from . import markdown, markdown_export
from .evaluate import Scope, evaluate
from .model import Context, FindingDraft
from .policy import Policy

_SECTION_TITLES = {
    "summary": "Summary",
    "timeline": "Timeline",
    "causes": "Root causes",
    "actions": "Action items",
}
# Incident-level findings point at the section they are about.
_RULE_SECTION = {
    "completeness.summary": "summary",
    "completeness.timeline_detection": "timeline",
    "completeness.timeline_resolution": "timeline",
    "completeness.root_cause": "causes",
    "completeness.facilitator": "participants",
    "completeness.technical_role": "participants",
    "completeness.business_role": "participants",
}
# ... or, in an export, the head row holding the fact it is about.
_RULE_ROW = {
    "compliance.due": "regulatory",
    "compliance.overdue": "regulatory",
    "completeness.review_late": "review held",
}


def lint_text(
    source: str,
    name: str,
    policy: Policy,
    catalog: Catalog | None = None,
    as_of: datetime | None = None,
) -> list[FindingDraft]:
    """Findings for one document, sorted by line.

    `catalog` is used for Hindsight exports only (the service judged them with
    it). A document written outside Hindsight is read without one: its names
    would make the blame detector treat every other capitalised subject as a
    product, and such a document names its own participants. `as_of` is the
    "now" of time-dependent rules; by default an export's generated time, else
    the current time.
    """
    doc = markdown.parse(source)
    findings = [
        _missing(doc, section) for section in markdown.REQUIRED if section not in doc.headings
    ]
    view = markdown.to_view(doc, name)
    generated = markdown_export.generated_at(doc)
    scope: Scope = "lint"
    exported = generated is not None and not markdown_export.is_redacted(doc)
    if generated is not None:
        view, scope = markdown_export.enrich(view, doc), "all" if exported else "lint"
    known = catalog if exported and catalog is not None else Catalog()
    ctx = Context(policy, known, as_of or generated or datetime.now(UTC))
    # A timeline table row is one line however many lines its cells hold (`<br>`).
    blocks = doc.blocks.get("timeline", [])
    rows = {t.key: t.line for t, b in zip(view.timeline, blocks, strict=False) if b.cells}
    for finding in evaluate([view], ctx, scope=scope)[view.key].findings:
        line = _line(doc, finding)
        if finding.entity_type == "timeline_event" and rows.get(finding.entity_key):
            line = rows[finding.entity_key]
        if line is not None:
            finding = replace(finding, details={**finding.details, "line": line})
        findings.append(finding)
    return sorted(findings, key=lambda f: (f.line or 0, f.rule, f.discriminator))


def _line(doc: markdown.Document, finding: FindingDraft) -> int | None:
    """Where an incident-level finding points: its section, or the head row it is about."""
    section = _RULE_SECTION.get(finding.rule)
    if section is not None:
        return doc.headings.get(section) or doc.headings.get("summary") or 1
    row = _RULE_ROW.get(finding.rule.partition("@")[0])
    if row is not None:
        return markdown_export.head_line(doc, row) or doc.headings.get("summary") or 1
    return None


def _missing(doc: markdown.Document, section: str) -> FindingDraft:
    title = _SECTION_TITLES[section]
    return FindingDraft(
        "lint.missing_section",
        "blocker",
        "document",
        section,
        f"No \u201c{title}\u201d section: the postmortem needs headings for summary, timeline, "
        "root causes and action items.",
        f"Add a heading \u201c## {title}\u201d with its content.",
        {"line": 1, "section": section},
        discriminator=section,
    )


def lint_file(
    path: Path, policy: Policy, catalog: Catalog | None = None, as_of: datetime | None = None
) -> list[FindingDraft]:
    return lint_text(path.read_text(encoding="utf-8"), path.name, policy, catalog, as_of)


def render_text(path: str, findings: list[FindingDraft]) -> str:
    lines = []
    for f in findings:
        lines.append(f"{path}:{f.line or 1}: {f.severity} [{f.rule}] {f.message}")
        if f.suggestion:
            lines.append(f"    fix: {f.suggestion}")
    counts = {
        s: sum(1 for f in findings if f.severity == s) for s in ("blocker", "warning", "info")
    }
    lines.append(
        f"{path}: {counts['blocker']} blocker(s), {counts['warning']} warning(s), "
        f"{counts['info']} info"
    )
    return "\n".join(lines)


def as_records(path: str, findings: list[FindingDraft]) -> list[dict[str, object]]:
    return [
        {
            "file": path,
            "line": f.line,
            "rule": f.rule,
            "severity": f.severity,
            "message": f.message,
            "suggestion": f.suggestion,
            "fingerprint": f.fingerprint,
        }
        for f in findings
    ]
