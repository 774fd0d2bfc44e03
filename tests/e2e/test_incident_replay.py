"""A whole incident from each source, end to end, and every delivery replayed twice.

Real processes and sockets: `hindsight serve` and an RQ worker (`hindsight worker`) on
PostgreSQL or SQLite and Redis, the Jira test server on a socket (Hindsight mirrors the
postmortems into it, and its webhooks carry the Jira-run incident), a local SMTP server
and a Slack-compatible webhook receiver (the postmortem's announcement goes out through
the notification outbox), the deliveries signed the way each source signs them from the
payloads in its documentation.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import icalendar
import pytest
import requests
import sqlalchemy as sa

from tests.conftest import ADMIN_TOKEN, BOOTSTRAP
from tests.e2e import sources
from tests.e2e.conftest import ROOT, free_port, hindsight, wait_http
from tests.e2e.test_service_and_worker import poll
from tests.integration.receivers import SmtpReceiver, WebhookReceiver
from tests.integration.sync.seed import catalog_users
from tests.jira_server import JiraTestServer
from tests.jira_server.model import ManualClock

pytestmark = pytest.mark.slow
HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PUBLIC_URL = "https://hindsight.example.com"
JIRA_START = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
EXPECTED = {  # source -> (timings in minutes, first and last timeline kinds)
    "pagerduty": {"detect": 0, "acknowledge": 8, "mitigate": None, "resolve": 75},
    "opsgenie": {"detect": 0, "acknowledge": 1, "mitigate": None, "resolve": 1},
    "alertmanager": {"detect": 0, "acknowledge": None, "mitigate": None, "resolve": 44},
    "generic": {"detect": 0, "acknowledge": 6, "mitigate": None, "resolve": 90},
    "jira": {"detect": 0, "acknowledge": 5, "mitigate": None, "resolve": 42},
}


@pytest.fixture
def jira() -> Iterator[JiraTestServer]:
    srv = JiraTestServer("cloud", users=catalog_users(), clock=ManualClock(JIRA_START))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def receivers() -> Iterator[tuple[WebhookReceiver, SmtpReceiver]]:
    hook, smtp = WebhookReceiver().start(), SmtpReceiver().start()
    yield hook, smtp
    hook.stop()
    smtp.stop()


def _start(env: dict[str, str], args: list[str], procs: list[subprocess.Popen[str]]) -> None:
    proc = subprocess.Popen(
        hindsight(*args),
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    procs.append(proc)


def _post_all(base: str) -> list[int]:
    statuses = []
    deliveries = [
        (s, p) for s in ("pagerduty", "opsgenie", "alertmanager") for p in sources.recorded(s)
    ]
    deliveries += [("generic", p) for p in sources.generic_incident("ext-7")]
    for source, payload in deliveries:
        path, body, headers = sources.signed(source, payload)
        statuses.append(
            requests.post(base + path, data=body, headers=headers, timeout=10).status_code
        )
    return statuses


def _run_jira_incident(srv: JiraTestServer, clock: Any) -> None:
    """People run an incident in Jira: create it, start it, comment, resolve it."""
    issue = srv.seed_issue(
        "Checkout returns 502 for card payments",
        issuetype="Bug",
        by="maya",
        labels=["service:checkout"],
        priority={"name": "High"},
        emit=True,
    )
    clock.advance(300)
    srv.simulate_user_edit(issue.key, "maya", status="In Progress")
    clock.advance(900)
    srv.simulate_user_edit(issue.key, "ravi", comment="Rolled back the gateway config.")
    clock.advance(1320)
    srv.simulate_user_edit(issue.key, "maya", status="Resolved")
    srv.webhooks.wait_idle(10)


def _get(base: str, path: str) -> Any:
    resp = requests.get(base + path, headers=HEADERS, timeout=10)
    assert resp.status_code == 200, (path, resp.status_code, resp.text[:300])
    return resp.json() if "json" in resp.headers.get("Content-Type", "") else resp.content


def _settled(base: str) -> bool:
    unsent = _get(base, "/api/v1/notifications?status=pending")["total"]
    unsent += _get(base, "/api/v1/notifications?status=sending")["total"]
    if unsent:
        return False
    pending = _get(base, "/api/v1/deliveries?status=pending")["total"]
    busy = _get(base, "/api/v1/deliveries?status=processing")["total"]
    incidents = _get(base, "/api/v1/incidents?limit=100")["items"]
    if len(incidents) != 5 or any(i["postmortem_status"] != "draft" for i in incidents):
        return False
    mirrored = all(
        _get(base, f"/api/v1/incidents/{i['key']}/postmortem")["postmortem"]["tracker_key"]
        for i in incidents
    )
    return pending == busy == 0 and len(incidents) == 5 and mirrored


def _state(base: str, database_url: str) -> dict[str, Any]:
    """Everything a replay could change, per incident."""
    out: dict[str, Any] = {}
    for item in _get(base, "/api/v1/incidents?limit=100")["items"]:
        key = item["key"]
        doc = _get(base, f"/api/v1/incidents/{key}/postmortem")
        out[key] = {
            "incident": {k: v for k, v in item.items() if k != "updated_at"},
            "timeline": [(t["at"], t["kind"], t["text"]) for t in doc["timeline"]],
            "postmortem": {k: v for k, v in doc["postmortem"].items() if k != "updated_at"},
            "review": _get(base, f"/api/v1/incidents/{key}/postmortem/review"),
            "ics": _get(base, f"/api/v1/incidents/{key}/postmortem/invitation.ics"),
        }
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        out["announced"] = sorted(
            conn.execute(
                sa.text("SELECT entity_key FROM audit_log WHERE action = 'postmortem.announced'")
            ).scalars()
        )
        out["outbox_rows"] = conn.execute(sa.text("SELECT count(*) FROM outbox")).scalar()
        rows = conn.execute(
            sa.text(
                "SELECT incident_key, channel, recipient, status FROM notifications"
                " WHERE incident_key IS NOT NULL ORDER BY id"
            )
        )
        out["notifications"] = [tuple(r) for r in rows]
    engine.dispose()
    return out


def test_each_source_replays_into_a_postmortem_and_twice_changes_nothing(
    env: dict[str, str],
    processes: list[subprocess.Popen[str]],
    database_url: str,
    redis_url: str,
    jira: JiraTestServer,
    receivers: tuple[WebhookReceiver, SmtpReceiver],
) -> None:
    hook, smtp = receivers
    user, token = jira.credentials()
    env.update(
        sources.ENV,
        HINDSIGHT_DATABASE_URL=database_url,
        HINDSIGHT_REDIS_URL=redis_url,
        HINDSIGHT_API_TOKENS=BOOTSTRAP,
        HINDSIGHT_JIRA_URL=jira.url,
        HINDSIGHT_JIRA_USER=user,
        HINDSIGHT_JIRA_TOKEN=token,
        HINDSIGHT_JIRA_PROJECT="OPS",
        HINDSIGHT_JIRA_WEBHOOK_SECRET=sources.JIRA_SECRET,
        HINDSIGHT_SYNC_BACKOFF_BASE_SECONDS="0.2",
        HINDSIGHT_PUBLIC_URL=PUBLIC_URL,
        HINDSIGHT_SMTP_URL=smtp.url,
        HINDSIGHT_NOTIFY_WEBHOOK_URL=hook.url,
        HINDSIGHT_NOTIFY_BACKOFF_BASE_SECONDS="0.3",
        HINDSIGHT_NOTIFY_BACKOFF_CAP_SECONDS="1",
        HINDSIGHT_OUTBOUND_TIMEOUT_SECONDS="3",
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    _start(env, ["serve", "--port", str(port)], processes)
    wait_http(base + "/healthz", processes[0])
    _start(env, ["worker"], processes)  # every queue, `notify` among them
    jira.subscribe(base + "/webhooks/jira", sources.JIRA_SECRET)

    assert set(_post_all(base)) == {202}
    _run_jira_incident(jira, jira.clock)
    assert poll(lambda: _settled(base), bool, timeout=120), "the worker did not settle"
    first = _state(base, database_url)
    _check_postmortems(base, first, jira)
    sent = _check_announcements(first, hook, smtp)

    for _ in range(2):  # every delivery, twice more: all duplicates, nothing new
        assert set(_post_all(base)) == {200}
        for delivery in list(jira.webhooks.deliveries):
            jira.webhooks.replay(delivery)
    assert poll(lambda: _settled(base), bool, timeout=60)
    assert _state(base, database_url) == first
    assert _announcements(first, hook, smtp) == sent  # the replays sent nothing more


def _check_postmortems(base: str, state: dict[str, Any], jira: JiraTestServer) -> None:
    by_source = {v["incident"]["source"]: (k, v) for k, v in state.items() if k.startswith("INC-")}
    assert set(by_source) == set(EXPECTED)
    for source, (key, s) in by_source.items():
        review = s["review"]
        assert review["timings"] == EXPECTED[source], source
        assert s["postmortem"]["status"] == "draft" and s["postmortem"]["facilitator"]
        assert review["facilitator"] == s["postmortem"]["facilitator"]
        assert review["due"] == s["postmortem"]["review_due"]
        kinds = [kind for _, kind, _ in s["timeline"]]
        assert kinds[0] == "alert" and "resolution" in kinds, (source, kinds)
        assert s["postmortem"]["tracker_key"] in set(jira.state.issues_by_key)
        [event] = icalendar.Calendar.from_ical(s["ics"]).walk("VEVENT")
        assert str(event["UID"]) == review["invitation_uid"]
        assert key in str(event["SUMMARY"]) and "Agenda:" in str(event["DESCRIPTION"])
        assert state["announced"].count(key) == 1
    pd = by_source["pagerduty"][1]
    assert len(pd["timeline"]) == 13  # every documented incident event, one incident
    assert any("glad we are using PagerDuty" in text for _, _, text in pd["timeline"])
    generic = by_source["generic"][1]
    # Priya acknowledged, so she commands; the rotation over data-platform skips her.
    assert generic["postmortem"]["facilitator"] == "Tomasz Nowak"
    run_in_jira = by_source["jira"][1]
    assert run_in_jira["postmortem"]["facilitator"] == "Daniel Brooks"  # Maya commanded
    assert [k for _, k, _ in run_in_jira["timeline"]] == [
        "alert",
        "acknowledgement",
        "note",
        "resolution",
    ]
    assert run_in_jira["review"]["due"] == "2026-12-07"  # Monday 30 Nov + 5 business days


def _check_announcements(
    state: dict[str, Any], hook: WebhookReceiver, smtp: SmtpReceiver
) -> tuple[list[str], list[tuple[list[str], str]]]:
    """One e-mail per suggested participant with the invitation attached, one chat message."""
    incidents = {k: v for k, v in state.items() if k.startswith("INC-")}
    for key, s in incidents.items():
        review = s["review"]
        [served] = icalendar.Calendar.from_ical(s["ics"]).walk("VEVENT")
        addresses = {p["email"].lower() for p in review["participants"] if p.get("email")}
        assert addresses, (key, review["participants"])
        for address in addresses:
            [mail] = [m for m in smtp.to(address) if _names(key, m["Subject"])]
            [ics] = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
            assert str(ics.get_filename()).endswith(".ics")
            body = ics.get_payload(decode=True)
            assert isinstance(body, bytes)
            [event] = icalendar.Calendar.from_ical(body).walk("VEVENT")
            assert str(event["UID"]) == str(served["UID"]) == review["invitation_uid"]
            assert key in str(event["SUMMARY"]) and "Agenda:" in str(event["DESCRIPTION"])
        mailed = {a for rcpts, m in smtp.messages if _names(key, m["Subject"]) for a in rcpts}
        assert mailed == addresses, key  # nobody else is told
        link = f"{PUBLIC_URL}/api/v1/incidents/{key}/postmortem?format=html"
        [message] = [b for b in hook.bodies if _names(key, b["text"])]
        assert link in message["text"]
    return _announcements(state, hook, smtp)


def _announcements(
    state: dict[str, Any], hook: WebhookReceiver, smtp: SmtpReceiver
) -> tuple[list[str], list[tuple[list[str], str]]]:
    """What arrived naming an incident (the weekly learning digest, say, names none)."""
    keys = [k for k in state if k.startswith("INC-")]
    chats = sorted(b["text"] for b in hook.bodies if any(_names(k, b["text"]) for k in keys))
    mails = sorted(
        (rcpts, str(m["Subject"]))
        for rcpts, m in smtp.messages
        if any(_names(k, m["Subject"]) for k in keys)
    )
    return chats, mails


def _names(key: str, text: object) -> bool:
    return re.search(rf"\b{re.escape(key)}\b", str(text)) is not None
