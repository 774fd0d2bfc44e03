"""`hindsight lint FILE.md...`: Markdown postmortems written outside Hindsight.

Only the rules package is imported here (no database, no services), so a
pre-commit hook or a docs CI job pays for parsing Markdown and nothing else.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from app.catalog import Catalog, CatalogError, load_catalog
from app.rules.lint import as_records, lint_file, render_text
from app.rules.model import FindingDraft
from app.rules.policy import Policy, load_policy, parse_policy
from app.settings import Settings

from .common import with_settings

# "\b" keeps click from re-wrapping the paragraph that follows it
LINT_HELP = """\
\b
Sections are found by heading words at any level: Summary, Timeline, Causes / Root
causes, Action items (required), plus Postmortem summary, Contributing factors,
Lessons / What went well / What went wrong / Where we got lucky, and Participants.
\b
Conventions (Hindsight's own Markdown export uses them; README has the full list):
causes are list items "**RC12** (root cause; config): statement" with "Why:" lines
(else RC1, RC2 ... in order); each action is a list item "**ACT-7**: title" (or table
row) with "Status:", "Owner:", "Success criteria:", "Validation:" and "Addresses: RC12"
lines (or columns); a timeline table has "#", "Kind", "What happened" and "Decision
rationale" columns, else an alert/page/report item is the detection, one about service
restored/resolved the resolution ("[detection]" / "[resolution]" tags win) and
"Decision:" items need "Rationale:" or "because". "Severity: SEV1", "Facilitator: Name"
and ISO times "Detected:", "Resolved:", "Review held:" are read anywhere.
"_None recorded._" is no value.
\b
Hindsight's own export (its head says "Generated: TIME by Hindsight") carries every
fact the rules read and is judged by every rule family with the config dir's catalog,
as of its generated time unless --as-of names another: the findings are the service's.
\b
Exit status: 0 no blockers, 1 blockers found, 2 a file could not be read."""


@click.command(epilog=LINT_HELP)
@click.argument("files", nargs=-1, required=True, metavar="FILE.md...", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option(
    "--policy",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="policy.yaml to use (default: the config dir's)",
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
    help="judge deadlines at this UTC time (default: an export's generated time, else now)",
)
@with_settings
def lint(
    settings: Settings,
    files: tuple[str, ...],
    fmt: str,
    policy: Path | None,
    as_of: datetime | None,
) -> int:
    """Check postmortems written in Markdown.

    Completeness and blameless language, as in Hindsight itself; on Hindsight's
    own export every rule family. Prints `file:line: severity [rule] message`.
    A file that cannot be read is reported on one line and the others are
    still checked.
    """
    rules = _policy(policy) if policy else load_policy(settings.config_dir)
    catalog = _catalog(settings)
    when = as_of.replace(tzinfo=UTC) if as_of else None
    status = 0
    records: list[dict[str, object]] = []
    for name in files:
        findings = _lint_one(name, rules, catalog, when)
        if findings is None:
            status = 2
            continue
        if fmt == "json":
            records += as_records(name, findings)
        else:
            click.echo(render_text(name, findings))
        if status == 0 and any(f.severity == "blocker" for f in findings):
            status = 1
    if fmt == "json":
        click.echo(json.dumps(records, indent=2))
    return status


def _policy(path: Path) -> Policy:
    try:
        return parse_policy(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise click.BadParameter(
            f"cannot read {path}: {_reason(exc)}",
            click.get_current_context(),
            param_hint="'--policy'",
        ) from None


def _catalog(settings: Settings) -> Catalog:
    try:
        return load_catalog(settings.config_dir)
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from None


def _lint_one(
    name: str, policy: Policy, catalog: Catalog, as_of: datetime | None
) -> list[FindingDraft] | None:
    """The file's findings, or None (after one line on stderr) when it cannot be read."""
    try:
        return lint_file(Path(name), policy, catalog, as_of)
    except (OSError, UnicodeDecodeError) as exc:
        click.echo(f"hindsight lint: cannot read {name}: {_reason(exc)}", err=True)
        return None


def _reason(exc: OSError | UnicodeDecodeError) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 ({exc.reason} at byte {exc.start})"
    return exc.strerror or str(exc)
