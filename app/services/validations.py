"""Validation records: how an action becomes verified, and how a failed check reopens it.

A passing record on a done action verifies it; a failing one sends a done or
verified action back to open (the rules then show the failure as the finding
`verification.failed` until a later check passes). Each record is its own row,
audited with the status it caused, so the record shows every check, not just
the last word. Policy may require the verifier to be someone other than the
owner (`verification.verifier_must_differ_from_owner`).
"""

from __future__ import annotations

from datetime import timedelta

from app import audit
from app.domain.errors import Conflict, Forbidden, field_error
from app.domain.people import Principal
from app.domain.vocabulary import ActionStatus
from app.models import Action, ActionValidation
from app.rules.permissions import verification_refusal
from app.runtime import Runtime
from app.schemas.actions import ActionRead, ValidationCreate

from .actions import to_read
from .changes import action_changed
from .common import load_action
from .records import set_status

CLOCK_SKEW = timedelta(minutes=5)  # a check "now" on a laptop a little ahead is still now
_REOPENS = {ActionStatus.DONE, ActionStatus.VERIFIED}


def _next_status(
    runtime: Runtime, action: Action, data: ValidationCreate, who: Principal
) -> ActionStatus:
    """The status the record leads to; refuses a pass that policy or the state rules out."""
    current = ActionStatus(action.status)
    if data.result == "fail":
        return ActionStatus.OPEN if current in _REOPENS else current
    refusal = verification_refusal(
        runtime.policy.verification,
        verifier=who.person,
        owner=action.owner,
        catalog=runtime.catalog,
    )
    if refusal:
        raise Forbidden(refusal)
    if current not in _REOPENS:
        raise Conflict(
            f"{action.key} is {current}: an action is verified once it is done; mark it done, "
            "then record the passing check"
        )
    return ActionStatus.VERIFIED


def record_validation(
    runtime: Runtime, *, key: str, data: ValidationCreate, principal: Principal
) -> ActionRead:
    now = runtime.clock()
    checked_at = data.checked_at or now
    if checked_at > now + CLOCK_SKEW:
        raise field_error(["body", "checked_at"], "is in the future: record a check once it ran")
    with runtime.uow() as uow:
        action = load_action(uow.session, key, lock=True)
        before = action.status
        target = _next_status(runtime, action, data, principal)
        record = ActionValidation(
            checked=data.checked,
            result=data.result,
            checked_at=checked_at,
            checked_by=principal.person,
            evidence=data.evidence,
            note=data.note,
            created_at=now,
        )
        action.validations.append(record)
        reason = f"validation {'passed' if data.result == 'pass' else 'failed'}: {data.checked}"
        set_status(uow.session, action, target, reason, actor=principal.actor, validated=True)
        action.last_activity_at = now
        uow.session.flush()
        audit.record(
            uow.session,
            actor=principal.actor,
            action="action.validate",
            entity_type="action",
            entity_key=action.key or key,
            before={"status": before},
            after={
                "validation_id": record.id,
                "checked": record.checked,
                "result": record.result,
                "checked_at": checked_at.isoformat(),
                "checked_by": record.checked_by,
                "evidence": record.evidence,
                "note": record.note,
                "status": action.status,
            },
        )
        action_changed(uow, action)
        uow.commit()
        return to_read(action)
