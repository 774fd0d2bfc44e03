"""Reading Hindsight's own export back: every rule family, the generated time, exact values.

The integration tests compare lint with the service on real exports
(tests/integration/test_lint_export.py); these pin the reading itself on a
small export written the way `app/templates/postmortem.md.j2` writes one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from app.catalog import Catalog
from app.rules.lint import lint_text
from app.rules.markdown import parse, to_view
from app.rules.markdown_export import enrich, generated_at, keyed
from app.rules.policy import Policy, load_policy

CONFIG = load_policy(Path(__file__).resolve().parents[2] / "config")  # has the obligations

EXPORT = """\
# INC-7: Checkout errors

| | |
|---|---|
| Generated | 2026-03-20T09:00:00Z by Hindsight |
| Severity | SEV2 |
| Status | incident resolved, postmortem draft |
| Source | api |
| Services | checkout |
| Regulatory | gdpr |
| Related incidents | INC-2 (checkout; config) |
| Facilitator | Ines Duarte |
| Review due | 2026-03-08 |
| Review held | 2026-03-05T10:00:00Z |
| Created | 2026-03-01T10:00:00.250000Z |
| Started | 2026-03-01T10:00:00Z |
| Detected | 2026-03-01T10:05:00Z |
| Resolved | 2026-03-01T11:00:00Z |

## Summary

Checkout failed for an hour.

## Timeline

| # | Time (UTC) | Kind | What happened | Decision rationale | Alternatives | Obligation |
|---|---|---|---|---|---|---|
| T4 | 2026-03-01T10:05:00Z | detection | Page fired<br>for checkout | | | |
| T5 | 2026-03-02T09:00:00Z | notification | Told the DPA | | | gdpr.other |

## Participants

- facilitator: Ines Duarte
- incident commander: Noor Haddad (sre)
- business stakeholder: Sam Lee

## Causes

- **RC9** (root cause; config): Pool too small

## Actions

- **ACT-3**: Size the pool
  Status: in progress
  Type: prevent
  Owner: Nobody Known
  Team: _None recorded._
  Due: 2026-03-10
  Priority: P1
  Effort: S
  Score: 70.0
  Compliance: no
  Raised: 2026-03-01T12:00:00Z
  Last activity: 2026-03-01T12:00:00Z
  Addresses: RC9
  Success criteria: No waits at 2x peak
    Owner: not a field, a second line
  Validation: Load test
  Validation records:

  - **V11**: fail at 2026-03-04T10:00:00Z by Noor Haddad
    Checked: Replayed the peak
      - still waiting at 2x
    Evidence: https://ci.example.com/runs/1
    Recorded: 2026-03-04T10:01:00Z
"""


def _view(text: str = EXPORT):  # type: ignore[no-untyped-def]
    doc = parse(text)
    return enrich(to_view(doc, "file.md"), doc)


def test_the_export_is_read_into_the_services_facts() -> None:
    view = _view()
    assert (view.key, view.status, view.services, view.regulatory) == (
        "INC-7",
        "resolved",
        ("checkout",),
        ("gdpr",),
    )
    assert view.created_at == datetime(2026, 3, 1, 10, 0, 0, 250000, tzinfo=UTC)
    assert [(r.key, r.services, r.categories) for r in view.related] == [
        ("INC-2", frozenset({"checkout"}), frozenset({"config"}))
    ]
    assert [c.key for c in view.causes] == ["INC-7/9"]
    [t4, t5] = view.timeline
    assert (t4.key, t4.text, t5.kind, t5.obligation) == (
        "INC-7/4",
        "Page fired\nfor checkout",
        "notification",
        "gdpr.other",
    )
    [action] = view.actions
    assert (action.owner, action.team, action.priority, action.effort, action.score) == (
        "Nobody Known",
        None,
        "P1",
        "S",
        70.0,
    )
    assert action.success_criteria == "No waits at 2x peak\nOwner: not a field, a second line"
    assert action.cause_keys == ("INC-7/9",) and action.status == "in_progress"
    check = action.last_validation
    assert check is not None and (check.id, check.result, check.checked_by) == (
        11,
        "fail",
        "Noor Haddad",
    )
    assert check.checked == "Replayed the peak\n- still waiting at 2x"
    assert not action.has_passing_validation


def test_an_export_is_judged_by_every_family_at_its_generated_time() -> None:
    doc = parse(EXPORT)
    assert generated_at(doc) == datetime(2026, 3, 20, 9, tzinfo=UTC)
    found = {f.rule: f for f in lint_text(EXPORT, "file.md", CONFIG, Catalog())}
    assert {"ownership.unknown_owner", "deadlines.overdue", "verification.failed"} <= set(found)
    assert found["deadlines.overdue"].details["days_overdue"] == 10  # 10 March to 20 March
    action_line = EXPORT.splitlines().index("- **ACT-3**: Size the pool") + 1
    assert found["ownership.unknown_owner"].line == found["verification.failed"].line == action_line
    assert (
        found["compliance.overdue"].line == EXPORT.splitlines().index("| Regulatory | gdpr |") + 1
    )
    assert found["compliance.overdue"].entity_key == "INC-7/gdpr.supervisory_authority"
    notified = EXPORT.replace("gdpr.other", "gdpr.supervisory_authority")  # the DPA was told
    assert not [f for f in lint_text(notified, "f.md", CONFIG) if f.rule.startswith("compliance")]
    later = lint_text(EXPORT, "f.md", Policy(), Catalog(), as_of=datetime(2026, 4, 1, tzinfo=UTC))
    [overdue] = [f for f in later if f.rule == "deadlines.overdue"]
    assert overdue.details["days_overdue"] == 22
    assert overdue.fingerprint == found["deadlines.overdue"].fingerprint


def test_without_the_generated_row_a_document_is_judged_as_hand_written() -> None:
    text = EXPORT.replace("| Generated | 2026-03-20T09:00:00Z by Hindsight |\n", "")
    rules = {f.rule.partition(".")[0] for f in lint_text(text, "file.md", Policy(), Catalog())}
    assert rules <= {"completeness", "language", "lint"}


def test_an_edited_export_with_unreadable_values_is_still_linted() -> None:
    text = (
        EXPORT.replace("Due: 2026-03-10", "Due: tomorrow")
        .replace("Priority: P1", "Priority: P9")
        .replace("Score: 70.0", "Score: lots")
        .replace("Effort: S", "Effort: tiny")
    )
    [action] = _view(text).actions
    assert (action.due_date, action.priority, action.score, action.effort) == (
        None,
        None,
        None,
        None,
    )
    rules = {f.rule for f in lint_text(text, "file.md", Policy(), Catalog())}
    assert "deadlines.overdue" not in rules and "priority.scored" in rules
    garbled = EXPORT.replace("2026-03-20T09:00:00Z by Hindsight", "soon by Hindsight")
    assert generated_at(parse(garbled)) is None
    assert lint_text(garbled, "file.md", Policy(), Catalog()) is not None


def test_the_incidents_times_are_the_heads_not_text_that_looks_like_one() -> None:
    text = EXPORT.replace("| Resolved | 2026-03-01T11:00:00Z |", "| Resolved | _None recorded._ |")
    text = text.replace(
        "Checkout failed for an hour.", "Checkout failed.\nResolved: 2026-03-01T11:00:00Z"
    )
    assert _view(text).resolved_at is None
    assert _view().resolved_at == datetime(2026, 3, 1, 11, tzinfo=UTC)


def test_fields_start_only_at_the_items_own_indentation() -> None:
    lines = ["Owner: Ana", "  Due: not a field", "Due: 2026-01-01", "", "  more"]
    assert keyed(lines, 0, {"owner", "due"}) == {
        "owner": "Ana\nDue: not a field",
        "due": "2026-01-01\n\nmore",
    }


def test_a_hand_written_timeline_item_keeps_each_phrase_on_its_own_line() -> None:
    """Only a table row is one line whatever its cells hold; a list item spans its lines."""
    text = (
        "# Outage\n\n## Summary\n\nCheckout failed.\n\n## Timeline\n\n"
        "- 10:00 alert fired\n  and then Bob forgot to run the canary\n- 11:00 service restored\n\n"
        "## Root causes\n\n- RC1: The pool was too small.\n\n## Action items\n\n"
        "- Size the pool. Addresses: RC1\n  Success criteria: no waits. Validation: load test.\n"
    )
    [blame] = [f for f in lint_text(text, "d.md", Policy()) if f.entity_type == "timeline_event"]
    assert "Bob" in text.splitlines()[blame.line - 1] and blame.line == 10
