"""Names replaced by roles, for postmortems and archives shared outside the team.

A blameless postmortem is about the system, so a reader outside the team needs
to know *what role* acted, never *who*. The redactor knows every name this
incident can carry: its participants (their role in the incident first), the
postmortem's facilitator, the action owners and the catalog's people, team leads
and directors (with their emails and Jira user names, the other ways people get
written). It then replaces each one wherever it appears: in the person fields
and inside free text, whole words only, full names before their parts, so
"Maya Okafor paged Daniel" reads "the incident commander paged a responder".

It walks plain JSON-shaped values (dicts, lists, strings), so every view (JSON,
Markdown, HTML, archive files) is redacted from the same data and no field is
forgotten when a new one is added.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from app.catalog import Catalog
from app.models import Incident

ROLE_PHRASES = {
    "incident_commander": "the incident commander",
    "facilitator": "the facilitator",
    "subject_matter_expert": "a subject-matter expert",
    "business_stakeholder": "a business stakeholder",
    "communications": "the communications lead",
    "customer_support": "a customer support engineer",
    "responder": "a responder",
}
MIN_PART = 3  # a single given name or surname shorter than this is too likely a word


class Redactor:
    """Replaces each known name by its role phrase, whole words only.

    Full names, emails and user names match in any case; a given name or surname
    alone matches only as written in the name (capitalised), so "Grant" the person
    goes but "grant access" stays.
    """

    def __init__(self, roles: dict[str, str]) -> None:
        self.whole: dict[str, str] = {}
        for name, phrase in roles.items():
            if name.strip():
                self.whole.setdefault(name.strip().lower(), phrase)
        self.parts: dict[str, str] = {}
        for name, phrase in roles.items():
            for part in re.split(r"[\s.]+", name.strip()):
                if len(part) >= MIN_PART and part.lower() not in self.whole:
                    self.parts.setdefault(part, phrase)
        self._whole = _pattern(self.whole, re.IGNORECASE)
        self._parts = _pattern(self.parts, 0)

    def text(self, value: str) -> str:
        for pattern, table, fold in (
            (self._whole, self.whole, True),
            (self._parts, self.parts, False),
        ):
            if pattern is not None:
                value = _swap(pattern, table, fold, value)
        return value

    def walk(self, value: Any) -> Any:
        """The same JSON-shaped value with every string redacted (keys left as they are)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.walk(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.walk(v) for v in value]
        return value


def _pattern(table: dict[str, str], flags: int) -> re.Pattern[str] | None:
    if not table:
        return None
    alternation = "|".join(re.escape(n) for n in sorted(table, key=len, reverse=True))
    return re.compile(rf"(?<![\w@.])(?:{alternation})(?![\w@])", flags)


def _swap(pattern: re.Pattern[str], table: dict[str, str], fold: bool, value: str) -> str:
    def one(match: re.Match[str]) -> str:
        found = match.group(0)
        phrase = table[found.lower() if fold else found]
        before = value[: match.start()].rstrip()
        starts_sentence = not before or before[-1] in ".!?\n"
        return phrase[0].upper() + phrase[1:] if starts_sentence else phrase

    return pattern.sub(one, value)


def _catalog_roles(catalog: Catalog, services: Iterable[str]) -> dict[str, str]:
    owning = {s.team for name in services if (s := catalog.service(name))}
    roles: dict[str, str] = {}
    for team in catalog.teams:
        roles.setdefault(team.lead, f"the {team.name} team lead")
        if team.director:
            roles.setdefault(team.director, "a director")
    for person in catalog.people:
        if person.facilitator:
            phrase = "a facilitator"
        elif person.team in owning:
            phrase = "a service owner"
        else:
            phrase = f"a member of the {person.team} team"
        for alias in (person.name, person.email, person.jira_username):
            if alias:
                roles.setdefault(alias, phrase)
    return roles


def for_incident(incident: Incident, catalog: Catalog) -> Redactor:
    """Every name this incident can carry, each mapped to the role it played here first."""
    roles: dict[str, str] = {}
    for participant in incident.participants:
        if participant.name:
            roles.setdefault(participant.name, ROLE_PHRASES.get(participant.role, "a participant"))
    if incident.postmortem is not None and incident.postmortem.facilitator:
        roles.setdefault(incident.postmortem.facilitator, "the facilitator")
    catalog_roles = _catalog_roles(catalog, incident.services or [])
    for action in incident.actions:
        if action.owner and action.owner not in roles:
            person = catalog.person(action.owner)
            known = catalog_roles.get(person.name) if person else None
            roles[action.owner] = known or "an action owner"
    for name, phrase in catalog_roles.items():
        roles.setdefault(name, phrase)
    # A catalog person written as their email or user name takes their role here too.
    for person in catalog.people:
        if person.name in roles:
            for alias in (person.email, person.jira_username):
                if alias:
                    roles[alias] = roles[person.name]
    return Redactor(roles)
