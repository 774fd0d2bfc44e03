"""`hindsight evaluate KEY` and `hindsight lint FILE.md`.

Both exit 1 when an unwaived blocker remains, so either can gate a script,
a docs CI job or a pre-commit hook; 2 means the input could not be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.settings import Settings

LINT_HELP = """\
Sections are found by heading words at any level: Summary, Timeline, Root causes,
Action items (required), plus Contributing factors, Lessons learned / What went
well / What went wrong / Where we got lucky, and Participants.
Conventions: root causes are list items, RC1, RC2 ... in order (or an explicit
"RC3:" prefix); each action is a list item (or table row) with "Owner:",
"Success criteria:", "Validation:" and "Addresses: RC1" lines (or columns); a
timeline item about an alert/page/report is the detection, one about service
restored/resolved is the resolution ("[detection]" / "[resolution]" tags win);
"Decision:" items need "Rationale:" or "because". "Severity: SEV1" and
"Facilitator: Name" lines are read anywhere.
Exit status: 0 no blockers, 1 blockers found, 2 the file could not be read."""


def add_commands(sub: Any) -> None:
    ev = sub.add_parser("evaluate", help="re-evaluate an incident's rules now and print findings")
    ev.add_argument("key", help="incident key, e.g. INC-42")
    ev.set_defaults(handler=evaluate_command)
    lint = sub.add_parser(
        "lint",
        help="check a Markdown postmortem (completeness, blameless language)",
        epilog=LINT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    lint.add_argument("files", nargs="+", metavar="FILE.md")
    lint.add_argument("--format", choices=["text", "json"], default="text")
    lint.add_argument("--policy", type=Path, help="policy.yaml to use (default: the config dir's)")
    lint.set_defaults(handler=lint_command)


def evaluate_command(args: argparse.Namespace, settings: Settings) -> int:
    from app import runtime
    from app.services.evaluation import evaluate_key, warm_up
    from app.services.findings import list_findings

    rt = runtime.build(settings)
    warm_up(rt)
    evaluate_key(rt, args.key)
    findings = list_findings(rt, args.key)
    for f in findings:
        waived = f" (waived by {f.waived_by}: {f.waiver_reason})" if f.waived else ""
        print(f"{f.severity:<8} {f.rule:<34} {f.entity_type} {f.entity_key}: {f.message}{waived}")
    open_blockers = [f for f in findings if f.severity == "blocker" and not f.waived]
    print(
        f"{args.key.upper()}: {len(findings)} finding(s), {len(open_blockers)} unwaived blocker(s)"
    )
    return 1 if open_blockers else 0


def lint_command(args: argparse.Namespace, settings: Settings) -> int:
    from .lint import as_records, lint_file, render_text
    from .policy import load_policy, parse_policy

    try:
        policy = (
            parse_policy(args.policy.read_text(encoding="utf-8"), str(args.policy))
            if args.policy
            else load_policy(settings.config_dir)
        )
    except OSError as exc:
        print(f"hindsight lint: cannot read the policy: {exc}", file=sys.stderr)
        return 2
    status = 0
    records: list[dict[str, object]] = []
    for name in args.files:
        try:
            findings = lint_file(Path(name), policy)
        except (OSError, UnicodeDecodeError) as exc:
            print(f"hindsight lint: cannot read {name}: {exc}", file=sys.stderr)
            status = 2
            continue
        if args.format == "json":
            records += as_records(name, findings)
        else:
            print(render_text(name, findings))
        if status == 0 and any(f.severity == "blocker" for f in findings):
            status = 1
    if args.format == "json":
        print(json.dumps(records, indent=2))
    return status
