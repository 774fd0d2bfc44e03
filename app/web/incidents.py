"""The incidents list (filters and the knowledge-base search box) and the new-incident form."""

from __future__ import annotations

import re
from typing import Any

from flask import Response, redirect, render_template, request, url_for
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict

from app.domain.errors import DomainError
from app.domain.vocabulary import IncidentStatus, RegulatoryFlag, Scope, Severity
from app.runtime import current
from app.schemas.incidents import IncidentCreate, IncidentQuery
from app.schemas.search import SearchQuery
from app.services import incidents as incident_service
from app.services.search import search_incidents

from . import bp
from .auth import needs, person
from .forms import FormErrors, FormSpec, from_domain, read

FILTERS = ("status", "severity", "service", "team", "since", "until")
_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")
INCIDENT_FORM = FormSpec(
    lines=("services", "tags"),
    multi=("regulatory",),
    times=("started_at", "detected_at", "resolved_at"),
    nested={"impact": ("customers", "sla_minutes", "revenue", "data")},
    ints=("impact.customers", "impact.sla_minutes"),
    numbers=("impact.revenue",),
)


def day(value: str | None) -> str | None:
    """A date input (YYYY-MM-DD) as the start of that day in UTC, as the API's filters take."""
    if value and _DATE.match(value.strip()):
        return value.strip() + "T00:00:00Z"
    return value or None


def team_services(team: str) -> set[str]:
    return {s.name for s in current().catalog.services if s.team == team}


def _query(args: MultiDict[str, str], limit: int) -> IncidentQuery:
    values: dict[str, Any] = {k: args[k] for k in ("status", "severity", "service") if args.get(k)}
    for name in ("since", "until"):
        if args.get(name):
            values[name] = day(args[name])
    return read(
        IncidentQuery, MultiDict({**values, "limit": str(limit)}), FormSpec(ints=("limit",))
    )


def snippet(text: str) -> Markup:
    """Search snippets mark hits with <mark>; everything else in them is shown as text."""
    parts = re.split(r"(</?mark>)", text)
    out = []
    for part in parts:
        out.append(Markup(part) if part in ("<mark>", "</mark>") else escape(part))
    return Markup("").join(out)


@bp.route("/incidents")
def incidents() -> str:
    args = request.args
    errors: dict[str, str] = {}
    page: Any = None
    found: Any = None
    team = args.get("team") or None
    try:
        query = _query(args, 500 if team else 100)
        page = incident_service.list_incidents(current(), query)
        if team:
            owned = team_services(team)
            page.items = [i for i in page.items if owned & set(i.services)][:100]
        if args.get("q", "").strip():
            search = read(SearchQuery, MultiDict({"q": args["q"]}))
            found = search_incidents(current(), search)
    except FormErrors as exc:
        errors = exc.errors
    except DomainError as exc:
        errors = from_domain(exc).errors
    return render_template(
        "web/incidents.html.j2",
        page=page,
        found=found,
        errors=errors,
        args=args,
        statuses=list(IncidentStatus),
        severities=list(Severity),
        teams=[t.name for t in current().catalog.teams],
        services=sorted({s.name for s in current().catalog.services}),
        snippet=snippet,
    )


@bp.route("/incidents/new", methods=["GET", "POST"])
@needs(Scope.WRITE)
def new_incident() -> Any:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        try:
            data = read(IncidentCreate, request.form, INCIDENT_FORM)
            created = incident_service.create_incident(current(), data, person().actor)
            return redirect(url_for("web.workspace", key=created.key))
        except FormErrors as exc:
            errors, values, status = exc.errors, exc.values, 422
        except DomainError as exc:
            errors, values, status = from_domain(exc).errors, dict(request.form), 422
    html = render_template(
        "web/new_incident.html.j2",
        errors=errors,
        values=values,
        severities=list(Severity),
        statuses=list(IncidentStatus),
        regulatory=list(RegulatoryFlag),
    )
    return Response(html, status=status, mimetype="text/html")
