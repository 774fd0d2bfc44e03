"""`hindsight lint`: Markdown postmortems through the completeness and blameless policies."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from app.cli import main
from app.rules.lint import lint_text
from app.rules.markdown import fields, parse, to_view
from app.rules.policy import Policy

DATA = Path(__file__).resolve().parent.parent / "data" / "lint"


def _lint(text: str) -> set[tuple[int | None, str]]:
    return {(f.line, f.rule) for f in lint_text(textwrap.dedent(text), "doc.md", Policy())}


def test_good_file_passes_with_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(DATA / "good.md")]) == 0
    out = capsys.readouterr().out
    assert "good.md: 0 blocker(s), 0 warning(s), 0 info" in out


def test_bad_file_lists_findings_with_line_numbers_and_exit_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["lint", str(DATA / "bad.md")]) == 1
    out = capsys.readouterr().out
    assert "bad.md:17: blocker [language.human_error]" in out
    assert "    fix: " in out
    found = {(f.line, f.rule) for f in lint_text((DATA / "bad.md").read_text(), "bad.md", Policy())}
    assert found == {
        (5, "completeness.business_role"),
        (5, "completeness.facilitator"),
        (5, "completeness.technical_role"),
        (7, "language.individual_blame"),  # "Bob forgot to run the canary"
        (9, "completeness.timeline_resolution"),
        (12, "completeness.decision_rationale"),
        (13, "language.individual_blame"),  # "was careless"
        (17, "completeness.cause_unaddressed"),
        (17, "language.human_error"),
        (22, "completeness.success_criteria"),
        (22, "completeness.validation_method"),
    }


def test_json_output_and_several_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--format", "json", str(DATA / "good.md"), str(DATA / "bad.md")]) == 1
    out = capsys.readouterr().out
    records = json.loads(out)
    assert {r["file"] for r in records} == {str(DATA / "bad.md")}  # good.md has none
    assert {"line": 17, "rule": "language.human_error", "severity": "blocker"}.items() <= next(
        r for r in records if r["rule"] == "language.human_error"
    ).items()


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    assert main(["lint", str(tmp_path / "missing.md")]) == 2


def test_missing_sections_are_blockers_on_line_1() -> None:
    found = _lint("""\
        # Outage

        Some words.
        """)
    assert (1, "lint.missing_section") in found
    findings = lint_text("# Outage\n", "doc.md", Policy())
    assert sorted(f.details["section"] for f in findings if f.rule == "lint.missing_section") == [
        "actions",
        "causes",
        "summary",
        "timeline",
    ]


def test_headings_are_recognised_at_any_level_and_with_variants() -> None:
    doc = parse(
        "### Executive summary\nx\n#### Chronology\n- a\n## Root Cause Analysis\n- b\n"
        "# Follow-up actions\n- c\n"
    )
    assert set(doc.headings) == {"summary", "timeline", "causes", "actions"}


def test_action_fields_from_list_items_and_tables() -> None:
    doc = parse(
        textwrap.dedent("""\
        ## Actions
        - Add alert
          - **Owner:** Maya
          - Success criteria: alert fires in staging
          - Validation: game day
          - Addresses: RC1, RC3

        | Action | Owner | Done when | Verified by | Root cause |
        |---|---|---|---|---|
        | Fix schema | Ravi | rejects 0 | CI test | RC2 |
        """)
    )
    view = to_view(doc, "doc.md")
    first, second = view.actions
    assert (first.title, first.owner, first.cause_keys) == ("Add alert", "Maya", ("RC1", "RC3"))
    assert (
        first.success_criteria == "alert fires in staging" and first.validation_method == "game day"
    )
    assert (
        second.title,
        second.owner,
        second.success_criteria,
        second.validation_method,
        second.cause_keys,
        second.line,
    ) == ("Fix schema", "Ravi", "rejects 0", "CI test", ("RC2",), 10)
    assert fields(doc.blocks["actions"][0])["owner"] == "Maya"


def test_explicit_cause_ids_and_contributing_factors() -> None:
    view = to_view(
        parse("## Root causes\n- RC4: disk filled\n- retries\n## Contributing factors\n- Friday\n"),
        "d",
    )
    assert [(c.key, c.kind) for c in view.causes] == [
        ("RC4", "root_cause"),
        ("RC2", "root_cause"),
        ("CF1", "contributing_factor"),
    ]


def test_timeline_kinds_tags_and_decisions() -> None:
    view = to_view(
        parse(
            textwrap.dedent("""\
        ## Timeline
        - 10:00 PagerDuty paged the on-call
        - 10:05 [detection] first look
        - 10:10 Decided to fail over because the primary was unreachable
        - 10:20 Decision: wait
        - 10:30 Service restored
        """)
        ),
        "d",
    )
    assert [t.kind for t in view.timeline] == [
        "detection",
        "detection",
        "note",
        "note",
        "resolution",
    ]
    assert [(t.is_decision, bool(t.rationale)) for t in view.timeline[2:4]] == [
        (True, True),
        (True, False),
    ]


def test_participants_roles_and_severity_metadata() -> None:
    doc = parse(
        "Severity: **SEV-1**\n\n## Participants\n- Ana (incident commander)\n"
        "- Raj — customer support\n- Kim, facilitator\n"
    )
    view = to_view(doc, "d")
    assert view.severity == "SEV1"
    assert [(p.name, p.role) for p in view.participants] == [
        ("Ana", "incident_commander"),
        ("Raj", "customer_support"),
        ("Kim", "facilitator"),
    ]


def test_blame_line_points_inside_a_multi_paragraph_summary() -> None:
    found = _lint("""\
        ## Summary

        First paragraph is neutral.

        Second paragraph:
        the intern forgot to drain the node.
        """)
    assert (6, "language.individual_blame") in found


def test_policy_option_tunes_severities(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lenient = tmp_path / "policy.yaml"
    lenient.write_text(
        "rules:\n"
        + "".join(
            f"  {rule}: {{severity: warning}}\n"
            for rule in (
                "completeness.business_role",
                "completeness.facilitator",
                "completeness.technical_role",
                "completeness.timeline_resolution",
                "completeness.cause_unaddressed",
                "completeness.success_criteria",
                "language.human_error",
            )
        )
    )
    assert main(["lint", "--policy", str(lenient), str(DATA / "bad.md")]) == 0
    assert "0 blocker(s)" in capsys.readouterr().out
    bad_policy = tmp_path / "broken.yaml"
    bad_policy.write_text("rules:\n  no.such_rule: {enabled: false}\n")
    assert main(["lint", "--policy", str(bad_policy), str(DATA / "bad.md")]) == 2  # SettingsError
    assert main(["lint", "--policy", str(tmp_path / "none.yaml"), str(DATA / "bad.md")]) == 2


def test_language_findings_outside_the_causes_point_at_their_own_line() -> None:
    """Lessons, went-wrong items and a cause's "Why:" line are reported where they are."""
    text = textwrap.dedent("""\
        # Outage

        ## Summary

        Checkout failed.

        ## Timeline

        - 10:00 alert fired
        - 11:00 service restored

        ## Root causes

        - RC1: The pool was too small.
          Why: The operator forgot to resize it.

        ## Action items

        - Size the pool. Addresses: RC1
          Success criteria: no waits. Validation: load test.

        ## What went wrong

        - Nothing paged.
        - Bob forgot to run the canary.

        ## Lessons

        - The DBA failed to check the backup report.
        """)
    found = {(f.line, f.rule, f.details.get("field")) for f in lint_text(text, "d.md", Policy())}
    lines = text.splitlines()
    language = [f for f in found if f[1].startswith("language.")]
    assert {field for _, _, field in language} >= {"why", "went_wrong[1]", "lessons[0]"}
    for line, _, field in language:
        assert line is not None and line > 1
        assert {"why": "forgot", "went_wrong[1]": "Bob", "lessons[0]": "DBA"}.get(
            str(field), ""
        ) in lines[line - 1]


def test_placeholders_are_no_value_and_escapes_read_back() -> None:
    text = textwrap.dedent("""\
        # INC-9: x

        | | |
        |---|---|
        | Facilitator | _None recorded._ |
        | Resolved | 2026-03-01T11:00:00Z |

        ## Summary

        _None recorded._

        ## Timeline

        | # | Time (UTC) | Kind | What happened | Decision rationale | Alternatives |
        |---|---|---|---|---|---|
        | T4 | 2026-03-01T10:00:00Z | note | Page &lt;b&gt; \\| fired | _None recorded._ | |

        ## Causes

        - **RC7** (contributing factor; config): Pool \\# too small
        """)
    view = to_view(parse(text), "INC-9")
    assert view.summary == "" and view.postmortem and view.postmortem.facilitator is None
    assert view.resolved_at is not None and view.resolved_at.hour == 11
    [event] = view.timeline
    assert (event.key, event.kind, event.text, event.is_decision, event.rationale) == (
        "T4",
        "note",
        "Page <b> | fired",
        True,
        None,
    )
    [cause] = view.causes
    assert (cause.key, cause.kind, cause.category, cause.statement) == (
        "RC7",
        "contributing_factor",
        "config",
        "Pool # too small",
    )
