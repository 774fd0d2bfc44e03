"""Sign in and sign out."""

from __future__ import annotations

from flask import Response, g, make_response, redirect, render_template, request, url_for

from app.runtime import current
from app.services import users

from . import bp
from .auth import COOKIE, SIGNIN_COOKIE, new_signin_token, safe_next, secure_cookies
from .auth import set_session_cookie as _set_session


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response:
    """The form has no session to hold a CSRF token yet: a cookie and a hidden field must match
    (double submit), which a cross-site form cannot read to copy."""
    if request.method == "GET" and g.get("person") is not None:
        return redirect(safe_next(request.args.get("next")))  # type: ignore[return-value]
    error = None
    status = 200
    if request.method == "POST":
        cookie = request.cookies.get(SIGNIN_COOKIE, "")
        if not users.same_token(cookie, request.form.get("signin_token", "")):
            error, status = "The sign-in form expired; please try again.", 403
        else:
            signed = users.sign_in(
                current(),
                username=request.form.get("username", ""),
                password=request.form.get("password", ""),
            )
            if signed is not None and signed.secret:
                response = redirect(safe_next(request.form.get("next")))
                _set_session(response, signed.secret)  # type: ignore[arg-type]
                response.delete_cookie(SIGNIN_COOKIE, path="/sign-in")
                return response  # type: ignore[return-value]
            error, status = "Unknown username or wrong password.", 401
    token = new_signin_token()
    page = render_template(
        "web/sign_in.html.j2",
        error=error,
        signin_token=token,
        next=request.values.get("next", ""),
        username=request.form.get("username", ""),
        sso=bool(current().settings.web_trusted_header),
    )
    response = make_response(page, status)
    response.set_cookie(
        SIGNIN_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=secure_cookies(),
        path="/sign-in",
    )
    return response


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Response:
    secret = request.cookies.get(COOKIE)
    if secret:
        users.sign_out(current(), secret)
    response = redirect(url_for("web.sign_in"))
    response.delete_cookie(COOKIE, path="/")
    return response  # type: ignore[return-value]


@bp.route("/")
def home() -> Response:
    return redirect(url_for("web.incidents"))  # type: ignore[return-value]
