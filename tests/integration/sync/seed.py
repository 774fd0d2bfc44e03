"""Writing incidents, postmortems and actions through the real service layer.

Shared by the sync tests and `bench/sync.py`. With `notify=True` each
incident is one unit of work that also writes its outbox rows (exactly what
the API does), so what gets pushed is what production would push.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml

from app.catalog import load_catalog
from app.domain.vocabulary import ActionType
from app.runtime import Runtime
from app.schemas.actions import ActionCreate
from app.schemas.incidents import IncidentCreate
from app.services import changes
from app.services.incidents import add_incident
from app.services.records import add_action
from tests.jira_server import UserSpec

CONFIG_DIR = Path(__file__).resolve().parents[3] / "config"
OWNERS = [p.name for p in load_catalog(CONFIG_DIR).people if p.jira_account_id][:8]


def catalog_users() -> list[UserSpec]:
    """The fake Jira's users are the catalog's people, with the catalog's Jira ids."""
    people = yaml.safe_load((CONFIG_DIR / "catalog.yaml").read_text())["people"]
    return [
        UserSpec(p["jira_username"], p["name"], email=p["email"], account_id=p["jira_account_id"])
        for p in people
    ]


def incident_data(n: int, *, status: str = "resolved") -> IncidentCreate:
    start = datetime(2024, 3, 1, 9, 0, tzinfo=UTC) + timedelta(hours=n)
    return IncidentCreate.model_validate(
        {
            "title": f"Checkout errors #{n}",
            "severity": "SEV2",
            "status": status,
            "summary": "Payments failed for some customers.",
            "services": ["checkout"],
            "started_at": start,
            "detected_at": start + timedelta(minutes=4),
            "resolved_at": start + timedelta(hours=1) if status == "resolved" else None,
        }
    )


def action_data(n: int) -> ActionCreate:
    return ActionCreate(
        title=f"Alert on payment error rate ({n})",
        type=ActionType.DETECT,
        owner=OWNERS[n % len(OWNERS)],
        due_date=date(2030, 1, 1) + timedelta(days=n % 300),
        priority=["P0", "P1", "P2", "P3"][n % 4],  # type: ignore[arg-type]
        success_criteria="An alert fires within 5 minutes.",
        description="Page the on-call.",
    )


def seed_postmortems(
    rt: Runtime, postmortems: int, actions_each: int, *, notify: bool = True, start: int = 0
) -> list[str]:
    """`postmortems` resolved incidents, each with a draft postmortem and its actions."""
    keys: list[str] = []
    for p in range(start, start + postmortems):
        with rt.uow() as uow:
            incident = add_incident(uow.session, incident_data(p), actor="seed")
            for a in range(actions_each):
                action = add_action(
                    uow.session, incident, action_data(p * actions_each + a), actor="seed"
                )
                if notify:
                    changes.action_changed(uow, action)
            if notify and incident.postmortem is not None:
                uow.session.flush()
                changes.postmortem_changed(uow, incident.postmortem)
            uow.commit()
            keys.append(incident.key or "")
    return keys
