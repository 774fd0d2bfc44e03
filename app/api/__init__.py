"""Blueprints: thin entry points that parse, call one service and map the result."""

from __future__ import annotations

from flask import Flask

from . import (
    actions,
    deliveries,
    documents,
    evidence,
    exports,
    findings,
    followthrough,
    framework,
    incidents,
    reports,
    search,
    similar,
    sync,
    system,
    tokens,
    webhooks,
)


def register(app: Flask) -> None:
    framework.init_app(app)  # converters first: the blueprints' rules use them
    for bp in (
        incidents.bp,
        actions.bp,
        findings.bp,
        exports.bp,
        evidence.bp,
        documents.bp,
        reports.bp,
        search.bp,
        similar.bp,
        sync.bp,
        followthrough.bp,
        deliveries.bp,
        tokens.bp,
        system.bp,
        system.plain,
        webhooks.bp,
    ):
        app.register_blueprint(bp)
