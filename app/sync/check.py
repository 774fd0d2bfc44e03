"""`hindsight sync check`: would Jira accept what Hindsight is going to send?

Reads the live project's create metadata for each mapped issue type and
compares it with the fields the mapping produces, naming every field that a
create would be rejected for: not on the screen, required but never sent,
or a value (priority, select option) the site does not offer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.domain.vocabulary import Severity

from .connect import SyncContext
from .mapping import ENTITY_TYPES, EntityType
from .tracker import FieldProblem, TrackerError

ALWAYS_SET = {"project", "issuetype", "summary", "labels", "description"}
# Jira fills these itself when left out.
SELF_FILLED = {"project", "issuetype", "reporter"}


@dataclass
class CheckReport:
    flavour: str
    project: str
    issue_types: dict[EntityType, str]
    problems: list[FieldProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self) -> str:
        lines = [f"Jira {self.flavour}, project {self.project}"]
        for entity, name in self.issue_types.items():
            lines.append(f"  {entity:<10} -> {name}")
        if self.ok:
            lines.append("mapping OK: every field Hindsight sends is accepted on create")
        else:
            lines.append(f"{len(self.problems)} problem(s):")
            lines += [f"  {p.entity_type}: {p.field}: {p.message}" for p in self.problems]
        return "\n".join(lines)


def sent_fields(ctx: SyncContext, entity_type: EntityType) -> dict[str, list[Any]]:
    """Field id -> the values we may send (empty list: free text / not enumerable)."""
    m = ctx.mapping
    out: dict[str, list[Any]] = {f: [] for f in ALWAYS_SET - {"project", "issuetype"}}
    out["priority"] = sorted(
        set(m.severity_priorities.values() if entity_type != "action" else m.priorities.values())
    )
    if entity_type != "incident":
        out["duedate"] = []
        out["assignee"] = []
    if entity_type == "action" and m.actions_as_subtasks:
        out["parent"] = []
    elif entity_type != "incident":
        out["issuelinks"] = []
    for cf in m.custom_fields:
        if entity_type in cf.entities:
            values = (
                [s.value for s in Severity]
                if cf.source == "severity" and cf.type == "option"
                else []
            )
            out[cf.field] = values
    for fid in m.defaults.get(entity_type, {}):
        out.setdefault(fid, [])
    return out


def check_mapping(ctx: SyncContext) -> CheckReport:
    m = ctx.mapping
    report = CheckReport(ctx.flavour, m.project or "?", dict(m.issue_types))
    for entity_type in ENTITY_TYPES:
        issue_type = m.issue_types[entity_type]
        try:
            meta = ctx.tracker.create_metadata(issue_type)
        except TrackerError as exc:
            report.problems.append(FieldProblem(entity_type, "issuetype", exc.message))
            continue
        report.problems += _compare(
            entity_type,
            issue_type,
            sent_fields(ctx, entity_type),
            meta,
            m.defaults.get(entity_type, {}),
        )
    return report


def _compare(
    entity_type: EntityType,
    issue_type: str,
    sent: dict[str, list[Any]],
    meta: dict[str, dict[str, Any]],
    defaults: dict[str, Any],
) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    for fid, values in sorted(sent.items()):
        if fid not in meta:
            problems.append(
                FieldProblem(
                    entity_type,
                    fid,
                    f"cannot be set: not on the create screen of {issue_type!r} (Jira answers 400)",
                )
            )
            continue
        allowed = meta[fid].get("allowed") or []
        if values and allowed:
            missing = [v for v in values if v not in allowed]
            if missing:
                problems.append(
                    FieldProblem(
                        entity_type, fid, f"value(s) {missing} not offered; Jira allows {allowed}"
                    )
                )
    for fid in ("duedate", "assignee"):
        if fid in sent and (meta.get(fid) or {}).get("required") and fid not in defaults:
            problems.append(
                FieldProblem(
                    entity_type,
                    fid,
                    f"required by Jira; a {entity_type} without one is rejected unless "
                    f"defaults.{entity_type}.{fid} is set in config/jira.yaml",
                )
            )
    for fid, info in sorted(meta.items()):
        if (
            info.get("required")
            and fid not in sent
            and fid not in SELF_FILLED
            and not info.get("has_default")
            and fid not in defaults
        ):
            problems.append(
                FieldProblem(
                    entity_type,
                    fid,
                    f"required by Jira ({info.get('name')}) but Hindsight sends nothing: "
                    f"add it under defaults.{entity_type} in config/jira.yaml",
                )
            )
    return problems
