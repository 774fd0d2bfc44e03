"""`hindsight import`, `export` and `verify`: documents and compliance archives."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click
import yaml

from app import runtime
from app.services.archives import verify_archive
from app.services.documents import export_document, import_or_update, parse_file
from app.services.exports import ExportScope, build_archive
from app.services.postmortems import get_document, render
from app.settings import Settings

from .common import load_public_key, public_key_option, with_settings

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
DATE = click.DateTime(formats=["%Y-%m-%d"])  # a bad date is a one-line usage error


@click.command("import")
@click.argument("file", type=FILE)
@with_settings
def import_file(settings: Settings, file: Path) -> int:
    """Import an incident document (JSON or YAML), history included.

    All of it or, naming every bad field, nothing. A document naming an
    existing incident (incident.key, or incident.source + external_id)
    updates it: empty fields are filled and missing rows added; stored
    values that differ are kept and listed.
    """
    result = import_or_update(runtime.build(settings), parse_file(file), actor="cli")
    if result.created:
        click.echo(f"imported {file} as {result.key}")
    else:
        click.echo(f"{file}: {result.describe()}")
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
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "json", "md", "html"]),
    default="yaml",
    help="the document (yaml, json) or the postmortem (md: what `hindsight lint` reads; html)",
)
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
        path.write_bytes(build_archive(runtime.build(settings), scope))
        click.echo(f"wrote {path}")
        return 0
    if not key:
        raise click.UsageError("give KEY, or --from and --to", click.get_current_context())
    text = _document_text(runtime.build(settings), key, fmt, redact)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    return 0


def _document_text(rt: runtime.Runtime, key: str, fmt: str, redact: bool) -> str:
    if fmt in {"md", "html"}:
        return render(get_document(rt, key, redact=redact), fmt)
    doc = export_document(rt, key, redact=redact).model_dump(mode="json", exclude_none=True)
    return json.dumps(doc, indent=2) if fmt == "json" else yaml.safe_dump(doc, sort_keys=False)


@click.command()
@click.argument("archive", type=FILE)
@public_key_option
@with_settings
def verify(settings: Settings, archive: Path, public_key: Path | None) -> int:
    """Check a compliance archive with nothing but the public key.

    The zip's structure, every file against the manifest, the manifest
    against its hash and its Ed25519 signature, every evidence file against
    its SHA-256. Exit 1 with one line per problem on stderr.
    """
    key = load_public_key(settings, public_key)
    check = verify_archive(archive.read_bytes(), key)
    if check.ok:
        click.echo(f"{archive}: intact ({check.files} files, signed by key {check.key_id})")
        return 0
    for problem in check.problems:
        click.echo(f"{archive}: {problem}", err=True)
    return 1
