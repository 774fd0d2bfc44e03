"""`hindsight lint FILE.md...`: Markdown postmortems written outside Hindsight.

Only the rules package is imported here (no database, no services), so a
pre-commit hook or a docs CI job pays for parsing Markdown and nothing else.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

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
Exit status: 0 no blockers, 1 blockers found, 2 a file could not be read."""


@click.command(epilog=LINT_HELP)
@click.argument("files", nargs=-1, required=True, metavar="FILE.md...", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option(
    "--policy",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="policy.yaml to use (default: the config dir's)",
)
@with_settings
def lint(settings: Settings, files: tuple[str, ...], fmt: str, policy: Path | None) -> int:
    """Check postmortems written in Markdown.

    Completeness and blameless language, as in Hindsight itself. Prints
    `file:line: severity [rule] message`. A file that cannot be read is
    reported on one line and the others are still checked.
    """
    rules = _policy(policy) if policy else load_policy(settings.config_dir)
    status = 0
    records: list[dict[str, object]] = []
    for name in files:
        findings = _lint_one(name, rules)
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


def _lint_one(name: str, policy: Policy) -> list[FindingDraft] | None:
    """The file's findings, or None (after one line on stderr) when it cannot be read."""
    try:
        return lint_file(Path(name), policy)
    except (OSError, UnicodeDecodeError) as exc:
        click.echo(f"hindsight lint: cannot read {name}: {_reason(exc)}", err=True)
        return None


def _reason(exc: OSError | UnicodeDecodeError) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 ({exc.reason} at byte {exc.start})"
    return exc.strerror or str(exc)
