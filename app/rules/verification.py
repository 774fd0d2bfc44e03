"""Verification: `verified` means a recorded check held; a failed check is shown.

An action's validation records (what was checked, the result, when, by whom,
the evidence) are the only way it becomes verified. The policy here reads the
latest record: when it failed, the action went back to open and the finding
says what the check found until a later check passes; a verified action with
no passing record at all (imported from elsewhere, say) is flagged too.
"""

from __future__ import annotations

from typing import Any

from app.domain.vocabulary import ActionStatus

from .conditions import Condition, Rule
from .model import Context, FindingDraft, action_finding
from .policy import Policy
from .views import ActionView


def rules(policy: Policy) -> list[Rule]:
    counts = Condition("counts", "is_true", None)
    return [
        Rule("verification.failed", "action", (counts, Condition("validation_failed", "is_true"))),
        Rule("verification.unrecorded", "action", (Condition("verified_unrecorded", "is_true"),)),
    ]


def action_fields(action: ActionView) -> dict[str, Any]:
    last = action.last_validation
    return {
        "validation_failed": last is not None and last.result == "fail",
        "verified_unrecorded": action.status == ActionStatus.VERIFIED.value
        and not action.has_passing_validation,
    }


def explain(rule: str, action: ActionView, ctx: Context) -> FindingDraft:
    label = f"{action.key} \u201c{action.title}\u201d"
    last = action.last_validation
    if rule == "verification.failed" and last is not None:
        return action_finding(
            ctx,
            rule,
            action,
            f"{label} failed its validation on {last.checked_at:%Y-%m-%d %H:%M} UTC by "
            f"{last.checked_by}: {last.checked} (evidence: {last.evidence}); it went back to "
            "open.",
            "Fix what the check found, mark the action done, and record a new validation.",
            {
                "validation_id": last.id,
                "checked": last.checked,
                "checked_at": last.checked_at.isoformat(),
                "checked_by": last.checked_by,
                "evidence": last.evidence,
            },
        )
    return action_finding(
        ctx,
        rule,
        action,
        f"{label} is verified but no passing validation record says what was checked.",
        "Record the check: POST /api/v1/actions/{key}/validations with what was checked, the "
        "result and an evidence link.".replace("{key}", action.key),
    )
