"""The postmortem workspace: one page per incident, where the analysis, the rules' advice and
the follow-through sit together. Findings are shown beside the field they concern; blame
phrases are marked in the text itself (the detector's spans), with the suggested rewording."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from flask import Response, render_template, request
from markupsafe import Markup, escape

from app.domain.errors import DomainError, NotFound
from app.domain.vocabulary import (
    ActionStatus,
    ActionType,
    CauseCategory,
    CauseKind,
    EvidenceKind,
    IncidentStatus,
    ParticipantRole,
    Priority,
    Severity,
    TimelineKind,
)
from app.runtime import current
from app.schemas.actions import ActionQuery
from app.schemas.findings import FindingRead
from app.services import actions as action_service
from app.services import analysis
from app.services import findings as finding_service
from app.services import incidents as incident_service
from app.services import postmortems as postmortem_service
from app.services.recurrence import suggested_actions

from . import bp

log = logging.getLogger(__name__)

# Incident-wide findings shown beside the section they are about.
SECTION_RULES = {
    "summary": ("completeness.summary",),
    "timeline": (
        "completeness.timeline_detection",
        "completeness.timeline_resolution",
        "completeness.decision_rationale",
    ),
    "participants": (
        "completeness.facilitator",
        "completeness.technical_role",
        "completeness.business_role",
    ),
    "causes": ("completeness.root_cause",),
    "review": ("completeness.review_late",),
}
LESSONS = (
    ("went_well", "What went well"),
    ("went_wrong", "What went wrong"),
    ("lucky", "Where we got lucky"),
    ("lessons", "Lessons"),
)


@dataclass
class Findings:
    """The incident's findings, filed by where they are shown."""

    by_field: dict[tuple[str, str, str], list[FindingRead]] = field(default_factory=dict)
    by_entity: dict[tuple[str, str], list[FindingRead]] = field(default_factory=dict)
    by_section: dict[str, list[FindingRead]] = field(default_factory=dict)
    other: list[FindingRead] = field(default_factory=list)
    blockers: list[FindingRead] = field(default_factory=list)

    def at(self, entity_type: str, entity_key: str, name: str | None = None) -> list[FindingRead]:
        if name is None:
            return self.by_entity.get((entity_type, entity_key), [])
        return self.by_field.get((entity_type, entity_key, name), [])

    def section(self, name: str) -> list[FindingRead]:
        return self.by_section.get(name, [])


def file_findings(found: list[FindingRead]) -> Findings:
    by_field: dict[tuple[str, str, str], list[FindingRead]] = defaultdict(list)
    by_entity: dict[tuple[str, str], list[FindingRead]] = defaultdict(list)
    by_section: dict[str, list[FindingRead]] = defaultdict(list)
    sections = {rule: name for name, rules in SECTION_RULES.items() for rule in rules}
    out = Findings()
    for f in found:
        if f.severity == "blocker" and not f.waived:
            out.blockers.append(f)
        if f.severity == "info":
            continue  # how a score was computed, what was filled in: not advice to act on
        where = f.details.get("field")
        if isinstance(where, str):
            by_field[(f.entity_type, f.entity_key, where)].append(f)
        elif f.rule in sections:
            by_section[sections[f.rule]].append(f)
        elif f.entity_type in {"action", "timeline_event", "cause"}:
            by_entity[(f.entity_type, f.entity_key)].append(f)
        else:
            out.other.append(f)
    out.by_field, out.by_entity, out.by_section = dict(by_field), dict(by_entity), dict(by_section)
    return out


def marked(text: str, findings: list[FindingRead]) -> Markup:
    """The text, escaped, with each blame phrase wrapped in <mark> at the detector's span."""
    spans: list[tuple[int, int, int]] = []
    for f in findings:
        start, end = f.details.get("start"), f.details.get("end")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            continue
        if text[start:end].lower() != str(f.details.get("phrase", "")).lower():
            continue  # the text changed since the evaluation: no stale highlight
        if all(end <= s or start >= e for s, e, _ in spans):
            spans.append((start, end, f.id))
    out, at = [], 0
    for start, end, fid in sorted(spans):
        out.append(escape(text[at:start]))
        phrase = escape(text[start:end])
        out.append(Markup(f'<mark class="blame" id="blame-{fid}">{phrase}</mark>'))
        at = end
    out.append(escape(text[at:]))
    return Markup("").join(out)


def cause_tree(causes: list[Any]) -> dict[int | None, list[Any]]:
    """Children by parent id (None: the top), so the template can recurse down 5-whys chains."""
    children: dict[int | None, list[Any]] = defaultdict(list)
    ids = {c.id for c in causes}
    for c in causes:
        children[c.parent_id if c.parent_id in ids else None].append(c)
    return dict(children)


def _suggestions(key: str) -> Any:
    try:
        return suggested_actions(current(), key)
    except DomainError:
        return None
    except Exception:  # advice must never take the workspace down with it
        log.exception("suggested actions for %s failed", key)
        return None


def load(key: str) -> dict[str, Any]:
    rt = current()
    incident = incident_service.get_incident(rt, key)
    try:
        postmortem = postmortem_service.get_document(rt, key).postmortem
    except NotFound:
        postmortem = None
    causes = analysis.list_parts(rt, key, analysis.CAUSE)
    return {
        "incident": incident,
        "postmortem": postmortem,
        "timeline": analysis.list_parts(rt, key, analysis.TIMELINE),
        "evidence": analysis.list_parts(rt, key, analysis.EVIDENCE),
        "participants": analysis.list_parts(rt, key, analysis.PARTICIPANT),
        "causes": causes,
        "tree": cause_tree(causes),
        "actions": action_service.list_actions(rt, ActionQuery(incident=key, limit=500)).items,
        "findings": file_findings(finding_service.list_findings(rt, key)),
        "suggestions": _suggestions(key),
    }


VOCABULARY = {
    "timeline_kinds": list(TimelineKind),
    "roles": list(ParticipantRole),
    "evidence_kinds": list(EvidenceKind),
    "cause_kinds": list(CauseKind),
    "categories": list(CauseCategory),
    "action_types": list(ActionType),
    "priorities": list(Priority),
    "action_statuses": list(ActionStatus),
    "lessons": LESSONS,
    "severities": list(Severity),
    "incident_statuses": list(IncidentStatus),
    "time_fields": ("started_at", "detected_at", "acknowledged_at", "mitigated_at", "resolved_at"),
}


def render(
    key: str,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, dict[str, Any]] | None = None,
    status: int = 200,
    blockers: list[dict[str, Any]] | None = None,
    message: str | None = None,
) -> Response:
    """The page; `errors` and `values` are keyed by form name, so a failed form shows its
    messages beside its own fields and keeps what was typed."""
    context = load(key)
    jira = current().settings.jira_url
    html = render_template(
        "web/workspace.html.j2",
        key=key,
        errors=errors or {},
        values=values or {},
        publish_blockers=blockers,
        message=message or request.args.get("message"),
        marked=marked,
        jira_browse=(jira.rstrip("/") + "/browse/") if jira else None,
        prefill=request.args,
        **VOCABULARY,
        **context,
    )
    return Response(html, status=status, mimetype="text/html")


@bp.route("/incidents/<key>")
def workspace(key: str) -> Response:
    return render(key)
