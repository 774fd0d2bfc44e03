"""Validation records travel: import/export document, Markdown and HTML, and lint reads them.

A record made through the API (`POST /actions/{key}/validations`), or one that came
in with an imported document, is exported with what was checked, the result, when,
by whom and the evidence; imported again it is the same record, never a second one;
and lint on the Markdown finds what the service finds from it (a failed check is
`verification.failed` in both, a verified action with no passing record
`verification.unrecorded`).
"""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from app.demo import DEMO_DIR
from app.queue import BackgroundQueue
from app.rules import markdown, markdown_export
from app.rules.lint import lint_text
from app.runtime import Runtime
from app.services.documents import export_document, import_document, import_or_update
from app.services.postmortems import get_document, render
from tests.conftest import ApiClient
from tests.integration.test_lint_export import _compared, _diff, _service
from tests.integration.test_people import CHECK, done_action, token_for

CHECKED = "Replayed the March peak at 3x in staging\n- backlog stayed under 40 s\n| no pages"
DOC: dict[str, Any] = {
    "incident": {
        "title": "Payments queue backlog",
        "severity": "SEV2",
        "status": "closed",
        "services": ["payments"],
        "started_at": "2025-03-01T08:00:00Z",
        "detected_at": "2025-03-01T08:10:00Z",
        "resolved_at": "2025-03-01T11:00:00Z",
        "closed_at": "2025-03-02T11:00:00Z",
    },
    "causes": [{"ref": "C1", "kind": "root_cause", "category": "capacity", "statement": "One"}],
    "actions": [
        {
            "title": "Autoscale consumers",
            "type": "prevent",
            "owner": "Priya Raman",
            "due_date": "2025-04-01",
            "priority": "P2",
            "success_criteria": "Backlog under 1 minute at 3x load",
            "validation_method": "Load test in staging",
            "addresses": ["C1"],
            "status": "verified",
            "created_at": "2025-03-03T10:00:00Z",
            "completed_at": "2025-03-20T16:00:00Z",
            "verified_at": "2025-03-27T12:00:00Z",
            "validations": [
                {
                    "checked": "Replayed the peak at 2x",
                    "result": "fail",
                    "evidence": "https://ci.example.com/runs/1",
                    "checked_at": "2025-03-21T09:00:00Z",
                    "checked_by": "Noor Haddad",
                    "note": "Scaled too late",
                    "recorded_at": "2025-03-21T09:05:00Z",
                },
                {
                    "checked": CHECKED,
                    "result": "pass",
                    "evidence": "https://ci.example.com/runs/2?a=1&b=<2>",
                    "checked_at": "2025-03-27T12:00:00Z",
                    "checked_by": "Noor Haddad",
                },
            ],
        },
        {
            "title": "Page on backlog age",
            "type": "detect",
            "owner": "Priya Raman",
            "success_criteria": "A page within 5 minutes of a 10-minute backlog",
            "validation_method": "Drill",
            "addresses": ["C1"],
            "status": "verified",
            "created_at": "2025-03-03T10:00:00Z",
            "completed_at": "2025-03-10T10:00:00Z",
        },
    ],
    "postmortem": {"status": "draft", "facilitator": "Ines Duarte", "summary": "Backlog."},
}


DEMOS = sorted(DEMO_DIR.glob("*.yaml"))


def _demo(prefix: str) -> Path:
    return next(p for p in DEMOS if p.stem.startswith(prefix))


def _settle(rt: Runtime) -> None:
    if isinstance(rt.queue, BackgroundQueue):
        assert rt.queue.wait_idle(60)


def _export(rt: Runtime, key: str) -> dict[str, Any]:
    _settle(rt)
    return export_document(rt, key).model_dump(mode="json", exclude_none=True)


def _count(rt: Runtime) -> int:
    with rt.db.sessions() as s:
        return int(s.execute(sa.text("SELECT count(*) FROM action_validations")).scalar_one())


def test_validation_records_round_trip_in_the_document(rt: Runtime) -> None:
    key = import_document(rt, copy.deepcopy(DOC), actor="test")
    doc = _export(rt, key)
    [first, second] = doc["actions"][0]["validations"]
    assert first == {**DOC["actions"][0]["validations"][0], "recorded_at": "2025-03-21T09:05:00Z"}
    assert second["checked"] == CHECKED and second["recorded_at"] == "2025-03-27T12:00:00Z"
    assert "validations" not in doc["actions"][1] or doc["actions"][1]["validations"] == []
    # Imported again (twice), the incident is the same and no record is duplicated.
    records = _count(rt)
    for _ in range(2):
        result = import_or_update(rt, copy.deepcopy(doc), actor="test")
        assert (result.key, result.created, result.changed) == (key, False, False)
    assert _count(rt) == records and _export(rt, key) == doc
    # Into a new incident, keys aside, the same document comes back, records included.
    fresh = copy.deepcopy(doc)
    for name in ("key", "external_id", "source", "created_at"):
        fresh["incident"].pop(name, None)
    for action in fresh["actions"]:
        action.pop("key")
    key2 = import_document(rt, copy.deepcopy(fresh), actor="test")
    again = _export(rt, key2)
    for name in ("key", "external_id", "source", "created_at"):
        again["incident"].pop(name, None)
    for action in again["actions"]:
        action.pop("key")
    assert key2 != key and again == fresh


def _keyless(doc: dict[str, Any]) -> dict[str, Any]:
    """Keys are the database's own; a fresh database numbers its incidents anew."""
    doc = copy.deepcopy(doc)
    doc["incident"].pop("key", None)
    for action in doc["actions"]:
        action.pop("key", None)
    return doc


@pytest.mark.parametrize("source", ["records", *(p.stem[:2] for p in DEMOS)])
def test_an_export_imported_into_a_fresh_database_exports_the_same(
    rt: Runtime, committed_rt: Runtime, source: str
) -> None:
    """Export, import into another (empty) database, export again: the same document, history
    and validation records included (only the keys, which each database assigns, differ)."""
    data = DOC if source == "records" else yaml.safe_load(_demo(source).read_text())
    key = import_document(rt, copy.deepcopy(data), actor="test")
    first = _export(rt, key)
    assert _count(committed_rt) == 0
    key2 = import_document(committed_rt, _keyless(first), actor="test")
    second = _export(committed_rt, key2)
    assert _keyless(second) == _keyless(first)
    assert _count(committed_rt) == sum(len(a.get("validations", [])) for a in first["actions"])


def test_a_record_missing_from_the_stored_action_is_added_by_an_update(rt: Runtime) -> None:
    key = import_document(rt, copy.deepcopy(DOC), actor="test")
    doc = _export(rt, key)
    later = copy.deepcopy(doc)
    later["actions"][1]["validations"] = [
        {
            "checked": "Drill: the page fired after 4 minutes",
            "result": "pass",
            "evidence": "https://pager.example.com/incidents/77",
            "checked_at": "2025-03-11T10:00:00Z",
            "checked_by": "Ines Duarte",
        }
    ]
    result = import_or_update(rt, later, actor="test")
    assert result.added == {"validations": 1} and result.kept == []
    [added] = _export(rt, key)["actions"][1]["validations"]
    assert added["checked_by"] == "Ines Duarte" and added["recorded_at"] == "2025-03-11T10:00:00Z"


def test_records_appear_in_markdown_and_html_and_lint_reads_them(rt: Runtime) -> None:
    key = import_document(rt, copy.deepcopy(DOC), actor="test")
    now = rt.clock()
    service = _service(rt, key, now)
    rules = {f[0] for f in service}
    assert "verification.unrecorded" in rules  # the second action: verified, no record
    doc = get_document(rt, key, at=now)
    md, html = render(doc, "md"), render(doc, "html")
    [one, _] = doc.actions
    for text in (md, html):
        for part in ("V" + str(one.validations[0].id), "Replayed the peak at 2x", "Noor Haddad"):
            assert part in text, part
        assert "2025-03-21T09:00:00Z" in text and "Scaled too late" in text
    assert "https://ci.example.com/runs/2?a=1&amp;b=&lt;2&gt;" in md
    found = lint_text(md, "export.md", rt.policy, rt.catalog)
    assert _compared(found) == service, _diff(_compared(found), service)
    view = markdown_export.enrich(markdown.to_view(markdown.parse(md), key), markdown.parse(md))
    checked = view.actions[0].last_validation
    assert checked is not None and checked.result == "pass" and checked.checked == CHECKED
    assert checked.evidence == "https://ci.example.com/runs/2?a=1&b=<2>"
    assert view.actions[0].has_passing_validation and not view.actions[1].has_passing_validation


def test_a_failed_check_recorded_through_the_api_is_the_same_finding_in_lint(
    api: ApiClient, rt: Runtime
) -> None:
    key, act = done_action(api)
    checker = token_for(api, "Ravi Menon", "write")
    failed = checker.post(
        f"/api/v1/actions/{act}/validations",
        json={**CHECK, "result": "fail", "checked": "Canary\nheld only at 1%"},
    )
    assert failed.status_code == 201 and failed.json["status"] == "open"
    now = rt.clock() + timedelta(seconds=1)
    service = _service(rt, key, now)
    assert any(f[0] == "verification.failed" and f[3] == act for f in service)
    md = render(get_document(rt, key, at=now), "md")
    found = lint_text(md, "export.md", rt.policy, rt.catalog)
    assert _compared(found) == service, _diff(_compared(found), service)
    [failure] = [f for f in found if f.rule == "verification.failed"]
    assert failure.details["checked"] == "Canary\nheld only at 1%"
    assert md.splitlines()[failure.line - 1].startswith(f"- **{act}**")
