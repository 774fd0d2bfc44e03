"""A 401 or 403 in the background drain is the connection's problem, not the rows' (issue 12).

A revoked token or a bot that lost a permission refuses every row alike: no row is
dead-lettered or charged an attempt for it; it counts towards the breaker like an
outage, `/healthz` and `hindsight sync status` name it, and once Jira accepts us again
everything arrives. On the walked clock of `test_outage`.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.cli import main
from app.models import Action, OutboxItem
from app.schemas.actions import ActionUpdate
from app.services.actions import update_action
from app.sync import outbox

from .conftest import cli_env
from .seed import seed_postmortems
from .test_faults import assert_mirrored_exactly
from .test_outage import dead_rows, drain_to_the_end, open_rows, push, setup

COOLDOWN, THRESHOLD = 120.0, 3


def _attempts(rt: object) -> int:
    with rt.db.sessions() as session:  # type: ignore[attr-defined]
        return session.scalar(select(func.max(OutboxItem.attempts))) or 0


def _strict_jira(database_url: str, request: pytest.FixtureRequest) -> Any:
    """A Jira that checks credentials on every call, and a breaker with this file's bounds."""
    return setup(
        database_url,
        request,
        jira_kwargs={"strict_auth": True},
        sync_breaker_failures=THRESHOLD,
        sync_breaker_cooldown_seconds=COOLDOWN,
    )


@pytest.mark.parametrize("fault", ["revoked-token", "forbidden"])
def test_a_401_or_403_in_the_drain_is_an_outage_not_a_dead_letter(
    database_url: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fault: str,
) -> None:
    srv, app, rt, clock = _strict_jira(database_url, request)
    seed_postmortems(rt, 1, 3)
    drain_to_the_end(rt, clock)  # Jira accepts us: the site and our identity are known
    client = app.test_client()
    cli_env(monkeypatch, rt.settings)
    assert main(["sync", "status"]) == 0
    assert "tracker:    reachable, breaker closed" in capsys.readouterr().out

    bot = srv.user(srv.credentials()[0])
    if fault == "revoked-token":
        with srv.state.lock:
            bot.token, token = "revoked", bot.token
        expected = "HTTP 401"
    else:
        rule = srv.faults.add("403", times=None)
        expected = "HTTP 403: You do not have the permission"
    seed_postmortems(rt, 2, 4, start=1)  # 12 new entities, and updates to existing issues
    with rt.db.sessions() as session:
        first = list(session.scalars(select(Action.key).order_by(Action.id).limit(2)))
    for key in first:
        update_action(rt, key, ActionUpdate(priority="P0"), "test")
    waiting = open_rows(rt)
    srv.reset_counters()
    for _ in range(60):  # ten minutes of refusals, on the walked clock
        push(rt, clock)
        clock.advance(10)

    assert dead_rows(rt) == 0, "no row is refused for good over the connection's credentials"
    assert _attempts(rt) == 0, "and no row is charged an attempt for it"
    assert open_rows(rt) == waiting
    tracker = client.get("/healthz").json["checks"]["tracker"]
    assert (tracker["breaker"], tracker["reachable"]) == ("open", False)
    assert tracker["last_error"].startswith(expected), tracker
    assert tracker["outbox_waiting"] == waiting and tracker["outbox_dead"] == 0
    assert tracker["unreachable_since"] and tracker["next_probe_at"]
    calls = srv.total_calls
    assert calls <= THRESHOLD + 600 / COOLDOWN + 2, f"the breaker bounds the calls: {srv.calls}"

    assert main(["sync", "status"]) == 0
    out = capsys.readouterr().out
    assert "tracker:    UNREACHABLE, breaker open" in out
    assert f"unreachable since: {tracker['unreachable_since']}" in out
    assert f"next probe at:     {tracker['next_probe_at']}" in out
    assert f"last error:        {expected}" in out
    assert f"outbox waiting {waiting}, dead 0" in out

    if fault == "revoked-token":  # a new token is configured... here: the old one restored
        with srv.state.lock:
            bot.token = token
    else:
        srv.faults.remove(rule)
    drain_to_the_end(rt, clock)
    assert_mirrored_exactly(rt, srv)
    with rt.db.sessions() as session:
        assert (
            session.scalar(
                select(func.count(OutboxItem.id)).where(OutboxItem.status != outbox.DONE)
            )
            == 0
        )
    assert client.get("/healthz").json["checks"]["tracker"]["breaker"] == "closed"
    assert main(["sync", "status"]) == 0
    assert "tracker:    reachable, breaker closed" in capsys.readouterr().out


def test_a_token_refused_before_hindsight_ever_reached_jira_buries_nothing(
    database_url: str, request: pytest.FixtureRequest
) -> None:
    """The drain cannot even ask Jira who Hindsight is: the rows wait, uncharged."""
    srv, app, rt, clock = _strict_jira(database_url, request)
    bot = srv.user(srv.credentials()[0])
    with srv.state.lock:
        bot.token, token = "revoked", bot.token
    seed_postmortems(rt, 1, 3)
    waiting = open_rows(rt)
    for _ in range(20):
        push(rt, clock)
        clock.advance(10)
    assert (dead_rows(rt), _attempts(rt), open_rows(rt)) == (0, 0, waiting)
    tracker = app.test_client().get("/healthz").json["checks"]["tracker"]
    assert tracker["breaker"] == "open" and tracker["last_error"].startswith("HTTP 401")
    with srv.state.lock:
        bot.token = token
    drain_to_the_end(rt, clock)
    assert_mirrored_exactly(rt, srv)
