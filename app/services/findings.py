"""Reading findings, waiving them, and the publish gate; evaluation itself lives in app.rules."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit
from app.domain.errors import Conflict, NotFound
from app.models import Finding, Incident, Waiver
from app.runtime import Runtime
from app.schemas.findings import FindingRead

from .common import load_incident


def findings_for(session: Session, incident: Incident) -> list[FindingRead]:
    waivers = {
        w.fingerprint: w
        for w in session.scalars(select(Waiver).where(Waiver.incident_id == incident.id))
    }
    out = []
    for f in session.scalars(
        select(Finding).where(Finding.incident_id == incident.id).order_by(Finding.id)
    ):
        out.append(_read(f, waivers.get(f.fingerprint)))
    return out


def _read(finding: Finding, waiver: Waiver | None) -> FindingRead:
    read = FindingRead.model_validate(finding)
    if waiver is None:
        return read
    return read.model_copy(
        update={"waived": True, "waiver_reason": waiver.reason, "waived_by": waiver.waived_by}
    )


def list_findings(runtime: Runtime, key: str) -> list[FindingRead]:
    with runtime.db.sessions() as session:
        return findings_for(session, load_incident(session, key))


def _finding(session: Session, incident: Incident, finding_id: int) -> Finding:
    finding = session.get(Finding, finding_id)
    if finding is None or finding.incident_id != incident.id:
        raise NotFound(
            f"{incident.key} has no finding {finding_id}; findings are replaced on re-evaluation, "
            "so list them again"
        )
    return finding


def waive(runtime: Runtime, key: str, finding_id: int, reason: str, actor: str) -> FindingRead:
    """A waiver is keyed by fingerprint, so it outlives the finding row across re-evaluations."""
    with runtime.uow() as uow:
        incident = load_incident(uow.session, key)
        finding = _finding(uow.session, incident, finding_id)
        existing = uow.session.scalar(
            select(Waiver).where(
                Waiver.incident_id == incident.id, Waiver.fingerprint == finding.fingerprint
            )
        )
        if existing is not None:
            raise Conflict(f"finding {finding_id} was already waived by {existing.waived_by}")
        waiver = Waiver(
            incident_id=incident.id,
            fingerprint=finding.fingerprint,
            rule=finding.rule,
            reason=reason,
            waived_by=actor,
        )
        uow.session.add(waiver)
        audit.record(
            uow.session,
            actor=actor,
            action="finding.waive",
            entity_type="finding",
            entity_key=f"{incident.key}/{finding.rule}",
            after={
                "fingerprint": finding.fingerprint,
                "rule": finding.rule,
                "severity": finding.severity,
                "entity": finding.entity_key,
                "message": finding.message,
                "reason": reason,
            },
        )
        try:
            uow.commit()
        except IntegrityError:
            raise Conflict(f"finding {finding_id} was waived concurrently") from None
        return _read(finding, waiver)


def unwaive(runtime: Runtime, key: str, finding_id: int, actor: str) -> None:
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
        audit.record(
            uow.session,
            actor=actor,
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
        uow.commit()
