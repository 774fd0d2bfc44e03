"""`hindsight audit verify|checkpoint` (and `verify-audit`): the audit log's hash chain."""

from __future__ import annotations

from pathlib import Path

import click

from app import runtime
from app.services.checkpoints import verify_chain, write_checkpoint
from app.settings import Settings

from .common import load_public_key, public_key_option, with_settings

CHECKPOINT = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group("audit")
def audit_group() -> None:
    """The audit log: verify its chain, sign checkpoints of its head."""


def _verify(settings: Settings, held: tuple[Path, ...], public_key: Path | None) -> int:
    key = load_public_key(settings, public_key) if (public_key or held) else None
    rt = runtime.build(settings)
    result = verify_chain(rt, held=[(p.name, p.read_bytes()) for p in held], public_key=key)
    if result.ok:
        click.echo(
            f"audit log intact: {result.checked} entries, head {result.head_hash[:16]}, "
            f"{result.checkpoints} signed checkpoint(s) agree"
        )
        return 0
    for broken in result.broken:
        click.echo(f"audit log BROKEN at entry {broken.seq}: {broken.reason}", err=True)
    return 1


_checkpoint_option = click.option(
    "--checkpoint",
    "held",
    type=CHECKPOINT,
    multiple=True,
    help="a signed checkpoint file you hold (repeatable); the stored ones are always used",
)


@audit_group.command("verify")
@_checkpoint_option
@public_key_option
@with_settings
def verify(settings: Settings, held: tuple[Path, ...], public_key: Path | None) -> int:
    """Check the chain, against every signed checkpoint; exit 1 naming every broken entry."""
    return _verify(settings, held, public_key)


@click.command("verify-audit")
@_checkpoint_option
@public_key_option
@with_settings
def verify_audit(settings: Settings, held: tuple[Path, ...], public_key: Path | None) -> int:
    """The same as `hindsight audit verify`."""
    return _verify(settings, held, public_key)


@audit_group.command("checkpoint")
@with_settings
def checkpoint(settings: Settings) -> int:
    """Sign the chain's head (seq, hash, time) into the checkpoint directory; print the file."""
    path = write_checkpoint(runtime.build(settings))
    click.echo(str(path) if path else "the audit log is empty: nothing to checkpoint")
    return 0
