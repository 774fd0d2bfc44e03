"""`hindsight evaluate KEY`: re-evaluate an incident's rules now and print its findings."""

from __future__ import annotations

import click

from app import runtime
from app.domain.errors import NotFound
from app.services.evaluation import evaluate_key, warm_up
from app.services.findings import list_findings
from app.settings import Settings

from .common import with_settings


class NoSuchIncident(click.ClickException):
    """Exit 2, not the 1 that means "blocker found"."""

    exit_code = 2


@click.command()
@click.argument("key")
@with_settings
def evaluate(settings: Settings, key: str) -> int:
    """Re-evaluate an incident's rules now and print findings.

    KEY is an incident key such as INC-42. Exit status: 0 no unwaived
    blocker, 1 an unwaived blocker remains (so it can gate a script), 2 no
    such incident or bad usage (one line on stderr).
    """
    rt = runtime.build(settings)
    warm_up(rt)
    try:
        evaluate_key(rt, key)
    except NotFound as exc:  # not "blocker found": a gate must tell the two apart
        raise NoSuchIncident(f"{exc.title}: {exc.detail}") from None
    findings = list_findings(rt, key)
    for f in findings:
        waived = f" (waived by {f.waived_by}: {f.waiver_reason})" if f.waived else ""
        click.echo(
            f"{f.severity:<8} {f.rule:<34} {f.entity_type} {f.entity_key}: {f.message}{waived}"
        )
    open_blockers = [f for f in findings if f.severity == "blocker" and not f.waived]
    click.echo(
        f"{key.upper()}: {len(findings)} finding(s), {len(open_blockers)} unwaived blocker(s)"
    )
    return 1 if open_blockers else 0
