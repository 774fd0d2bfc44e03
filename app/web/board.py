"""The action board: my actions, my team's, overdue and escalated; status changes inline."""

from __future__ import annotations

from typing import Any

from flask import Response, redirect, render_template, request, url_for

from app.domain.errors import Conflict, Invalid
from app.domain.vocabulary import ActionStatus, Scope
from app.runtime import current
from app.schemas.actions import ActionQuery, ActionRead, ActionUpdate
from app.services import actions as action_service

from . import bp
from .auth import needs, person
from .forms import FormErrors, from_domain, read


def _open(query: ActionQuery) -> list[ActionRead]:
    return [
        a for a in action_service.list_actions(current(), query).items if not a.status.is_closed
    ]


def columns() -> dict[str, list[ActionRead]]:
    """Each list from the same query the API answers; 'mine' matches the owner as written
    (display name or username), since owners are people's names, not account ids."""
    me = person()
    rt = current()
    everyone = action_service.list_actions(rt, ActionQuery(limit=500)).items
    names = {me.display_name.lower(), me.username.lower()}
    mine = [a for a in everyone if (a.owner or "").lower() in names]
    team = _open(ActionQuery(team=me.team, limit=500)) if me.team else []
    overdue = _open(ActionQuery(overdue=True, limit=500))
    escalated = [a for a in everyone if a.escalation_level > 0 and not a.status.is_closed]
    return {"mine": mine, "team": team, "overdue": overdue, "escalated": escalated}


def render_board(errors: dict[str, dict[str, str]] | None = None, status: int = 200) -> Response:
    html = render_template(
        "web/board.html.j2",
        columns=columns(),
        errors=errors or {},
        statuses=list(ActionStatus),
        titles={
            "mine": "My actions",
            "team": "My team's open actions",
            "overdue": "Overdue",
            "escalated": "Escalated",
        },
    )
    return Response(html, status=status, mimetype="text/html")


@bp.route("/board")
def board() -> Response:
    return render_board()


@bp.route("/actions/<action_key>/status", methods=["POST"])
@needs(Scope.WRITE)
def change_status(action_key: str) -> Any:
    try:
        data = read(ActionUpdate, request.form)
        action_service.update_action(current(), action_key, data, person().actor)
    except FormErrors as exc:
        return render_board({action_key: exc.errors}, 422)
    except (Invalid, Conflict) as exc:
        return render_board({action_key: from_domain(exc).errors}, 422)
    return redirect(url_for("web.board", _anchor=f"board-{action_key}"))
