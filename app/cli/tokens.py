"""`hindsight token create|list|revoke` (also `hindsight tokens ...`): API tokens."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import click
from pydantic import ValidationError

from app import runtime
from app.domain.errors import from_validation
from app.domain.people import PrincipalKind
from app.domain.vocabulary import Scope
from app.schemas.tokens import TokenCreate
from app.services import tokens as token_service
from app.settings import Settings

from .common import with_settings

DATE = click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"])  # UTC


@click.group()
def token() -> None:
    """API tokens: each belongs to a named person or automation."""


@token.command()
@click.option("--name", required=True, help="a unique label for the token, e.g. ci-deploy")
@click.option("--owner", help="the person or automation it acts as (default: the name)")
@click.option(
    "--kind",
    type=click.Choice([k.value for k in PrincipalKind]),
    default=PrincipalKind.PERSON.value,
    show_default=True,
)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice([s.value for s in Scope]),
    help="read, write or admin; repeat for several",
)
@click.option("--expires", type=DATE, help="expiry, UTC (YYYY-MM-DD[THH:MM:SS])")
@click.option("--expires-in-days", type=click.IntRange(1, 3650), help="expiry in N days")
@with_settings
def create(
    settings: Settings,
    name: str,
    owner: str | None,
    kind: str,
    scopes: tuple[str, ...],
    expires: datetime | None,
    expires_in_days: int | None,
) -> int:
    """Create a token and print it once; only its SHA-256 is stored."""
    rt = runtime.build(settings)
    expires_at = expires.replace(tzinfo=UTC) if expires else None
    if expires_in_days is not None:
        expires_at = rt.clock() + timedelta(days=expires_in_days)
    try:
        data = TokenCreate(
            name=name,
            owner=owner or name,
            kind=PrincipalKind(kind),
            scopes=[Scope(s) for s in scopes],
            expires_at=expires_at,
        )
    except ValidationError as exc:
        raise from_validation(exc, ()) from None
    issued = token_service.issue_token(rt, data=data, actor="cli")
    click.echo(issued.token)
    click.echo("(shown once; store it now)", err=True)
    return 0


@token.command("list")
@click.option("--active", is_flag=True, help="only tokens that still work")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@with_settings
def list_(settings: Settings, active: bool, fmt: str) -> int:
    """Every token: name, owner, kind, scopes, state, last use, expiry. Never the secret."""
    rows = token_service.list_tokens(runtime.build(settings), include_inactive=not active)
    if fmt == "json":
        click.echo(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        return 0
    for r in rows:
        used = f"{r.last_used_at:%Y-%m-%d %H:%M}" if r.last_used_at else "never"
        until = f"{r.expires_at:%Y-%m-%d %H:%M}" if r.expires_at else "-"
        click.echo(
            f"{r.name:<24} {r.owner:<24} {r.kind:<10} {'+'.join(r.scopes):<16} {r.state:<8} "
            f"used {used}  expires {until}"
        )
    click.echo(f"{len(rows)} token(s)")
    return 0


@token.command()
@click.argument("name")
@with_settings
def revoke(settings: Settings, name: str) -> int:
    """Revoke a token now: it gets 401 from its next request on."""
    revoked = token_service.revoke_token(runtime.build(settings), name=name, actor="cli")
    click.echo(f"token {revoked.name} ({revoked.owner}) revoked")
    return 0
