"""Reading findings, waiving them, and the publish gate; evaluation itself lives in app.rules.

Waiving is a decision, so it is a permission (`waivers:` in policy.yaml: by
default the incident's facilitator or an admin, regulatory findings admins
only), always with a reason, optionally until a date after which the waiver
lapses and the finding counts again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit
from app.domain.errors import Conflict, Forbidden, NotFound, field_error
from app.domain.people import Principal
from app.domain.vocabulary import ParticipantRole
from app.models import Action, Finding, Incident, Waiver
from app.rules.permissions import waiver_refusal
from app.runtime import Runtime
from app.schemas.findings import FindingRead

from .common import load_incident


def findings_for(session: Session, incident: Incident, now: datetime) -> list[FindingRead]:
    waivers = {
        w.fingerprint: w
        for w in session.scalars(select(Waiver).where(Waiver.incident_id == incident.id))
    }
    out = []
    for f in session.scalars(
        select(Finding).where(Finding.incident_id == incident.id).order_by(Finding.id)
    ):
        out.append(_read(f, waivers.get(f.fingerprint), now))
    return out


def _read(finding: Finding, waiver: Waiver | None, now: datetime) -> FindingRead:
    read = FindingRead.model_validate(finding)
    if waiver is None:
        return read
    lapsed = waiver.expires_at is not None and waiver.expires_at <= now
    return read.model_copy(
        update={
            "waived": not lapsed,
            "waiver_lapsed": lapsed,
            "waiver_reason": waiver.reason,
            "waived_by": waiver.waived_by,
            "waiver_expires_at": waiver.expires_at,
        }
    )


def list_findings(runtime: Runtime, key: str) -> list[FindingRead]:
    with runtime.db.sessions() as session:
        return findings_for(session, load_incident(session, key), runtime.clock())


def _finding(session: Session, incident: Incident, finding_id: int) -> Finding:
    finding = session.get(Finding, finding_id)
    if finding is None or finding.incident_id != incident.id:
        raise NotFound(
            f"{incident.key} has no finding {finding_id}; findings are replaced on re-evaluation, "
            "so list them again"
        )
    return finding


def facilitators(incident: Incident) -> list[str]:
    """The postmortem's facilitator and any participant recorded in that role."""
    names = [incident.postmortem.facilitator] if incident.postmortem else []
    names += [
        p.name
        for p in incident.participants
        if p.role == ParticipantRole.FACILITATOR.value and p.name
    ]
    return [n for n in names if n]


def _check_expiry(runtime: Runtime, expires_at: datetime | None, now: datetime) -> None:
    if expires_at is not None and expires_at <= now:
        raise field_error(["body", "expires_at"], "must be in the future")
    cap = runtime.policy.waivers.max_days
    if cap is not None and (expires_at is None or expires_at > now + timedelta(days=cap)):
        raise field_error(
            ["body", "expires_at"], f"policy (waivers.max_days) wants an expiry within {cap} days"
        )


def _check_may_waive(
    runtime: Runtime,
    incident: Incident,
    finding: Finding,
    principal: Principal,
    deciders: list[str],
) -> None:
    refusal = waiver_refusal(
        runtime.policy.waivers,
        rule=finding.rule,
        principal=principal,
        facilitators=deciders,
        catalog=runtime.catalog,
    )
    if refusal:
        raise Forbidden(refusal)


def _audit_waiver(
    session: Session, incident: Incident, finding: Finding, waiver: Waiver, principal: Principal
) -> None:
    audit.record(
        session,
        actor=principal.actor,
        action="finding.waive",
        entity_type="finding",
        entity_key=f"{incident.key}/{finding.rule}",
        after={
            "fingerprint": finding.fingerprint,
            "rule": finding.rule,
            "severity": finding.severity,
            "entity": finding.entity_key,
            "message": finding.message,
            "reason": waiver.reason,
            "expires_at": waiver.expires_at.isoformat() if waiver.expires_at else None,
            "via": principal.via,
        },
    )


def waive(
    runtime: Runtime,
    key: str,
    finding_id: int,
    reason: str,
    principal: Principal,
    *,
    expires_at: datetime | None = None,
) -> FindingRead:
    """A waiver is keyed by fingerprint, so it outlives the finding row across re-evaluations."""
    now = runtime.clock()
    _check_expiry(runtime, expires_at, now)
    with runtime.uow() as uow:
        incident = load_incident(uow.session, key)
        finding = _finding(uow.session, incident, finding_id)
        _check_may_waive(runtime, incident, finding, principal, facilitators(incident))
        existing = uow.session.scalar(
            select(Waiver).where(
                Waiver.incident_id == incident.id, Waiver.fingerprint == finding.fingerprint
            )
        )
        if existing is not None:
            if existing.expires_at is None or existing.expires_at > now:
                raise Conflict(f"finding {finding_id} was already waived by {existing.waived_by}")
            uow.session.delete(existing)  # a lapsed waiver: this one replaces it
            uow.session.flush()
        waiver = Waiver(
            incident_id=incident.id,
            fingerprint=finding.fingerprint,
            rule=finding.rule,
            reason=reason,
            waived_by=principal.actor,
            expires_at=expires_at,
            created_at=now,
        )
        uow.session.add(waiver)
        _audit_waiver(uow.session, incident, finding, waiver, principal)
        try:
            uow.commit()
        except IntegrityError:
            raise Conflict(f"finding {finding_id} was waived concurrently") from None
        return _read(finding, waiver, now)


def unwaive(runtime: Runtime, key: str, finding_id: int, principal: Principal) -> None:
    """Withdrawing a waiver is the same decision as giving one: the same people may."""
    with runtime.uow() as uow:
        incident = load_incident(uow.session, key)
        finding = _finding(uow.session, incident, finding_id)
        waiver = uow.session.scalar(
            select(Waiver).where(
                Waiver.incident_id == incident.id, Waiver.fingerprint == finding.fingerprint
            )
        )
        if waiver is None:
            raise NotFound(f"finding {finding_id} is not waived")
        _check_may_waive(
            runtime, incident, finding, principal, [*facilitators(incident), waiver.waived_by]
        )
        audit.record(
            uow.session,
            actor=principal.actor,
            action="finding.unwaive",
            entity_type="finding",
            entity_key=f"{incident.key}/{finding.rule}",
            before={
                "fingerprint": waiver.fingerprint,
                "reason": waiver.reason,
                "waived_by": waiver.waived_by,
            },
        )
        uow.session.delete(waiver)
        # A waiver may have been holding a ladder back: its actions are looked at again.
        uow.session.execute(
            update(Action)
            .where(Action.incident_id == incident.id, Action.follow_up_at.is_not(None))
            .values(follow_up_at=None, updated_at=Action.updated_at)
            .execution_options(synchronize_session=False)
        )
        uow.commit()
