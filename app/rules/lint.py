"""`hindsight lint FILE.md`: the completeness and blameless policies for Markdown.

Teams that write postmortems in a wiki or a repository get the same checks
in their docs CI or pre-commit hook as Hindsight applies to its own
incidents: the file is read into an `IncidentView` and run through the same
pipeline (completeness and language rules only: ownership, deadlines and
compliance need data a document does not carry). Missing sections are
reported first, since nothing else can be judged without them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from app.catalog import Catalog

from . import markdown
from .evaluate import evaluate
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


def lint_text(source: str, name: str, policy: Policy) -> list[FindingDraft]:
    """Findings for one document, sorted by line.

    The catalog is deliberately left out: its names would make the blame
    detector treat every other capitalised subject as a product, and a
    document written outside Hindsight names its own participants.
    """
    doc = markdown.parse(source)
    findings = [
        _missing(doc, section) for section in markdown.REQUIRED if section not in doc.headings
    ]
    ctx = Context(policy, Catalog(), datetime.now(UTC))
    view = markdown.to_view(doc, name)
    for finding in evaluate([view], ctx, scope="lint")[name].findings:
        section = _RULE_SECTION.get(finding.rule)
        if section is not None:
            line = doc.headings.get(section) or doc.headings.get("summary") or 1
            finding = replace(finding, details={**finding.details, "line": line})
        findings.append(finding)
    return sorted(findings, key=lambda f: (f.line or 0, f.rule, f.discriminator))


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


def lint_file(path: Path, policy: Policy) -> list[FindingDraft]:
    return lint_text(path.read_text(encoding="utf-8"), path.name, policy)


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
