"""`hindsight token create --name N --scope S`: API tokens."""

from __future__ import annotations

import click

from app import runtime
from app.domain.vocabulary import Scope
from app.services.tokens import create_token
from app.settings import Settings

from .common import with_settings


@click.group()
def token() -> None:
    """API tokens."""


@token.command()
@click.option("--name", required=True, help="who or what the token is for")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice([s.value for s in Scope]),
    help="read, write or admin; repeat for several",
)
@with_settings
def create(settings: Settings, name: str, scopes: tuple[str, ...]) -> int:
    """Create a token and print it once; only its SHA-256 is stored."""
    secret = create_token(runtime.build(settings), name, [Scope(s) for s in scopes])
    click.echo(secret)
    click.echo("(shown once; store it now)", err=True)
    return 0
