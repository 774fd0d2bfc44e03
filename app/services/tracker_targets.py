"""What a person's change in Jira may do to each mirrored entity, through its own writers.

`tracker_apply` compares Jira with what both sides last agreed on, field by
field, for every kind of issue alike; a `Target` is the entity end of it:

* an action takes status (`records.set_status`, along a path its workflow
  allows), assignee (owner), due date and priority;
* a postmortem takes status (`postmortems.move_postmortem`: publishing goes
  through the rules gate, exactly as PATCH does), assignee (facilitator) and
  due date (review due);
* an incident takes status (`check_incident_transition`; a resolve opens the
  postmortem and prepares the review as every close does). It has no owner or
  due date to take, and its priority follows its severity.

A move the workflow or a gate refuses raises `Refused`: `tracker_apply`
records it (audit `<entity>.sync_in_refused`) and forces nothing. Going back
from resolved is a reopen, which needs a reason a status drag does not carry.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from app import audit
from app.db import UnitOfWork
from app.domain.errors import Conflict
from app.domain.transitions import (
    TransitionError,
    check_action_transition,
    check_incident_transition,
    check_postmortem_transition,
)
from app.domain.vocabulary import ActionStatus, IncidentStatus, PostmortemStatus
from app.models import Action, Incident, Postmortem
from app.schemas.incidents import TIME_FIELDS, TimeOrderError, check_time_order
from app.sync.mapping import INBOUND_FIELDS, EntityType
from app.sync.tracker import RemoteState

from . import closing
from .changes import evaluate_later
from .common import load_incident, snapshot
from .incidents import open_postmortem
from .postmortems import move_postmortem
from .records import set_status

SOURCE = "jira"  # the source of status changes made from Jira
_CLOSED = {IncidentStatus.RESOLVED, IncidentStatus.CLOSED}


class Refused(Exception):
    """A change from Jira that Hindsight's workflow or a gate does not allow."""

    def __init__(self, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message, self.extra = message, extra or {}


@dataclass
class Target:
    """One mirrored entity as inbound sync sees it."""

    entity_type: EntityType
    entity: Any  # Action | Postmortem | Incident
    columns: dict[str, str]

    @property
    def fields(self) -> tuple[str, ...]:
        return INBOUND_FIELDS[self.entity_type]

    @property
    def key(self) -> str:
        return self.incident.key or "" if self.entity_type == "postmortem" else self.entity.key

    @property
    def incident(self) -> Incident:
        return self.entity if isinstance(self.entity, Incident) else self.entity.incident

    def current(self, name: str) -> Any:
        return self.entity.status if name == "status" else getattr(self.entity, self.columns[name])

    def set_value(self, name: str, value: Any) -> None:
        setattr(self.entity, self.columns[name], value)

    def snapshot(self) -> dict[str, Any]:
        return snapshot(self.entity)

    def move(self, uow: UnitOfWork, new: str, reason: str, who: str, when: datetime) -> None:
        raise NotImplementedError

    def record(self, uow: UnitOfWork, before: dict[str, Any], when: datetime, who: str) -> None:
        """Audit what changed and re-run the rules on the new values."""
        after = self.snapshot()
        changed = {k: after[k] for k in after if before.get(k) != after.get(k)}
        audit.record(
            uow.session,
            actor=who,
            action=f"{self.entity_type}.sync_in",
            entity_type=self.entity_type,
            entity_key=self.key,
            before={k: before.get(k) for k in changed},
            after={**changed, "tracker_key": self.entity.tracker_key},
        )
        evaluate_later(uow, self.incident.id)

    def refused(self, uow: UnitOfWork, name: str, value: Any, exc: Refused, who: str) -> None:
        audit.record(
            uow.session,
            actor=who,
            action=f"{self.entity_type}.sync_in_refused",
            entity_type=self.entity_type,
            entity_key=self.key,
            before={name: self.current(name)},
            after={
                "wanted": {name: str(value)},
                "refused": exc.message,
                "tracker_key": self.entity.tracker_key,
                **exc.extra,
            },
        )


class ActionTarget(Target):
    def move(self, uow: UnitOfWork, new: str, reason: str, who: str, when: datetime) -> None:
        """Jira allows jumps Hindsight's workflow does not (Won't Do -> Done): walk a path.
        Jira cannot carry a validation record, so a status mapped to verified lands on done."""
        action: Action = self.entity
        wanted = ActionStatus(new)
        if wanted == ActionStatus.VERIFIED:
            wanted = ActionStatus.DONE
        for step in status_path(ActionStatus(action.status), wanted):
            set_status(uow.session, action, step, reason, actor=who, source=SOURCE)

    def record(self, uow: UnitOfWork, before: dict[str, Any], when: datetime, who: str) -> None:
        action: Action = self.entity
        action.last_activity_at = datetime.now(UTC)
        if action.tracker_updated_at is None or action.tracker_updated_at < when:
            action.tracker_updated_at = when
        super().record(uow, before, when, who)


class PostmortemTarget(Target):
    def move(self, uow: UnitOfWork, new: str, reason: str, who: str, when: datetime) -> None:
        """Along the workflow (published -> in_review -> draft); publishing is judged by the
        rules gate on this transaction's state, as PATCH judges it."""
        pm: Postmortem = self.entity
        steps = _path(
            PostmortemStatus(pm.status), PostmortemStatus(new), check_postmortem_transition
        )
        for step in steps:
            try:
                move_postmortem(uow.session, pm.incident, pm, step)
            except Conflict as exc:
                raise Refused(exc.detail, _blockers(exc.extra)) from None


class IncidentTarget(Target):
    def move(self, uow: UnitOfWork, new: str, reason: str, who: str, when: datetime) -> None:
        """A live incident moves freely; resolving it in Jira closes it as every source does
        (times stamped when missing, the postmortem opened, the review prepared)."""
        incident: Incident = self.entity
        wanted = IncidentStatus(new)
        try:
            check_incident_transition(IncidentStatus(incident.status), wanted)
        except TransitionError as exc:
            url = f"/api/v1/incidents/{incident.key}/reopen"
            raise Refused(str(exc).replace("/api/v1/incidents/{key}/reopen", url)) from None
        incident.status = wanted.value
        if wanted in _CLOSED:
            _stamp(incident, wanted, when)
            open_postmortem(uow.session, incident)
            closing.prepare_review(uow, incident, actor=who)


def _stamp(incident: Incident, status: IncidentStatus, when: datetime) -> None:
    """The close time Jira gives, where Hindsight has none and the order of times allows."""
    names = ["resolved_at"] + (["closed_at"] if status == IncidentStatus.CLOSED else [])
    for name in names:
        if getattr(incident, name) is not None:
            continue
        setattr(incident, name, when)
        try:
            check_time_order({f: getattr(incident, f) for f in TIME_FIELDS})
        except TimeOrderError:
            setattr(incident, name, None)


def _blockers(extra: dict[str, Any] | None) -> dict[str, Any]:
    """The blocking findings of a refused publish, as the audit entry names them."""
    found = (extra or {}).get("blockers") or []
    return {"blockers": [{"rule": b.get("rule"), "message": b.get("message")} for b in found]}


def target_for(session: Session, entity_type: str, entity_id: int) -> Target | None:
    """The entity a tracker link mirrors, ready to take Jira's values. A postmortem or an
    incident is written under its incident's row lock, as PATCH writes it."""
    if entity_type == "action":
        action = session.get(Action, entity_id)
        if action is None:
            return None
        return ActionTarget(
            "action", action, {"assignee": "owner", "duedate": "due_date", "priority": "priority"}
        )
    entity: Incident | Postmortem | None = None
    if entity_type == "incident":
        entity = session.get(Incident, entity_id)
    elif entity_type == "postmortem":
        entity = session.get(Postmortem, entity_id)
    if entity is None:
        return None
    key = entity.key if isinstance(entity, Incident) else entity.incident.key
    incident = load_incident(session, key or "", lock=True)
    if entity_type == "incident":
        return IncidentTarget("incident", incident, {})
    if incident.postmortem is None:
        return None
    return PostmortemTarget(
        "postmortem", incident.postmortem, {"assignee": "facilitator", "duedate": "review_due"}
    )


# -- paths through a workflow -------------------------------------------------------------------


def _path(current: Any, target: Any, check: Callable[[Any, Any], None]) -> list[Any]:
    """Shortest chain of allowed transitions between members of one status enum
    (breadth-first); unreachable: the target alone, so the writer explains why."""
    if current == target:
        return []
    queue: deque[tuple[Any, list[Any]]] = deque([(current, [])])
    seen = {current}
    while queue:
        here, path = queue.popleft()
        for nxt in type(current):
            if nxt in seen:
                continue
            try:
                check(here, nxt)
            except TransitionError:
                continue
            if nxt == target:
                return [*path, nxt]
            seen.add(nxt)
            queue.append((nxt, [*path, nxt]))
    return [target]


def status_path(current: ActionStatus, target: ActionStatus) -> list[ActionStatus]:
    """An action's shortest path (a reason is given for every step made from Jira)."""
    return _path(current, target, lambda a, b: check_action_transition(a, b, "via Jira"))


def same_status(target_category: str, target_resolution: str | None, remote: RemoteState) -> bool:
    """Done and verified (resolved and closed) look alike in Jira: not a change."""
    return target_category == remote.status_category and (target_resolution or None) == (
        remote.resolution or None
    )
