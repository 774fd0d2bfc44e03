"""The web UI's guarantees, through the Flask test client on both backends: no page or form
without a session, CSRF on every form, roles from the API's scopes, text never run as HTML,
validation errors in the API's words beside the field, and the audit log naming the person."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import AuditEntry, Incident
from app.runtime import Runtime
from app.services.users import Role, create_user
from app.web.auth import PUBLIC

PASSWORD = "a long enough password"
SAMPLE = {"key": "INC-1", "action_key": "ACT-1", "part": "timeline"}


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD) -> str:
    """Signs in through the form (double-submit token) and returns the session's CSRF token."""
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="signin_token" value="([^"]+)"', page)
    assert token
    answer = client.post(
        "/sign-in",
        data={"username": username, "password": password, "signin_token": token.group(1)},
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return csrf_of(client, "/incidents")


def csrf_of(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def person(rt: Runtime, username: str, role: Role) -> None:
    create_user(rt, username=username, display_name=username.title(), role=role, password=PASSWORD)


def routes(app: Flask, method: str) -> list[str]:
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("web.") or rule.endpoint in PUBLIC:
            continue
        if method in (rule.methods or set()):
            values = {name: SAMPLE.get(name, 1) for name in rule.arguments}
            out.append(rule.build(values, append_unknown=False)[1])
    return out


def test_no_page_or_form_works_without_a_session(app: Flask) -> None:
    client = app.test_client()
    pages, forms = routes(app, "GET"), routes(app, "POST")
    assert "/incidents" in pages and "/incidents/INC-1/publish" in forms and len(forms) > 15
    for path in pages:
        answer = client.get(path)
        assert answer.status_code == 302, path
        assert answer.headers["Location"].startswith("/sign-in"), path
    for path in forms:
        assert client.post(path, data={"title": "x"}).status_code == 401, path


def test_a_wrong_password_or_unknown_name_does_not_sign_in(app: Flask, rt: Runtime) -> None:
    person(rt, "alice", Role.MEMBER)
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="signin_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    for name, password in (("alice", "not the password"), ("nobody", PASSWORD)):
        answer = client.post(
            "/sign-in", data={"username": name, "password": password, "signin_token": token}
        )
        assert answer.status_code == 401
        page = answer.get_data(as_text=True)
        assert "Unknown username or wrong password" in page
        token = re.search(r'name="signin_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    no_token = client.post("/sign-in", data={"username": "alice", "password": PASSWORD})
    assert no_token.status_code == 403  # the sign-in form has its own double-submit check


@pytest.mark.parametrize(
    "target, lands", [("/board", "/board"), ("//evil.example/x", "/incidents"),
                      ("/\\evil.example", "/incidents"), ("https://evil.example", "/incidents")],
)  # fmt: skip
def test_sign_in_goes_back_only_to_a_page_of_this_site(
    app: Flask, rt: Runtime, target: str, lands: str
) -> None:
    person(rt, "alice", Role.MEMBER)
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="signin_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {"username": "alice", "password": PASSWORD, "signin_token": token, "next": target}
    assert client.post("/sign-in", data=form).headers["Location"] == lands


def test_the_session_cookie_is_httponly_and_samesite(app: Flask, rt: Runtime) -> None:
    person(rt, "alice", Role.MEMBER)
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="signin_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    answer = client.post(
        "/sign-in", data={"username": "alice", "password": PASSWORD, "signin_token": token}
    )
    cookie = next(c for c in answer.headers.getlist("Set-Cookie") if "hindsight_session" in c)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    behind_tls = app.test_client().get("/sign-in", base_url="https://hindsight.example")
    signin_cookie = behind_tls.headers["Set-Cookie"]
    assert "Secure" in signin_cookie


def test_csrf_token_is_required_on_every_form(app: Flask, rt: Runtime) -> None:
    person(rt, "alice", Role.ADMIN)
    client = app.test_client()
    csrf = sign_in(client, "alice")
    form = {"title": "Checkout down", "severity": "SEV2"}
    for token in (None, "", "forged-token"):
        data = dict(form) if token is None else {**form, "csrf_token": token}
        answer = client.post("/incidents/new", data=data)
        assert answer.status_code == 403
    with rt.db.sessions() as s:
        assert s.scalar(select(Incident)) is None
    for path in routes(app, "POST"):
        assert client.post(path, data={"title": "x"}).status_code == 403, path
    made = client.post("/incidents/new", data={**form, "csrf_token": csrf})
    assert made.status_code == 302 and made.headers["Location"] == "/incidents/INC-1"


def test_a_viewer_reads_but_cannot_write(app: Flask, rt: Runtime) -> None:
    person(rt, "vera", Role.VIEWER)
    client = app.test_client()
    csrf = sign_in(client, "vera")
    assert "New incident" not in client.get("/incidents").get_data(as_text=True)
    answer = client.post(
        "/incidents/new", data={"title": "x", "severity": "SEV2", "csrf_token": csrf}
    )
    assert answer.status_code == 403
    assert client.get("/admin/tokens").status_code == 403
    with rt.db.sessions() as s:
        assert s.scalar(select(Incident)) is None


def test_html_in_a_field_is_shown_as_text(app: Flask, rt: Runtime) -> None:
    person(rt, "alice", Role.FACILITATOR)
    client = app.test_client()
    csrf = sign_in(client, "alice")
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    client.post(
        "/incidents/new",
        data={"title": hostile, "severity": "SEV3", "summary": hostile, "csrf_token": csrf},
    )
    page = client.get("/incidents/INC-1")
    html = page.get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy


def test_validation_errors_sit_beside_the_field_in_the_apis_words(app: Flask, rt: Runtime) -> None:
    person(rt, "alice", Role.MEMBER)
    client = app.test_client()
    csrf = sign_in(client, "alice")
    answer = client.post(
        "/incidents/new",
        data={"title": "", "severity": "SEV9", "impact.customers": "-3", "csrf_token": csrf},
    )
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    for field, words in (
        ("severity", "Input should be"),
        ("impact-customers", "greater than or equal to 0"),
        ("title", "Field required"),
    ):
        shown = re.search(rf'<p class="error" id="err-{field}">([^<]+)</p>', html)
        assert shown and words in shown.group(1), (field, html[:3000])
    assert 'aria-describedby="err-severity"' in html


def test_the_audit_log_names_the_signed_in_person(app: Flask, rt: Runtime) -> None:
    person(rt, "alice", Role.MEMBER)
    client = app.test_client()
    csrf = sign_in(client, "alice")
    client.post("/incidents/new", data={"title": "t", "severity": "SEV3", "csrf_token": csrf})
    with rt.db.sessions() as s:
        actors = set(
            s.scalars(select(AuditEntry.actor).where(AuditEntry.action == "incident.create"))
        )
    assert actors == {"Alice"}  # the person's name, as for a token's owner


def test_sign_out_ends_the_session_on_the_server(app: Flask, rt: Runtime) -> None:
    person(rt, "alice", Role.MEMBER)
    client = app.test_client()
    csrf = sign_in(client, "alice")
    cookie = client.get_cookie("hindsight_session")
    assert cookie is not None
    assert client.post("/sign-out", data={"csrf_token": csrf}).status_code == 302
    replay = app.test_client()
    replay.set_cookie("hindsight_session", cookie.value)
    assert replay.get("/incidents").status_code == 302  # the old cookie is worth nothing now


@pytest.mark.parametrize("remote, signed_in", [("10.9.8.7", True), ("127.0.0.1", False)])
def test_the_trusted_header_is_believed_only_from_the_trusted_proxy(
    app: Flask, rt: Runtime, remote: str, signed_in: bool
) -> None:
    person(rt, "alice", Role.MEMBER)
    rt.settings = rt.settings.model_copy(
        update={"web_trusted_header": "X-Forwarded-User", "web_trusted_proxies": "10.9.8.7"}
    )
    client = app.test_client()
    env: dict[str, Any] = {"REMOTE_ADDR": remote}
    answer = client.get("/incidents", headers={"X-Forwarded-User": "alice"}, environ_overrides=env)
    assert (answer.status_code == 200) is signed_in
    if signed_in:
        assert "Alice" in answer.get_data(as_text=True)
        again = client.get("/board", environ_overrides={"REMOTE_ADDR": "127.0.0.1"})
        assert again.status_code == 200  # the header made a session: the cookie carries it


def test_a_finding_is_waived_with_a_reason_by_the_incidents_facilitator_only(
    app: Flask, rt: Runtime
) -> None:
    """The waivers policy decides (the incident's facilitator or an admin), as in the API."""
    person(rt, "mo", Role.MEMBER)
    person(rt, "fay", Role.FACILITATOR)
    person(rt, "flo", Role.FACILITATOR)
    member, facilitator, other = app.test_client(), app.test_client(), app.test_client()
    csrf = sign_in(member, "mo")
    member.post("/incidents/new", data={"title": "t", "severity": "SEV3", "csrf_token": csrf})
    blame = "The on-call engineer failed to check the replica lag."
    member.post(
        "/incidents/INC-1/timeline",
        data={"at": "2026-11-30T10:00", "kind": "note", "text": blame, "csrf_token": csrf},
    )
    member.post(
        "/incidents/INC-1/participants",
        data={"role": "facilitator", "name": "Fay", "csrf_token": csrf},
    )
    member.post("/incidents/INC-1/evaluate", data={"csrf_token": csrf})
    page = member.get("/incidents/INC-1").get_data(as_text=True)
    assert '<mark class="blame"' in page
    finding = re.search(r'id="finding-(\d+)" data-rule="language.individual_blame"', page)
    assert finding, page
    waive = f"/incidents/INC-1/findings/{finding.group(1)}/waive"
    assert "Waive this finding" not in page  # a member is not offered the waiver...
    refused = member.post(waive, data={"reason": "a quoted customer complaint", "csrf_token": csrf})
    assert refused.status_code == 422  # ...and cannot post one: the policy's words say why
    assert "Mo may not waive" in html.unescape(refused.get_data(as_text=True))
    ocsrf = sign_in(other, "flo")  # a facilitator by role, but not this incident's
    refused = other.post(waive, data={"reason": "a quoted customer complaint", "csrf_token": ocsrf})
    assert refused.status_code == 422 and "Flo may not waive" in html.unescape(
        refused.get_data(as_text=True)
    )
    fcsrf = sign_in(facilitator, "fay")
    short = facilitator.post(waive, data={"reason": "no", "csrf_token": fcsrf})
    assert short.status_code == 422 and "at least 10 characters" in short.get_data(as_text=True)
    done = facilitator.post(
        waive, data={"reason": "a quoted customer complaint", "csrf_token": fcsrf}
    )
    assert done.status_code == 302
    page = facilitator.get("/incidents/INC-1").get_data(as_text=True)
    assert "Waived by Fay: a quoted customer complaint" in page


def test_suggested_actions_from_similar_incidents_sit_where_actions_are_added(
    app: Flask, rt: Runtime
) -> None:
    """The demo's repeat incident gets its earlier twin's actions offered beside the form."""
    from app.demo import DEMO_DIR  # the demo documents: incidents that really repeat
    from app.services.documents import import_file_once

    for path in sorted(DEMO_DIR.glob("*.yaml")):
        import_file_once(rt, path, source="demo", actor="demo")
    person(rt, "fay", Role.FACILITATOR)
    client = app.test_client()
    sign_in(client, "fay")
    keys = [f"INC-{n}" for n in range(1, 7)]
    pages = {key: client.get(f"/incidents/{key}").get_data(as_text=True) for key in keys}
    offered = [key for key, page in pages.items() if 'id="suggestions"' in page]
    assert offered, "no demo incident was offered an earlier incident's actions"
    page = pages[offered[0]]
    use = re.search(r'href="(/incidents/INC-\d+\?[^"]*title=[^"]+)"', page)
    assert use, page[page.index('id="suggestions"') :][:1500]
    link = html.unescape(use.group(1))
    title = parse_qs(urlsplit(link).query)["title"][0]
    prefilled = client.get(link).get_data(as_text=True)
    assert '<details open id="add-action">' in prefilled  # the form opens, filled in
    field = re.search(r'id="action-new-title" name="title" value="([^"]*)"', prefilled)
    assert field and html.unescape(field.group(1)) == title


def test_resolving_the_incident_from_the_workspace_opens_its_postmortem(
    app: Flask, rt: Runtime
) -> None:
    person(rt, "mo", Role.MEMBER)
    client = app.test_client()
    csrf = sign_in(client, "mo")
    client.post("/incidents/new", data={"title": "t", "severity": "SEV3", "csrf_token": csrf})
    assert 'id="no-postmortem"' in client.get("/incidents/INC-1").get_data(as_text=True)
    form = {"title": "t", "severity": "SEV3", "status": "resolved", "services": "checkout",
            "started_at": "2026-11-30T10:00", "resolved_at": "2026-11-30T09:00"}  # fmt: skip
    early = client.post("/incidents/INC-1/incident", data={**form, "csrf_token": csrf})
    assert early.status_code == 422  # resolved before it started: the API's own check
    assert "earlier than started_at" in early.get_data(as_text=True)
    form["resolved_at"] = "2026-11-30T11:00"
    done = client.post("/incidents/INC-1/incident", data={**form, "csrf_token": csrf})
    assert done.status_code == 302
    page = client.get("/incidents/INC-1").get_data(as_text=True)
    assert 'id="no-postmortem"' not in page and ">draft</span>" in page
