"""Hindsight: blameless postmortems whose improvement actions get done.

Importing `app` (or any subpackage, such as `app.domain`) loads nothing else:
the Flask factory lives in `app.factory`, so the domain, the services, the
rules and the worker can be imported without Flask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from .settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """`app.factory.create_app`, imported on call so that `import app` stays Flask-free."""
    from .factory import create_app as factory  # on call: `import app` must not load Flask

    return factory(settings)
