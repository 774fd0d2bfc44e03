"""/api/v1/incidents and the analysis under them."""

from __future__ import annotations

from typing import Literal

from flask import Response
from pydantic import BaseModel, Field

from app.domain.people import Principal
from app.domain.vocabulary import Scope
from app.runtime import current
from app.schemas.actions import ActionCreate, ActionQuery, ActionRead
from app.schemas.analysis import (
    CauseCreate,
    CauseRead,
    CauseUpdate,
    EvidenceCreate,
    EvidenceRead,
    ParticipantCreate,
    ParticipantRead,
    TimelineEventCreate,
    TimelineEventRead,
    TimelineEventUpdate,
)
from app.schemas.common import Input, Page
from app.schemas.incidents import (
    IncidentCreate,
    IncidentQuery,
    IncidentRead,
    IncidentReopen,
    IncidentUpdate,
)
from app.schemas.postmortems import PostmortemRead, PostmortemUpdate
from app.schemas.reviews import ReviewRead
from app.services import actions as action_service
from app.services import analysis, closing, workflow
from app.services import incidents as incident_service
from app.services import postmortems as postmortem_service

from .framework import ApiBlueprint

bp = ApiBlueprint("incidents", __name__, url_prefix="/api/v1/incidents")


@bp.op("GET", "", summary="List incidents", query=IncidentQuery, response=Page[IncidentRead])
def list_incidents(query: IncidentQuery) -> Page[IncidentRead]:
    return incident_service.list_incidents(current(), query)


@bp.op(
    "POST",
    "",
    summary="Create an incident",
    scope=Scope.WRITE,
    body=IncidentCreate,
    response=IncidentRead,
    status=201,
)
def create_incident(body: IncidentCreate, actor: Principal) -> IncidentRead:
    return incident_service.create_incident(current(), body, actor.actor)


@bp.op("GET", "/<key>", summary="Read an incident", response=IncidentRead)
def get_incident(key: str) -> IncidentRead:
    return incident_service.get_incident(current(), key)


@bp.op(
    "PATCH",
    "/<key>",
    summary="Change an incident",
    scope=Scope.WRITE,
    body=IncidentUpdate,
    response=IncidentRead,
)
def update_incident(key: str, body: IncidentUpdate, actor: Principal) -> IncidentRead:
    return incident_service.update_incident(current(), key, body, actor.actor)


@bp.op(
    "POST",
    "/<key>/reopen",
    summary="Reopen a resolved or closed incident with a reason: clears its resolution and "
    "close times, puts its postmortem back to draft, notes it on the timeline (audited)",
    scope=Scope.WRITE,
    body=IncidentReopen,
    response=IncidentRead,
)
def reopen_incident(key: str, body: IncidentReopen, actor: Principal) -> IncidentRead:
    return workflow.reopen_incident(current(), key=key, data=body, actor=actor.actor)


def _register_part(
    name: str,
    part: analysis.Part,
    create: type[BaseModel],
    update: type[BaseModel] | None,
    read: type[BaseModel],
) -> None:
    """Timeline, evidence, participants and causes share list/add/change/remove endpoints."""

    def list_view(key: str) -> list[BaseModel]:
        return analysis.list_parts(current(), key, part)

    def add_view(key: str, body: BaseModel, actor: Principal) -> BaseModel:
        return analysis.add_part(current(), key, part, body, actor.actor)

    def update_view(key: str, part_id: int, body: BaseModel, actor: Principal) -> BaseModel:
        return analysis.update_part(current(), key, part, part_id, body, actor.actor)

    def delete_view(key: str, part_id: int, actor: Principal) -> None:
        analysis.delete_part(current(), key, part, part_id, actor.actor)

    for view, verb in (
        (list_view, "list"),
        (add_view, "add"),
        (update_view, "update"),
        (delete_view, "delete"),
    ):
        view.__name__ = f"{verb}_{name}"
    label = name.replace("_", " ")
    bp.op("GET", f"/<key>/{name}", summary=f"List {label}", response=list[read])(list_view)  # type: ignore[valid-type]
    bp.op(
        "POST",
        f"/<key>/{name}",
        summary=f"Add to {label}",
        scope=Scope.WRITE,
        body=create,
        response=read,
        status=201,
    )(add_view)
    if update is not None:
        bp.op(
            "PATCH",
            f"/<key>/{name}/<id:part_id>",
            summary=f"Change one of {label}",
            scope=Scope.WRITE,
            body=update,
            response=read,
        )(update_view)
    bp.op(
        "DELETE",
        f"/<key>/{name}/<id:part_id>",
        summary=f"Remove one of {label}",
        scope=Scope.WRITE,
        status=204,
    )(delete_view)


_register_part(
    "timeline", analysis.TIMELINE, TimelineEventCreate, TimelineEventUpdate, TimelineEventRead
)
_register_part("evidence", analysis.EVIDENCE, EvidenceCreate, None, EvidenceRead)
_register_part("participants", analysis.PARTICIPANT, ParticipantCreate, None, ParticipantRead)
_register_part("causes", analysis.CAUSE, CauseCreate, CauseUpdate, CauseRead)


@bp.op("GET", "/<key>/actions", summary="List an incident's actions", response=list[ActionRead])
def list_incident_actions(key: str) -> list[ActionRead]:
    return action_service.list_actions(current(), ActionQuery(incident=key, limit=500)).items


@bp.op(
    "POST",
    "/<key>/actions",
    summary="Add an improvement action",
    scope=Scope.WRITE,
    body=ActionCreate,
    response=ActionRead,
    status=201,
)
def create_action(key: str, body: ActionCreate, actor: Principal) -> ActionRead:
    return action_service.create_action(current(), key, body, actor.actor)


class PostmortemFormat(Input):
    format: Literal["json", "md", "html"] = "json"
    redact: Literal["roles"] | None = Field(
        default=None, description="'roles': every personal name replaced by its role, for sharing"
    )


@bp.op(
    "GET",
    "/<key>/postmortem",
    summary="The postmortem as JSON, Markdown or HTML",
    query=PostmortemFormat,
    response=postmortem_service.PostmortemDocument,
    produces=("application/json", "text/markdown", "text/html"),
)
def get_postmortem(key: str, query: PostmortemFormat) -> object:
    doc = postmortem_service.get_document(current(), key, redact=query.redact == "roles")
    if query.format == "json":
        return doc
    mimetype = "text/markdown" if query.format == "md" else "text/html"
    return Response(postmortem_service.render(doc, query.format), mimetype=mimetype)


@bp.op(
    "PATCH",
    "/<key>/postmortem",
    summary="Edit (or start) the postmortem; status 'published' passes the rules gate",
    scope=Scope.WRITE,
    body=PostmortemUpdate,
    response=PostmortemRead,
)
def update_postmortem(key: str, body: PostmortemUpdate, actor: Principal) -> PostmortemRead:
    return postmortem_service.update_postmortem(current(), key, body, actor.actor)


@bp.op(
    "GET",
    "/<key>/postmortem/review",
    summary="The review prepared at the close: timings, facilitator, due date, participants",
    response=ReviewRead,
)
def get_review(key: str) -> ReviewRead:
    return closing.get_review(current(), key)


@bp.op(
    "GET",
    "/<key>/postmortem/invitation.ics",
    summary="The review's calendar invitation (iCalendar, METHOD:REQUEST)",
    produces=("text/calendar",),
)
def get_invitation(key: str) -> Response:
    body = closing.get_invitation(current(), key)
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{key}-review.ics"'},
    )
