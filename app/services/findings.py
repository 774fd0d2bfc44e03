"""Reading findings and the publish gate; evaluation itself lives in app.rules."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Finding, Incident, Waiver
from app.schemas.findings import FindingRead


def findings_for(session: Session, incident: Incident) -> list[FindingRead]:
    waivers = {
        w.fingerprint: w
        for w in session.scalars(select(Waiver).where(Waiver.incident_id == incident.id))
    }
    out = []
    for f in session.scalars(
        select(Finding).where(Finding.incident_id == incident.id).order_by(Finding.id)
    ):
        read = FindingRead.model_validate(f)
        if (w := waivers.get(f.fingerprint)) is not None:
            read = read.model_copy(
                update={"waived": True, "waiver_reason": w.reason, "waived_by": w.waived_by}
            )
        out.append(read)
    return out


def unwaived_blockers(session: Session, incident: Incident) -> list[FindingRead]:
    return [f for f in findings_for(session, incident) if f.severity == "blocker" and not f.waived]
