"""Row-level writers the use cases share: inside the caller's transaction, no commit, no jobs.

Kept apart from `actions.py` (the use cases) so that the evaluation service,
which adds compliance actions, and the tracker sync, which moves status, can
use the same writers without importing the module that dispatches jobs.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from app import audit
from app.domain.errors import Conflict, field_error
from app.domain.transitions import TransitionError, check_action_transition
from app.domain.vocabulary import ActionStatus
from app.models import Action, ActionStatusChange, Cause, Incident
from app.schemas.actions import ActionCreate

from .common import snapshot


def causes_of(session: Session, incident: Incident, ids: list[int]) -> list[Cause]:
    causes = []
    for i, cause_id in enumerate(ids):
        cause = session.get(Cause, cause_id)
        if cause is None or cause.incident_id != incident.id:
            raise field_error(["body", "cause_ids", i], f"{incident.key} has no cause {cause_id}")
        causes.append(cause)
    return causes


def add_action(
    session: Session,
    incident: Incident,
    data: ActionCreate,
    *,
    actor: str,
    status: ActionStatus = ActionStatus.OPEN,
    status_reason: str | None = None,
) -> Action:
    """Insert inside the caller's transaction (used by the API and the importer)."""
    causes = causes_of(session, incident, data.cause_ids)
    values = data.model_dump(exclude={"cause_ids"})
    action = Action(
        **values,
        incident=incident,
        status=status.value,
        status_reason=status_reason,
        is_compliance=data.compliance_rule is not None,
    )
    action.causes = causes
    session.add(action)
    session.flush()
    action.key = f"ACT-{action.id}"
    action.history.append(
        ActionStatusChange(
            from_status=None, to_status=status.value, actor=actor, reason=status_reason
        )
    )
    if status.is_closed:
        action.completed_at = datetime.now(UTC)
    audit.record(
        session,
        actor=actor,
        action="action.create",
        entity_type="action",
        entity_key=action.key,
        after={**snapshot(action), "cause_ids": data.cause_ids},
    )
    return action


def set_status(
    session: Session,
    action: Action,
    new: ActionStatus,
    reason: str | None,
    *,
    actor: str,
    source: str = "api",
    validated: bool = False,
) -> None:
    """The one place status moves, so history, timestamps and checks never drift apart.

    `verified` is reached only with `validated` (a passing validation record is
    being written with it: `app/services/validations.py`), never by a bare write.
    """
    current = ActionStatus(action.status)
    try:
        check_action_transition(current, new, reason)
    except TransitionError as exc:
        raise Conflict(str(exc)) from None
    if current == new:
        return
    if new == ActionStatus.VERIFIED and not validated:
        url = f"/api/v1/actions/{action.key}/validations"
        raise Conflict(
            f"{action.key} is verified by evidence, not by a status change: record the check "
            f"with POST {url} (checked, result pass, evidence link)",
            extra={"validations": url},
        )
    now = datetime.now(UTC)
    action.history.append(
        ActionStatusChange(
            from_status=current.value,
            to_status=new.value,
            reason=reason,
            actor=actor,
            source=source,
        )
    )
    action.status, action.status_reason = new.value, reason
    action.completed_at = (
        now
        if new in {ActionStatus.DONE, ActionStatus.WONT_DO}
        else (action.completed_at if new == ActionStatus.VERIFIED else None)
    )
    action.verified_at = now if new == ActionStatus.VERIFIED else None
