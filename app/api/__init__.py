"""Blueprints: thin entry points that parse, call one service and map the result."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from . import actions, incidents, system

    for bp in (incidents.bp, actions.bp, system.bp, system.plain):
        app.register_blueprint(bp)
