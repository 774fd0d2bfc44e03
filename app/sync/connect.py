"""Building the tracker for this process, and remembering facts about the site.

RQ forks a fresh work horse per job, so a per-process cache of the client is
not enough to avoid asking Jira "are you Cloud?" and "who am I?" on every job:
the answers are kept in `sync_state`, keyed by the Jira URL, and asked once.

Everything here is handed its values (database, settings, mapping, catalog);
the services tier, which owns the runtime, decides where they come from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.catalog import Catalog
from app.db import Database
from app.settings import Settings

from . import state
from .local import LocalTracker
from .mapping import JiraMapping
from .tracker import Flavour, Tracker, UserRef

SITE_KEY = "jira.site"


@dataclass
class SyncContext:
    """What a push, a reconcile or a check needs; built once per job."""

    db: Database
    settings: Settings
    mapping: JiraMapping
    catalog: Catalog
    tracker: Tracker
    me: UserRef

    @property
    def flavour(self) -> Flavour:
        return self.tracker.flavour

    def close(self) -> None:
        self.tracker.close()


def cached_site(db: Database, jira_url: str | None) -> dict[str, Any] | None:
    with db.sessions() as session:
        site = state.get_json(session, SITE_KEY)
    if isinstance(site, dict) and site.get("url") == jira_url:
        return site
    return None


def cached_identity(db: Database, jira_url: str | None) -> UserRef | None:
    """Hindsight's own Jira account, if a push or check has asked Jira before."""
    site = cached_site(db, jira_url)
    return UserRef(**site["me"]) if site else None


def _remember(db: Database, jira_url: str | None, tracker: Tracker) -> dict[str, Any]:
    info, me = tracker.server_info(), tracker.myself()
    site = {
        "url": jira_url,
        "flavour": info.flavour,
        "version": info.version,
        "me": {
            "account_id": me.account_id,
            "name": me.name,
            "key": me.key,
            "display_name": me.display_name,
        },
    }
    with db.sessions() as session, session.begin():
        state.set_json(session, SITE_KEY, site)
    return site


def make_tracker(settings: Settings, mapping: JiraMapping, flavour: Flavour | None) -> Tracker:
    if not settings.jira_enabled:
        return LocalTracker(mapping.project or "LOCAL")
    # The Jira adapter (and the jira library) is loaded only when Jira is configured.
    from .jira import JiraTracker

    assert settings.jira_url and mapping.project
    return JiraTracker(
        settings.jira_url,
        mapping.project,
        user=settings.jira_user,
        token=settings.jira_token,
        auth=settings.jira_auth,
        timeout=settings.jira_timeout_seconds,
        flavour=flavour,
        custom_ids=[cf.field for cf in mapping.custom_fields],
    )


def open_context(
    db: Database,
    settings: Settings,
    mapping: JiraMapping,
    catalog: Catalog,
    *,
    refresh: bool = False,
) -> SyncContext:
    """A connected tracker and what goes with it; asks Jira about itself at most once."""
    site = None if refresh else cached_site(db, settings.jira_url)
    tracker = make_tracker(settings, mapping, site["flavour"] if site else None)
    if settings.jira_enabled and site is None:
        try:
            site = _remember(db, settings.jira_url, tracker)
        except Exception:
            tracker.close()
            raise
    me = UserRef(**site["me"]) if site else tracker.myself()
    return SyncContext(db, settings, mapping, catalog, tracker, me)
