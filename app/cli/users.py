"""`hindsight user create USERNAME --role ROLE`: people who sign in to the web UI."""

from __future__ import annotations

import sys

import click

from app import runtime
from app.services.users import Role, create_user
from app.settings import Settings

from .common import with_settings


@click.group()
def user() -> None:
    """Web UI accounts."""


@user.command()
@click.argument("username")
@click.option(
    "--role", required=True, type=click.Choice([r.value for r in Role]), help="what they may do"
)
@click.option("--name", "display_name", default="", help="display name (default: the username)")
@click.option("--team", default=None, help="their team (the action board's 'my team')")
@click.option(
    "--password-stdin", is_flag=True, help="read the password from standard input (one line)"
)
@click.option("--sso-only", is_flag=True, help="no password: they sign in through the SSO proxy")
@with_settings
def create(
    settings: Settings,
    username: str,
    role: str,
    display_name: str,
    team: str | None,
    password_stdin: bool,
    sso_only: bool,
) -> int:
    """Create an account; without --password-stdin or --sso-only the password is asked for."""
    if sso_only:
        password = None
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    person = create_user(
        runtime.build(settings),
        username=username,
        display_name=display_name,
        role=Role(role),
        password=password,
        team=team,
    )
    click.echo(f"created {person.username} ({person.role}); sign in at /sign-in")
    return 0
