"""What one push round works on: an `Item` per entity, built from its due outbox rows.

An action's postmortem and incident are built too (its parents), even with no
row of their own: the action's issue links to the parent's, so the parent
must exist in Jira first, and its key is read from its item.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import Action, Incident, Postmortem

from . import outbox
from .connect import SyncContext
from .mapping import ENTITY_TYPES, EntityType, desired_fields
from .models import TrackerLink

EntityRef = tuple[str, int]


@dataclass(frozen=True)
class RowRef:
    """One due outbox row, as read when the round started."""

    entity_type: str
    entity_id: int
    row_id: int
    attempts: int


@dataclass(eq=False)
class Item:
    """One entity to push, with everything needed to do it without the ORM session."""

    entity_type: EntityType
    entity_id: int
    entity_key: str
    label: str
    issue_type: str
    desired: dict[str, Any]
    agreed: dict[str, Any]
    issue_key: str | None
    link_id: int
    parent: tuple[EntityType, int] | None
    row_ids: list[int] = field(default_factory=list)
    attempts: int = 0  # failed attempts so far (the most of its rows'): sets the back-off
    outcome: str | None = None  # done | dead | deferred | waiting | settling (None: open)
    error: str | None = None
    fresh: bool = False  # created in this round: still in its workflow's initial status
    # A create of ours whose answer was lost, and when (from `TrackerLink`); and how long a
    # "settling" item waits for the search index before its label is searched for again.
    create_unconfirmed_at: datetime | None = None
    wait_until: datetime | None = None

    @property
    def ref(self) -> EntityRef:
        return self.entity_type, self.entity_id


def load_entity(
    session: Session, entity_type: str, entity_id: int
) -> Incident | Postmortem | Action | None:
    if entity_type == "incident":
        return session.get(Incident, entity_id)
    if entity_type == "postmortem":
        return session.get(Postmortem, entity_id)
    if entity_type == "action":
        return session.get(Action, entity_id)
    return None


_CHUNK = 500  # ids per IN list: far below every database's limit on bound parameters


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


def _preload(
    session: Session, refs: list[EntityRef]
) -> tuple[dict[EntityRef, TrackerLink], list[object]]:
    """Load the round's entities, their parents and their links in a few set-wise queries.

    Why: a round over a backlog (a storm, an outage that ended) builds hundreds of items;
    one `get` plus lazy parent loads plus a link query per entity made a round cost a few
    round trips per entity, and every retried round paid it again. Loaded objects sit in the
    session's identity map, so `load_entity` and the parents' relationships cost no query;
    the map holds objects weakly, so the caller keeps the returned list alive meanwhile.
    """
    loaded: list[object] = []
    ids: dict[str, set[int]] = {"incident": set(), "postmortem": set(), "action": set()}
    for entity_type, entity_id in refs:
        if entity_type in ids:
            ids[entity_type].add(entity_id)
    have: dict[str, set[int]] = {"incident": set(), "postmortem": set()}  # loaded as parents

    def parents(incident: Incident) -> None:
        ids["incident"].add(incident.id)
        have["incident"].add(incident.id)
        if incident.postmortem is not None:
            ids["postmortem"].add(incident.postmortem.id)
            have["postmortem"].add(incident.postmortem.id)

    for chunk in _chunks(sorted(ids["action"])):
        for action in session.scalars(
            select(Action)
            .where(Action.id.in_(chunk))
            .options(selectinload(Action.incident).selectinload(Incident.postmortem))
        ):
            loaded.append(action)
            parents(action.incident)
    for chunk in _chunks(sorted(ids["postmortem"] - have["postmortem"])):
        for pm in session.scalars(
            select(Postmortem)
            .where(Postmortem.id.in_(chunk))
            .options(selectinload(Postmortem.incident).selectinload(Incident.postmortem))
        ):
            loaded.append(pm)
            parents(pm.incident)
    for chunk in _chunks(sorted(ids["incident"] - have["incident"])):
        loaded += session.scalars(
            select(Incident)
            .where(Incident.id.in_(chunk))
            .options(selectinload(Incident.postmortem))
        ).all()
    return _links(session, ids), loaded


def _links(session: Session, ids: dict[str, set[int]]) -> dict[EntityRef, TrackerLink]:
    """The tracker links of the given entities, by type, a chunk of ids per query."""
    links: dict[EntityRef, TrackerLink] = {}
    for entity_type, wanted in ids.items():
        for chunk in _chunks(sorted(wanted)):
            for link in session.scalars(
                select(TrackerLink).where(
                    TrackerLink.entity_type == entity_type, TrackerLink.entity_id.in_(chunk)
                )
            ):
                links[(entity_type, link.entity_id)] = link
    return links


def build_items(session: Session, ctx: SyncContext, rows: list[RowRef]) -> dict[EntityRef, Item]:
    """Items for the rows' entities and their parents; rows of vanished entities are done."""
    rows_by_entity: dict[EntityRef, list[RowRef]] = {}
    for row in rows:
        rows_by_entity.setdefault((row.entity_type, row.entity_id), []).append(row)
    links, _loaded = _preload(session, list(rows_by_entity))
    items: dict[EntityRef, Item] = {}
    wanted = list(rows_by_entity)
    seen: set[EntityRef] = set()
    while wanted:
        ref = wanted.pop()
        if ref in seen:
            continue
        seen.add(ref)
        own = rows_by_entity.get(ref, [])
        entity = load_entity(session, *ref)
        if entity is None or ref[0] not in ENTITY_TYPES:
            outbox.mark(session, [r.row_id for r in own], outbox.DONE, "entity no longer exists")
            continue
        if isinstance(entity, Action) and entity.tracker_deleted:
            outbox.mark(
                session,
                [r.row_id for r in own],
                outbox.DONE,
                "the Jira issue was deleted; not re-created",
            )
            continue
        item = _item(session, ctx, entity, ref[0], own, links.get(ref))  # type: ignore[arg-type]
        items[ref] = item
        wanted.extend(_parents(entity))
    return items


def _parents(entity: Incident | Postmortem | Action) -> list[EntityRef]:
    if isinstance(entity, Action):
        pm = entity.incident.postmortem
        return [("incident", entity.incident_id)] + ([("postmortem", pm.id)] if pm else [])
    if isinstance(entity, Postmortem):
        return [("incident", entity.incident_id)]
    return []


def _parent(entity: Incident | Postmortem | Action) -> tuple[EntityType, int] | None:
    """The issue this entity's issue links to (or is a sub-task of)."""
    if isinstance(entity, Action):
        pm = entity.incident.postmortem
        return ("postmortem", pm.id) if pm else ("incident", entity.incident_id)
    if isinstance(entity, Postmortem):
        return ("incident", entity.incident_id)
    return None


def _item(
    session: Session,
    ctx: SyncContext,
    entity: Incident | Postmortem | Action,
    entity_type: EntityType,
    rows: list[RowRef],
    link: TrackerLink | None,
) -> Item:
    mapping = ctx.mapping
    key = entity.incident.key if isinstance(entity, Postmortem) else entity.key
    label = mapping.entity_label(entity_type, key or f"{entity_type}-{entity.id}")
    if link is None:
        link = TrackerLink(
            entity_type=entity_type,
            entity_id=entity.id,
            entity_key=key or "",
            label=label,
            fields={},
            versions={},
        )
        session.add(link)
        session.flush()
    desired = desired_fields(mapping, ctx.catalog, ctx.flavour, entity_type, entity)
    return Item(
        entity_type,
        entity.id,
        key or "",
        label,
        mapping.issue_types[entity_type],
        desired,
        dict(link.fields or {}),
        link.issue_key,
        link.id,
        _parent(entity),
        row_ids=[r.row_id for r in rows],
        attempts=max((r.attempts for r in rows), default=0),
        create_unconfirmed_at=link.create_unconfirmed_at,
    )
