"""Pages for people, served at `/` beside the JSON API by the same process.

Server-rendered Jinja2 (autoescaped), plain HTML forms that work without
JavaScript, one stylesheet of our own (with a print style); no build step and
nothing third-party shipped to the browser. Each view parses a form into the
same pydantic model the API validates, calls the same service, and answers
with a page (errors beside their fields) or a redirect.
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",  # /static is the Flask app's own route
)


def register(app: Flask) -> None:
    # The views attach themselves to `bp` when imported; importing them here (not at the top)
    # keeps `bp` defined before they need it.
    from . import admin, auth, board, dashboards, incidents, signin, workspace, workspace_forms  # noqa: F401,I001

    # Flask autoescapes only templates named .html/.xml/...; ours are .html.j2, so say it
    # outright: every value people typed is shown as text, whatever the template is called.
    app.jinja_env.autoescape = True
    app.register_blueprint(bp)
