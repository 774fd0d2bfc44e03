"""The workspace's forms: each parses into the API's model, calls the same service, and
answers with a redirect back to its section, or the page with errors beside its fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, redirect, request, url_for
from pydantic import BaseModel

from app.domain.errors import Conflict, DomainError, Forbidden, Invalid
from app.domain.vocabulary import PostmortemStatus, Scope
from app.runtime import current
from app.schemas.actions import ActionCreate, ActionUpdate
from app.schemas.analysis import (
    CauseCreate,
    CauseUpdate,
    EvidenceCreate,
    ParticipantCreate,
    TimelineEventCreate,
    TimelineEventUpdate,
)
from app.schemas.findings import WaiverCreate
from app.schemas.incidents import TIME_FIELDS, IncidentUpdate
from app.schemas.postmortems import PostmortemUpdate
from app.services import actions as action_service
from app.services import analysis
from app.services import findings as finding_service
from app.services import incidents as incident_service
from app.services import postmortems as postmortem_service
from app.services.evaluation import evaluate_key

from . import bp
from .auth import needs, person
from .forms import FormErrors, FormSpec, from_domain, read
from .workspace import render

TIMELINE = FormSpec(
    times=("at",),
    bools=("is_decision",),
    lines=("alternatives", "evidence_links"),
    keep_empty=("rationale",),
)
CAUSE = FormSpec(ints=("parent_id",), keep_empty=("why",))
ACTION = FormSpec(
    int_lists=("cause_ids",),
    keep_empty=("description", "success_criteria", "validation_method"),
)
INCIDENT = FormSpec(
    lines=("services", "tags"),
    times=TIME_FIELDS,
    nested={"impact": ("customers", "sla_minutes", "revenue", "data")},
    ints=("impact.customers", "impact.sla_minutes"),
    numbers=("impact.revenue",),
    keep_empty=("summary",),
)
SUMMARY = FormSpec(keep_empty=("summary", "impact"))
LESSON_LINES = FormSpec(lines=("went_well", "went_wrong", "lucky", "lessons"))


def submit(key: str, form: str, anchor: str, work: Callable[[], Any]) -> Response:
    """Run one form's work; on a refusal, the page again with the errors beside that form."""
    try:
        work()
    except FormErrors as exc:
        return render(key, errors={form: exc.errors}, values={form: exc.values}, status=422)
    except (Invalid, Conflict) as exc:
        failed = from_domain(exc, dict(request.form))
        return render(key, errors={form: failed.errors}, values={form: failed.values}, status=422)
    return redirect(url_for("web.workspace", key=key, _anchor=anchor))  # type: ignore[return-value]


@bp.route("/incidents/<key>/postmortem", methods=["POST"])
@needs(Scope.WRITE)
def edit_postmortem(key: str) -> Response:
    def work() -> None:
        data = read(PostmortemUpdate, request.form, SUMMARY)
        postmortem_service.update_postmortem(current(), key, data, person().actor)

    return submit(key, "summary", "summary", work)


@bp.route("/incidents/<key>/incident", methods=["POST"])
@needs(Scope.WRITE)
def edit_incident(key: str) -> Response:
    """Title, severity, status (resolving opens the postmortem), services, times, impact."""

    def work() -> None:
        data = read(IncidentUpdate, request.form, INCIDENT)
        incident_service.update_incident(current(), key, data, person().actor)

    return submit(key, "incident", "summary", work)


@bp.route("/incidents/<key>/lessons", methods=["POST"])
@needs(Scope.WRITE)
def edit_lessons(key: str) -> Response:
    def work() -> None:
        data = read(PostmortemUpdate, request.form, LESSON_LINES)
        postmortem_service.update_postmortem(current(), key, data, person().actor)

    return submit(key, "lessons", "lessons", work)


def _add_part(
    key: str, part: analysis.Part, model: type[BaseModel], spec: FormSpec, form: str
) -> Response:
    def work() -> None:
        analysis.add_part(current(), key, part, read(model, request.form, spec), person().actor)

    return submit(key, form, form.split("-")[0], work)


def _update_part(
    key: str, part: analysis.Part, part_id: int, model: type[BaseModel], spec: FormSpec, form: str
) -> Response:
    def work() -> None:
        data = read(model, request.form, spec)
        analysis.update_part(current(), key, part, part_id, data, person().actor)

    return submit(key, form, form, work)


@bp.route("/incidents/<key>/timeline", methods=["POST"])
@needs(Scope.WRITE)
def add_timeline(key: str) -> Response:
    return _add_part(key, analysis.TIMELINE, TimelineEventCreate, TIMELINE, "timeline-new")


@bp.route("/incidents/<key>/timeline/<id:event_id>", methods=["POST"])
@needs(Scope.WRITE)
def edit_timeline(key: str, event_id: int) -> Response:
    spec, form = TIMELINE, f"timeline-{event_id}"
    return _update_part(key, analysis.TIMELINE, event_id, TimelineEventUpdate, spec, form)


@bp.route("/incidents/<key>/evidence", methods=["POST"])
@needs(Scope.WRITE)
def add_evidence(key: str) -> Response:
    return _add_part(key, analysis.EVIDENCE, EvidenceCreate, FormSpec(), "evidence-new")


@bp.route("/incidents/<key>/participants", methods=["POST"])
@needs(Scope.WRITE)
def add_participant(key: str) -> Response:
    return _add_part(key, analysis.PARTICIPANT, ParticipantCreate, FormSpec(), "participants-new")


@bp.route("/incidents/<key>/causes", methods=["POST"])
@needs(Scope.WRITE)
def add_cause(key: str) -> Response:
    form = f"causes-new-{request.form.get('parent_id') or 'top'}"
    return _add_part(key, analysis.CAUSE, CauseCreate, CAUSE, form)


@bp.route("/incidents/<key>/causes/<id:cause_id>", methods=["POST"])
@needs(Scope.WRITE)
def edit_cause(key: str, cause_id: int) -> Response:
    return _update_part(key, analysis.CAUSE, cause_id, CauseUpdate, CAUSE, f"cause-{cause_id}")


@bp.route("/incidents/<key>/<any(timeline, evidence, participants, causes):part>/<id:part_id>/delete", methods=["POST"])  # fmt: skip  # noqa: E501
@needs(Scope.WRITE)
def delete_part(key: str, part: str, part_id: int) -> Response:
    parts = {
        "timeline": analysis.TIMELINE,
        "evidence": analysis.EVIDENCE,
        "participants": analysis.PARTICIPANT,
        "causes": analysis.CAUSE,
    }

    def work() -> None:
        analysis.delete_part(current(), key, parts[part], part_id, person().actor)

    return submit(key, f"{part}-delete", part, work)


@bp.route("/incidents/<key>/actions", methods=["POST"])
@needs(Scope.WRITE)
def add_action(key: str) -> Response:
    def work() -> None:
        data = read(ActionCreate, request.form, ACTION)
        action_service.create_action(current(), key, data, person().actor)

    return submit(key, "action-new", "actions", work)


@bp.route("/incidents/<key>/actions/<action_key>", methods=["POST"])
@needs(Scope.WRITE)
def edit_action(key: str, action_key: str) -> Response:
    def work() -> None:
        data = read(ActionUpdate, request.form, ACTION)
        action_service.update_action(current(), action_key, data, person().actor)

    return submit(key, f"action-{action_key}", f"action-{action_key}", work)


@bp.route("/incidents/<key>/findings/<id:finding_id>/waive", methods=["POST"])
@needs(Scope.WRITE)
def waive(key: str, finding_id: int) -> Response:
    def work() -> None:
        data = read(WaiverCreate, request.form)
        try:
            finding_service.waive(current(), key, finding_id, data.reason, person().principal)
        except Forbidden as exc:  # the waivers policy's refusal, in its words, beside the form
            raise FormErrors({"reason": exc.detail}) from None

    return submit(key, f"waive-{finding_id}", f"finding-{finding_id}", work)


@bp.route("/incidents/<key>/publish", methods=["POST"])
@needs(Scope.WRITE)
def publish(key: str) -> Response:
    """Publishing passes the same rules gate as the API; a refusal lists what still blocks."""
    update = PostmortemUpdate(status=PostmortemStatus.PUBLISHED)
    try:
        postmortem_service.update_postmortem(current(), key, update, person().actor)
    except Conflict as exc:
        blockers = exc.extra.get("blockers")
        if blockers is None:
            return render(key, errors={"publish": {"form": exc.detail}}, status=409)
        return render(key, blockers=blockers, status=409)
    target = url_for("web.workspace", key=key, message="Published.", _anchor="publish")
    return redirect(target)  # type: ignore[return-value]


@bp.route("/incidents/<key>/evaluate", methods=["POST"])
@needs(Scope.WRITE)
def evaluate(key: str) -> Response:
    try:
        evaluate_key(current(), key)
    except DomainError as exc:
        return render(key, errors={"publish": {"form": exc.detail}}, status=409)
    return redirect(url_for("web.workspace", key=key, _anchor="findings"))  # type: ignore[return-value]
