"""Building the tracker for this process, and remembering facts about the site.

RQ forks a fresh work horse per job, so a per-process cache of the client is
not enough to avoid asking Jira "are you Cloud?" and "who am I?" on every job:
the answers are kept in `sync_state`, keyed by the Jira URL, and asked once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.catalog import Catalog, load_catalog
from app.runtime import Runtime

from . import state
from .mapping import JiraMapping, load_mapping
from .tracker import Flavour, Tracker, UserRef

SITE_KEY = "jira.site"


@dataclass
class SyncContext:
    """What every sync entry point needs; built once per job."""

    runtime: Runtime
    mapping: JiraMapping
    catalog: Catalog
    tracker: Tracker
    me: UserRef

    @property
    def flavour(self) -> Flavour:
        return self.tracker.flavour

    def close(self) -> None:
        self.tracker.close()


def cached_site(runtime: Runtime) -> dict[str, Any] | None:
    with runtime.db.sessions() as session:
        site = state.get_json(session, SITE_KEY)
    if isinstance(site, dict) and site.get("url") == runtime.settings.jira_url:
        return site
    return None


def _remember(runtime: Runtime, tracker: Tracker) -> dict[str, Any]:
    info, me = tracker.server_info(), tracker.myself()
    site = {"url": runtime.settings.jira_url, "flavour": info.flavour, "version": info.version,
            "me": {"account_id": me.account_id, "name": me.name, "key": me.key,
                   "display_name": me.display_name}}
    with runtime.db.sessions() as session, session.begin():
        state.set_json(session, SITE_KEY, site)
    return site


def make_tracker(runtime: Runtime, mapping: JiraMapping, flavour: Flavour | None) -> Tracker:
    settings = runtime.settings
    if not settings.jira_enabled:
        from .local import LocalTracker

        return LocalTracker(mapping.project or "LOCAL")
    from .jira import JiraTracker

    assert settings.jira_url and mapping.project
    return JiraTracker(
        settings.jira_url, mapping.project, user=settings.jira_user, token=settings.jira_token,
        auth=settings.jira_auth, timeout=settings.jira_timeout_seconds, flavour=flavour,
        custom_ids=[cf.field for cf in mapping.custom_fields],
    )


def open_context(runtime: Runtime, *, refresh: bool = False) -> SyncContext:
    """The mapping, catalog and a connected tracker; asks Jira about itself at most once."""
    settings = runtime.settings
    mapping = load_mapping(settings.config_dir, settings.jira_project)
    catalog = load_catalog(settings.config_dir)
    site = None if refresh else cached_site(runtime)
    tracker = make_tracker(runtime, mapping, site["flavour"] if site else None)
    if settings.jira_enabled and site is None:
        try:
            site = _remember(runtime, tracker)
        except Exception:
            tracker.close()
            raise
    me = UserRef(**site["me"]) if site else tracker.myself()
    return SyncContext(runtime, mapping, catalog, tracker, me)


def cached_identity(runtime: Runtime) -> UserRef | None:
    """Hindsight's own Jira account, if a push or check has asked Jira before."""
    site = cached_site(runtime)
    return UserRef(**site["me"]) if site else None
