"""What several commands share: the settings, read when the command runs, and options."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.domain import signing
from app.settings import Settings, load_settings

P = ParamSpec("P")
R = TypeVar("R")


def with_settings(command: Callable[Concatenate[Settings, P], R]) -> Callable[P, R]:
    """Pass the settings as the first argument, read when the command runs.

    Read then, not when the group starts, so `hindsight lint --help` works
    even with a bad variable set; a bad value is a `SettingsError` (exit 2).
    """

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return command(load_settings(), *args, **kwargs)

    return run


host_option = click.option("--host", help="address to listen on (default HINDSIGHT_HOST)")
port_option = click.option(
    "--port", type=click.IntRange(1, 65535), help="port to listen on (default HINDSIGHT_PORT)"
)
public_key_option = click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM Ed25519 public key to check signatures with (default: the public half of "
    "this installation's own signing key)",
)


def load_public_key(settings: Settings, path: Path | None) -> Ed25519PublicKey:
    """The key given, or this installation's own; a bad file is a one-line usage error."""
    source = path or settings.signing_key_path
    if path is None and not source.is_file():
        raise click.UsageError(f"give --public-key FILE (there is no signing key at {source})")
    try:
        return signing.load_public(source.read_bytes())
    except signing.BadKey as exc:
        raise click.UsageError(f"{source}: {exc}") from None
