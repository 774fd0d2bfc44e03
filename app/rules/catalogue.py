"""Every rule id Hindsight knows, with its default severity.

Kept in one small table (rather than spread across the policy modules) so the
policy loader can reject an override for a rule that does not exist, naming
the line, without importing the policies themselves. "change" rules do not
produce findings: their matches make evaluation write something (an owner,
a due date, a score, a compliance action), each write audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["finding", "change"]


@dataclass(frozen=True)
class RuleInfo:
    id: str
    severity: str
    title: str
    kind: Kind = "finding"


_INFOS = (
    RuleInfo("ownership.missing", "blocker", "an open action has no owner"),
    RuleInfo("ownership.unknown_owner", "blocker", "the owner is not in the service catalog"),
    RuleInfo("ownership.assign_default", "info", "assign the team's default owner", "change"),
    RuleInfo("deadlines.missing", "blocker", "an open action has no due date"),
    RuleInfo("deadlines.default_due", "info", "fill in the policy's default due date", "change"),
    RuleInfo("deadlines.too_far", "warning", "the due date is later than policy allows"),
    RuleInfo("deadlines.overdue", "warning", "an open action is past its due date"),
    RuleInfo("deadlines.stale", "warning", "an open action has had no activity for too long"),
    RuleInfo("priority.scored", "info", "how the action's priority score was computed"),
    RuleInfo("priority.below_score", "warning", "the stated priority is lower than the score"),
    RuleInfo("priority.apply", "info", "store the computed score (and missing priority)", "change"),
    RuleInfo("completeness.summary", "warning", "the postmortem has no summary"),
    RuleInfo("completeness.timeline_detection", "blocker", "the timeline has no detection"),
    RuleInfo("completeness.timeline_resolution", "blocker", "the timeline has no resolution"),
    RuleInfo("completeness.root_cause", "blocker", "no root cause is recorded"),
    RuleInfo("completeness.cause_unaddressed", "blocker", "a root cause has no action"),
    RuleInfo("completeness.success_criteria", "blocker", "an action has no success criteria"),
    RuleInfo("completeness.validation_method", "warning", "an action has no validation method"),
    RuleInfo("completeness.facilitator", "blocker", "no facilitator for a major incident"),
    RuleInfo("completeness.technical_role", "blocker", "no technical participant"),
    RuleInfo("completeness.business_role", "blocker", "no business participant"),
    RuleInfo("completeness.review_late", "warning", "the review was not held within the window"),
    RuleInfo("completeness.decision_rationale", "warning", "a decision has no rationale"),
    RuleInfo("language.individual_blame", "warning", "a sentence blames an individual"),
    RuleInfo("language.person_as_cause", "blocker", "a person is named as a cause"),
    RuleInfo("language.human_error", "blocker", "'human error' is given as a cause"),
    RuleInfo("compliance.due", "warning", "a regulatory obligation is open"),
    RuleInfo("compliance.overdue", "blocker", "a regulatory obligation is past its deadline"),
    RuleInfo("compliance.create_action", "info", "create the obligation's action", "change"),
    RuleInfo("verification.failed", "warning", "the action's latest validation failed"),
    RuleInfo("verification.unrecorded", "warning", "verified with no passing validation record"),
)

RULES: dict[str, RuleInfo] = {info.id: info for info in _INFOS}


def base_id(engine_rule_id: str) -> str:
    """Compiled rules carry a suffix (`deadlines.overdue@2`); policy and findings use the base."""
    return engine_rule_id.partition("@")[0]
