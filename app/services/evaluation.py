"""Evaluate an incident against the policy, apply what the policy changes, store findings.

The rules package is pure (views in, findings and proposed changes out);
this service is the use case around it: it reads the incident, asks the
rules, writes their changes through the same action and audit writers every
other use case uses, and replaces the stored findings.

Called by the `evaluate_job` after every write (in-process on the
embedded default, on the RQ `rules` queue with Redis), by POST .../evaluate,
by `hindsight evaluate`, and by the publish gate (dry run, no writes).

Concurrency: evaluations of one incident are serialised by locking its row
first (FOR UPDATE on PostgreSQL; on SQLite a no-op UPDATE takes the write
lock), so two workers never both create a compliance action or interleave
their finding replacement. Evaluation's own writes (owner, due date, score,
compliance actions) are audited and sent to the tracker outbox but never
call `incident_changed`, so an evaluation cannot re-trigger itself.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, text
from sqlalchemy.orm import Session

from app import audit
from app.db import JobRequest, UnitOfWork
from app.domain.vocabulary import ActionStatus
from app.models import Action, Finding, Incident, PendingEvaluation, Waiver, utcnow
from app.models.base import UTCDateTime
from app.rules.evaluate import blockers, engine_for, evaluate
from app.rules.model import Change, Context, FindingDraft, Outcome
from app.rules.policy import Policy
from app.rules.snapshot import to_view
from app.runtime import Runtime, current
from app.schemas.actions import ActionCreate
from app.search.index import documents_of, reindex_incident
from app.settings import Settings

from .common import load_incident
from .records import add_action
from .tracker_sync import record_change

log = logging.getLogger(__name__)
ACTOR = "rules"
MAX_PASSES = 3


def warm_up(runtime: Runtime) -> Policy:
    """Validate policy and catalog and compile the rules: called at start (API and worker).

    A bad file must stop the process before it serves anything, not fail the
    first evaluation job. (A forked RQ work horse re-registers the rulesets on
    its first evaluation, as the engine requires after fork; that costs ~2 ms.)
    """
    runtime.catalog  # noqa: B018  (parsing it is the check)
    engine_for(runtime.policy)
    return runtime.policy


def context(runtime: Runtime, now: datetime | None = None) -> Context:
    return Context(runtime.policy, runtime.catalog, now or runtime.clock())


# One statement both backends accept (SQLite >= 3.24, PostgreSQL), built once: this runs
# inside every write, so it must cost next to nothing.
_REQUEST = text(
    "INSERT INTO pending_evaluations (incident_id, requested_at) "
    "VALUES (:incident_id, :requested_at) "
    "ON CONFLICT (incident_id) DO UPDATE SET requested_at = excluded.requested_at"
).bindparams(bindparam("requested_at", type_=UTCDateTime()))


def request_evaluation(uow: UnitOfWork, incident_id: int) -> None:
    """Ask for a fresh evaluation after this transaction commits.

    The request is a row written with the change (so it survives a lost job or
    a restart: the sweep re-dispatches it) and a job with one id per incident
    (so a burst of writes queues one evaluation, not one per write).
    """
    uow.session.execute(_REQUEST, {"incident_id": incident_id, "requested_at": utcnow()})
    uow.after_commit(evaluation_job(incident_id))


def evaluation_job(incident_id: int) -> JobRequest:
    return JobRequest(evaluate_job, (incident_id,), f"rules-incident-{incident_id}", "rules")


def pending_evaluations(session: Session, older_than: datetime, limit: int = 500) -> list[int]:
    """Incidents still waiting for an evaluation requested before `older_than`, for the sweep."""
    return list(
        session.scalars(
            select(PendingEvaluation.incident_id)
            .where(PendingEvaluation.requested_at <= older_than)
            .order_by(PendingEvaluation.requested_at)
            .limit(limit)
        )
    )


def evaluate_and_store(
    runtime: Runtime, incident_id: int, *, now: datetime | None = None
) -> Outcome | None:
    """The job body: evaluate, apply the policy's own changes, replace the findings.

    The policy runs first on a plain read, holding no lock, because it is the
    expensive part and SQLite has one writer: a write lock held through it would
    stall every request. The findings are then stored under the incident's lock
    only if no write has landed since the read (every write moves the incident's
    pending-evaluation stamp). If one has, or the policy wants to change data,
    the evaluation runs again under the lock, as it always did.
    """
    ctx = context(runtime, now)
    with runtime.db.sessions() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            log.info("incident %s is gone; nothing to evaluate", incident_id)
            return None
        seen = _stamp(session, incident_id)
        outcome = dry_run(session, incident, ctx)
        docs = documents_of(incident)  # what the view was built from: read once
    with runtime.uow() as uow:
        if not _lock(uow.session, incident_id):
            return None
        stamp = _stamp(uow.session, incident_id)
        if outcome.changes or stamp != seen:
            locked = lock_incident(uow.session, incident_id)
            assert locked is not None  # held since _lock: it cannot have gone
            outcome = evaluate_in_session(uow, locked, ctx, runtime.settings)
            # The knowledge base follows every write with the evaluation, not inside the
            # request: a search may lag a write by the background queue's delay, no more.
            reindex_incident(uow.session, incident_id)
        else:
            # Nothing landed since the read (every write moves the stamp): the findings and
            # the search documents of that read are current.
            store_findings(uow.session, incident, outcome.findings)
            reindex_incident(uow.session, incident_id, docs)
        if stamp is not None:
            # Cleared only up to what this evaluation saw: a later write keeps its request.
            uow.session.execute(
                delete(PendingEvaluation).where(
                    PendingEvaluation.incident_id == incident_id,
                    PendingEvaluation.requested_at <= stamp,
                )
            )
        uow.commit()
        return outcome


def _stamp(session: Session, incident_id: int) -> datetime | None:
    return session.scalar(
        select(PendingEvaluation.requested_at).where(PendingEvaluation.incident_id == incident_id)
    )


def _lock(session: Session, incident_id: int) -> bool:
    """`lock_incident` without loading the row: False when the incident is gone."""
    if session.get_bind().dialect.name == "sqlite":
        result = session.execute(_SQLITE_LOCK, {"id": incident_id})
        return bool(result.rowcount)  # type: ignore[attr-defined]
    locked = session.scalar(
        select(Incident.id).where(Incident.id == incident_id).with_for_update(key_share=True)
    )
    return locked is not None


_SQLITE_LOCK = text("UPDATE incidents SET title = title WHERE id = :id")


def lock_incident(session: Session, incident_id: int) -> Incident | None:
    if session.get_bind().dialect.name == "sqlite":
        session.execute(_SQLITE_LOCK, {"id": incident_id})
        return session.get(Incident, incident_id, populate_existing=True)
    # FOR NO KEY UPDATE: a write to this incident inserting rows that refer to it (its
    # pending evaluation, a timeline event) takes KEY SHARE for the foreign key, which
    # FOR UPDATE would block while this evaluation waits for the audit head that write
    # holds (a deadlock; tests/integration/test_lock_order.py).
    return session.scalar(
        select(Incident)
        .where(Incident.id == incident_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )


def evaluate_in_session(
    uow: UnitOfWork, incident: Incident, ctx: Context, settings: Settings
) -> Outcome:
    """Evaluate until the policy's own changes settle (normally one or two passes)."""
    outcome = Outcome()
    for _ in range(MAX_PASSES):
        outcome = dry_run(uow.session, incident, ctx)
        if not outcome.changes:
            break
        apply_changes(uow, incident, outcome.changes, settings)
        uow.session.flush()
        uow.session.expire(incident)
    else:
        outcome = dry_run(uow.session, incident, ctx)
        if outcome.changes:
            log.warning("%s: policy changes did not settle in %d passes", incident.key, MAX_PASSES)
    store_findings(uow.session, incident, outcome.findings)
    return outcome


def dry_run(session: Session, incident: Incident, ctx: Context) -> Outcome:
    """Findings and planned changes for the incident as the session sees it; writes nothing."""
    view = to_view(session, incident, window_days=ctx.policy.scoring.window_days, now=ctx.now)
    return evaluate([view], ctx)[view.key]


def waived_fingerprints(session: Session, incident: Incident, now: datetime) -> set[str]:
    """Waivers still in force at `now`: a lapsed waiver blocks again."""
    return set(
        session.scalars(
            select(Waiver.fingerprint).where(
                Waiver.incident_id == incident.id,
                (Waiver.expires_at.is_(None)) | (Waiver.expires_at > now),
            )
        )
    )


def publish_blockers(runtime: Runtime, session: Session, incident: Incident) -> list[FindingDraft]:
    """Fresh, unwaived blockers for the publish gate, judged on the session's pending state."""
    outcome = dry_run(session, incident, context(runtime))
    return blockers(outcome.findings, waived_fingerprints(session, incident, runtime.clock()))


def blocker_report(
    session: Session, incident: Incident, drafts: list[FindingDraft]
) -> list[dict[str, Any]]:
    """The 409 body: each blocker, with the stored finding id to waive it by (when stored)."""
    ids = {
        fingerprint: finding_id
        for fingerprint, finding_id in session.execute(
            select(Finding.fingerprint, Finding.id).where(Finding.incident_id == incident.id)
        )
    }
    return [
        {"id": ids.get(d.fingerprint), "fingerprint": d.fingerprint, **_columns(d)} for d in drafts
    ]


def apply_changes(
    uow: UnitOfWork, incident: Incident, changes: list[Change], settings: Settings
) -> None:
    _lock_actions(uow.session, incident.id)
    by_key = {a.key: a for a in incident.actions}
    for change in changes:
        action: Action | None
        if change.rule == "compliance.create_action":
            action = _create_compliance_action(uow.session, incident, change)
        else:
            action = by_key.get(change.entity_key)
            if action is None or not _update_action(uow.session, action, change):
                continue
        record_change(uow, settings, "action", action.id, action.key or "")


def _lock_actions(session: Session, incident_id: int) -> None:
    """Every action of the incident, locked before the first audit entry takes the head.

    A move holds its action's row and then wants the audit head; an evaluation that
    audited one change (holding the head) and then updated a second action held by
    such a move would wait on it forever (PostgreSQL aborts one: a 500). Taking the
    rows first puts every writer in one order: row, then head. SQLite has one writer.
    """
    if session.get_bind().dialect.name != "sqlite":
        session.execute(
            select(Action.id)
            .where(Action.incident_id == incident_id)
            .order_by(Action.id)
            .with_for_update(key_share=True)
        )


def _update_action(session: Session, action: Action, change: Change) -> bool:
    before = {k: getattr(action, k) for k in change.values}
    after = {k: v for k, v in change.values.items() if v is not None and before[k] != v}
    if not after:
        return False
    for name, value in after.items():
        setattr(action, name, value)
    audit.record(
        session,
        actor=ACTOR,
        action=change.rule,
        entity_type="action",
        entity_key=action.key or "",
        before={k: _plain(before[k]) for k in after},
        after={**{k: _plain(v) for k, v in after.items()}, "reason": change.reason},
    )
    return True


def _create_compliance_action(session: Session, incident: Incident, change: Change) -> Action:
    values = {k: v for k, v in change.values.items() if k != "is_compliance"}
    action = add_action(
        session, incident, ActionCreate(**values), actor=ACTOR, status=ActionStatus.OPEN
    )
    audit.record(
        session,
        actor=ACTOR,
        action=change.rule,
        entity_type="action",
        entity_key=action.key or "",
        after={"compliance_rule": action.compliance_rule, "reason": change.reason},
    )
    return action


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def store_findings(session: Session, incident: Incident, findings: list[FindingDraft]) -> None:
    """Replace the incident's findings in the caller's transaction, keeping rows that did not
    change, so finding ids (which waivers are requested by) stay stable across evaluations."""
    wanted: dict[str, FindingDraft] = {}
    for draft in findings:
        wanted.setdefault(draft.fingerprint, draft)
    rows = session.scalars(
        select(Finding).where(Finding.incident_id == incident.id).order_by(Finding.id)
    ).all()
    kept: set[str] = set()
    for row in rows:
        current = wanted.get(row.fingerprint)
        if current is None or row.fingerprint in kept:
            session.delete(row)
            continue
        kept.add(row.fingerprint)
        for name, value in _columns(current).items():
            if getattr(row, name) != value:
                setattr(row, name, value)
    new = [
        {"incident_id": incident.id, "fingerprint": fingerprint, **_columns(draft)}
        for fingerprint, draft in wanted.items()
        if fingerprint not in kept
    ]
    if new:
        # One executemany for the new rows (nothing reads their ids here): the ORM's
        # unit of work sent one INSERT ... RETURNING per finding on SQLite.
        session.execute(insert(Finding), new)


def _columns(draft: FindingDraft) -> dict[str, Any]:
    return {
        "rule": draft.rule,
        "severity": draft.severity,
        "entity_type": draft.entity_type,
        "entity_key": draft.entity_key,
        "message": draft.message,
        "suggestion": draft.suggestion,
        "details": draft.details,
    }


def evaluate_key(runtime: Runtime, key: str) -> Outcome:
    """Synchronous evaluation by incident key (API and CLI)."""
    with runtime.db.sessions() as session:
        incident_id = load_incident(session, key).id
    outcome = evaluate_and_store(runtime, incident_id)
    assert outcome is not None
    return outcome


def evaluate_job(incident_id: int) -> None:
    """The job: ids in, the process's runtime, one evaluation (queue `rules`)."""
    evaluate_and_store(current(), incident_id)


def redispatch_pending(runtime: Runtime, *, grace_seconds: float) -> int:
    """The sweep's part: evaluations requested over `grace_seconds` ago whose job was lost."""
    older_than = utcnow() - timedelta(seconds=grace_seconds)
    with runtime.db.sessions() as session:
        ids = pending_evaluations(session, older_than)
    if ids:
        runtime.queue.dispatch([evaluation_job(i) for i in ids])
    return len(ids)
