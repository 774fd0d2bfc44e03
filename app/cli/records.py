"""`hindsight import`, `export`, `verify` and `verify-audit`: documents, archives, the audit log."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click
import yaml

from app import audit, runtime
from app.services.documents import export_document, import_document, parse_file
from app.services.exports import ExportScope, build_archive, verify_archive
from app.settings import Settings

from .common import with_settings

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
DATE = click.DateTime(formats=["%Y-%m-%d"])  # a bad date is a one-line usage error


@click.command("import")
@click.argument("file", type=FILE)
@with_settings
def import_file(settings: Settings, file: Path) -> int:
    """Import an incident document (JSON or YAML).

    All of it or, naming every bad field, nothing.
    """
    key = import_document(runtime.build(settings), parse_file(file), actor="cli")
    click.echo(f"imported {file} as {key}")
    return 0


@click.command()
@click.argument("key", required=False)
@click.option(
    "--archive",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[PATH]",
    help="write a compliance zip (optionally to PATH)",
)
@click.option(
    "--from", "start", type=DATE, metavar="YYYY-MM-DD", help="period start, implies --archive"
)
@click.option("--to", "end", type=DATE, metavar="YYYY-MM-DD", help="period end, implies --archive")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--redact", is_flag=True, help="replace personal names with their roles (sharing)")
@with_settings
def export(
    settings: Settings,
    key: str | None,
    archive: str | None,
    start: datetime | None,
    end: datetime | None,
    fmt: str,
    output: Path | None,
    redact: bool,
) -> int:
    """Export an incident document, or a compliance zip.

    KEY alone prints the document (for import elsewhere: a round trip).
    With --archive the zip holds incident KEY; with --from and --to, every
    incident that started in the period.
    """
    if archive is not None or start or end:
        scope = ExportScope(
            key, start.date() if start else None, end.date() if end else None, redact=redact
        )
        path = Path(archive or f"hindsight-{scope.describe().replace('..', '_')}.zip")
        path.write_bytes(build_archive(runtime.build(settings), scope, settings.export_signing_key))
        click.echo(f"wrote {path}")
        return 0
    if not key:
        raise click.UsageError("give KEY, or --from and --to", click.get_current_context())
    doc = export_document(runtime.build(settings), key, redact=redact).model_dump(
        mode="json", exclude_none=True
    )
    text = json.dumps(doc, indent=2) if fmt == "json" else yaml.safe_dump(doc, sort_keys=False)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    return 0


@click.command()
@click.argument("archive", type=FILE)
@click.option("--key", help="signing key (default HINDSIGHT_EXPORT_SIGNING_KEY)")
@with_settings
def verify(settings: Settings, archive: Path, key: str | None) -> int:
    """Check a compliance archive's manifest and files.

    Every file against the manifest, the manifest against its hash and, if
    signed, its HMAC; exit 1 naming every changed, missing or extra file.
    """
    check = verify_archive(archive.read_bytes(), key or settings.export_signing_key)
    if check.ok:
        signed = ", signature checked" if check.signed else ""
        click.echo(f"{archive}: intact ({check.files} files{signed})")
        return 0
    click.echo(f"{archive}: NOT intact")
    for problem in check.problems:
        click.echo(f"  {problem}")
    return 1


@click.command("verify-audit")
@with_settings
def verify_audit(settings: Settings) -> int:
    """Check the audit log's hash chain.

    Exit 1 naming the first entry that was edited or removed.
    """
    with runtime.build(settings).db.sessions() as session:
        result = audit.verify(session)
    if result.ok:
        click.echo(f"audit log intact: {result.checked} entries")
        return 0
    click.echo(
        f"audit log BROKEN at entry {result.first_broken_seq}: {result.reason} "
        f"({result.checked} entries verified before it)"
    )
    return 1
