"""Blueprints: thin entry points that parse, call one service and map the result."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    # Imported here, not at the top: each blueprint module imports app.api.framework,
    # which runs this package's __init__ first.
    from . import framework

    framework.init_app(app)  # converters first: the blueprints' rules use them
    from . import actions, exports, findings, incidents, sync, system, webhooks

    for bp in (
        incidents.bp,
        actions.bp,
        findings.bp,
        exports.bp,
        sync.bp,
        system.bp,
        system.plain,
        webhooks.bp,
    ):
        app.register_blueprint(bp)
