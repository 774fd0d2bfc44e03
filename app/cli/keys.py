"""`hindsight keys generate|show`: the Ed25519 key that signs archives and checkpoints."""

from __future__ import annotations

import click

from app import runtime
from app.domain import signing
from app.services.keys import generate_key, public_key_pem, signing_key
from app.settings import Settings

from .common import with_settings


@click.group("keys")
def keys_group() -> None:
    """The signing key (HINDSIGHT_SIGNING_KEY_FILE, default <data dir>/signing-key.pem)."""


@keys_group.command("generate")
@click.option("--force", is_flag=True, help="replace an existing key (keep its public half!)")
@with_settings
def generate(settings: Settings, force: bool) -> int:
    """Create the signing key file (mode 0600) and print its public key."""
    rt = runtime.build(settings)
    path = generate_key(rt, force=force)
    click.echo(f"wrote {path} (key {signing.key_id(signing_key(rt))})", err=True)
    click.echo(public_key_pem(rt).decode(), nl=False)
    return 0


@keys_group.command("show")
@with_settings
def show(settings: Settings) -> int:
    """Print the public key (PEM) auditors check signatures with; creates the key if absent."""
    click.echo(public_key_pem(runtime.build(settings)).decode(), nl=False)
    return 0
