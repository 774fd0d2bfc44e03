"""Status workflows, scopes and time ordering: pure rules, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.domain.transitions import (
    TransitionError,
    check_action_transition,
    check_postmortem_transition,
)
from app.domain.vocabulary import ActionStatus as S
from app.domain.vocabulary import PostmortemStatus as P
from app.domain.vocabulary import Scope
from app.schemas.incidents import TimeOrderError, check_time_order
from app.services.tokens import parse_bootstrap


@pytest.mark.parametrize(
    ("current", "new", "reason", "ok"),
    [
        (S.OPEN, S.IN_PROGRESS, None, True),
        (S.OPEN, S.DONE, None, True),
        (S.OPEN, S.VERIFIED, None, False),
        (S.DONE, S.VERIFIED, None, True),
        (S.VERIFIED, S.OPEN, None, False),
        (S.OPEN, S.WONT_DO, None, False),
        (S.OPEN, S.WONT_DO, "  ", False),
        (S.OPEN, S.WONT_DO, "superseded by ACT-9", True),
        (S.IN_PROGRESS, S.BLOCKED, "waiting on vendor", True),
        (S.BLOCKED, S.DONE, None, False),
        (S.DONE, S.DONE, None, True),
    ],
)
def test_action_transitions(current: S, new: S, reason: str | None, ok: bool) -> None:
    if ok:
        check_action_transition(current, new, reason)
    else:
        with pytest.raises(TransitionError):
            check_action_transition(current, new, reason)


def test_published_postmortem_can_only_reopen_for_review() -> None:
    check_postmortem_transition(P.PUBLISHED, P.IN_REVIEW)
    with pytest.raises(TransitionError):
        check_postmortem_transition(P.PUBLISHED, P.DRAFT)


def test_scope_order() -> None:
    assert Scope.ADMIN.grants(Scope.WRITE) and Scope.WRITE.grants(Scope.READ)
    assert not Scope.READ.grants(Scope.WRITE) and not Scope.WRITE.grants(Scope.ADMIN)


def test_time_order_names_the_offending_field() -> None:
    t = datetime(2026, 1, 1, 10, tzinfo=UTC)
    check_time_order({"started_at": t, "resolved_at": t})
    with pytest.raises(TimeOrderError) as err:
        check_time_order({"started_at": t, "detected_at": t.replace(hour=9)})
    assert err.value.field == "detected_at"


def test_bootstrap_tokens_parse_and_reject_short_secrets() -> None:
    tokens = parse_bootstrap("bot:write+admin:abcdefghijklmnop, ro:read:0123456789abcdef")
    assert {p.person for p in tokens.values()} == {"bot", "ro"}
    assert next(p for p in tokens.values() if p.person == "bot").can(Scope.ADMIN)
    with pytest.raises(ValueError):
        parse_bootstrap("bot:write:short")


@pytest.mark.parametrize("spec", ["justaname", "bot:root:abcdefghijklmnop", "bot:read:"])
def test_bad_bootstrap_tokens_stop_the_app(spec: str) -> None:
    from app import create_app
    from app.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="HINDSIGHT_API_TOKENS"):
        create_app(Settings(database_url="sqlite://", api_tokens=spec))
