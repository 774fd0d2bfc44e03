"""Who is signed in: the session cookie, the optional SSO trusted header, CSRF, roles.

Every page and form needs a session except the sign-in page and the stylesheet.
Every POST carries the session's CSRF token in a hidden field; the sign-in form,
which has no session yet, uses a double-submit cookie instead. Roles map onto the
API's scopes (viewer: read; member and facilitator: write; admin: admin), so the
web refuses exactly what a token of that scope would be refused.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for

from app.api.problems import status_of
from app.domain.errors import DomainError, NotFound
from app.domain.vocabulary import Scope
from app.runtime import current
from app.services import users
from app.services.users import Person

from . import bp as web_blueprint

COOKIE = "hindsight_session"
SIGNIN_COOKIE = "hindsight_signin"
PUBLIC = {"web.sign_in", "web.static"}
F = TypeVar("F", bound=Callable[..., Any])

# Our own stylesheet and script only; inline SVG charts need no source. Injected markup can
# neither run nor load anything, nor post a form elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def init(bp: Blueprint) -> None:
    """Once, when this module is first imported: a blueprint is set up before it is registered
    (on every app the process builds; tests build several)."""
    bp.before_request(_authenticate)
    bp.after_request(_headers)
    bp.register_error_handler(DomainError, _domain_error)
    bp.app_context_processor(lambda: {"person": g.get("person"), "csrf_token": g.get("csrf")})


def person() -> Person:
    found = g.get("person")
    if found is None:  # before_request guarantees one on every non-public endpoint
        abort(401)
    return cast(Person, found)


def _trusted_proxy() -> bool:
    proxies = {p.strip() for p in current().settings.web_trusted_proxies.split(",") if p.strip()}
    return request.remote_addr in proxies


def _trusted_username() -> str | None:
    header = current().settings.web_trusted_header
    if not header or not _trusted_proxy():
        return None
    value = request.headers.get(header, "").strip()
    return value or None


def _authenticate() -> Response | None:
    g.person = g.csrf = None
    if request.endpoint == "web.static":
        return None  # the stylesheet is public, and needs no database round trip
    rt = current()
    secret = request.cookies.get(COOKIE)
    signed = users.session_person(rt, secret) if secret else None
    trusted = _trusted_username()
    if trusted is not None and (signed is None or signed.person.username != trusted.lower()):
        try:
            signed = users.sign_in_trusted(rt, username=trusted)
        except NotFound as exc:
            return _page_error(403, "No account", exc.detail)
        g.new_session = signed.secret
    if signed is not None:
        g.person, g.csrf = signed.person, signed.csrf_token
    if request.endpoint in PUBLIC:
        return None
    if g.person is None:
        if request.method == "GET":
            return cast(Response, redirect(url_for("web.sign_in", next=request.full_path)))
        return _page_error(401, "Sign in first", "This form needs a signed-in session.")
    if request.method == "POST" and not users.same_token(
        g.csrf, request.form.get("csrf_token", "")
    ):
        return _page_error(403, "Form expired", "The form's security token did not match.")
    return None


def secure_cookies() -> bool:
    mode = current().settings.web_cookie_secure
    if mode != "auto":
        return mode == "always"
    forwarded = request.headers.get("X-Forwarded-Proto", "") == "https" and _trusted_proxy()
    return request.is_secure or forwarded


def set_session_cookie(response: Response, secret: str) -> None:
    response.set_cookie(
        COOKIE,
        secret,
        max_age=int(users.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=secure_cookies(),
        path="/",
    )


def _headers(response: Response) -> Response:
    if g.get("new_session"):
        set_session_cookie(response, g.new_session)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def needs(scope: Scope) -> Callable[[F], F]:
    """The view runs only for someone whose role carries `scope`; others get a 403 page."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not person().can(scope):
                return _page_error(403, "Not allowed", f"Your role cannot do this ({scope}).")
            return view(*args, **kwargs)

        return cast(F, guarded)

    return decorate


def _page_error(status: int, title: str, detail: str) -> Response:
    html = render_template("web/error.html.j2", title=title, detail=detail, status=status)
    return Response(html, status=status, mimetype="text/html")


def _domain_error(exc: DomainError) -> Response:
    return _page_error(status_of(exc), exc.title, exc.detail)


def safe_next(target: str | None) -> str:
    """Only a path on this site: `?next=https://evil.example` must not send anyone away."""
    if not target:
        return url_for("web.incidents")
    parts = urlsplit(target)
    outside = parts.scheme or parts.netloc or "\\" in target or target.startswith("//")
    if outside or not target.startswith("/"):
        return url_for("web.incidents")
    return target


def new_signin_token() -> str:
    return secrets.token_urlsafe(24)


init(web_blueprint)
