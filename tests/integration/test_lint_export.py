"""One truth in every format: lint on Hindsight's own Markdown finds what the service found.

Lint runs the rules a document can be judged by (completeness and blameless
language; ownership, deadlines, scoring and compliance need the catalog, the
clock and the history of other incidents), so the service's findings of those
families are the ones compared, by rule, entity type and subject. Subjects are
named in the Markdown the way the service names them: the incident by its key,
causes RC<id>, timeline events T<id>, actions by their key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from app.demo import DEMO_DIR
from app.queue import BackgroundQueue
from app.rules import markdown
from app.rules.lint import lint_text
from app.runtime import Runtime
from app.services.documents import import_document
from app.services.findings import list_findings
from app.services.postmortems import get_document, render
from tests.conftest import ApiClient

LINT_FAMILIES = ("completeness", "language")


def _settle(rt: Runtime) -> None:
    if isinstance(rt.queue, BackgroundQueue):
        assert rt.queue.wait_idle(60)


def _subject(entity_type: str, key: str) -> str:
    """The service's `INC-3/17` for cause 17 is `RC17` in the Markdown, timeline event 17 `T17`."""
    prefix = {"cause": "RC", "timeline_event": "T"}.get(entity_type)
    return prefix + key.rsplit("/", 1)[1] if prefix else key


@pytest.mark.parametrize("path", sorted(DEMO_DIR.glob("*.yaml")), ids=lambda p: p.stem[:2])
def test_lint_on_the_markdown_export_equals_the_service(rt: Runtime, path: Path) -> None:
    key = import_document(rt, yaml.safe_load(path.read_text()), actor="test")
    _settle(rt)
    service = sorted(
        (f.rule, f.entity_type, _subject(f.entity_type, f.entity_key))
        for f in list_findings(rt, key)
        if f.rule.partition(".")[0] in LINT_FAMILIES
    )
    text = render(get_document(rt, key), "md")
    found = lint_text(text, key, rt.policy)
    assert sorted((f.rule, f.entity_type, f.entity_key) for f in found) == service
    lines = text.splitlines()
    for f in found:  # every finding points at its own line, not line 1
        assert f.line is not None and f.line > 1, f
        line = lines[f.line - 1]
        if f.rule.startswith("language."):
            assert f.details["phrase"].split()[0] in line, (f.details["phrase"], line)
        elif f.entity_type in {"action", "cause", "timeline_event"}:
            assert f"{f.entity_key}**" in line or f"| {f.entity_key} |" in line, (f, line)


def _incident(api: ApiClient, **extra: Any) -> str:
    body = {
        "title": "Checkout <b>errors</b>",
        "severity": "SEV2",
        "status": "resolved",
        "started_at": "2026-03-01T10:00:00Z",
        "resolved_at": "2026-03-01T11:00:00Z",
        **extra,
    }
    response = api.post("/api/v1/incidents", json=body)
    assert response.status_code == 201, response.json
    return str(response.json["key"])


def test_markdown_escapes_raw_html_and_lint_reads_the_text_back(api: ApiClient) -> None:
    summary = (
        "Users saw <script>alert(1)</script> & 500s.\n# not a heading\n- not a list\n1. nor this"
    )
    key = _incident(
        api,
        summary=summary,
        impact={"revenue": 1250.5, "currency": "EUR"},
    )
    base = f"/api/v1/incidents/{key}"
    lesson = "Alerts on <img src=x onerror=alert(1)> | pipes\nand a second line"
    assert api.patch(f"{base}/postmortem", json={"lessons": [lesson]}).status_code == 200
    event = {"at": "2026-03-01T10:05:00Z", "kind": "detection", "text": "Page <i>fired</i> | x"}
    assert api.post(f"{base}/timeline", json=event).status_code == 201
    text = api.get(f"{base}/postmortem?format=md").get_data(as_text=True)
    assert "<script" not in text and "<img" not in text and "<i>" not in text
    assert "&lt;script&gt;" in text and "1,250.50 EUR" in text
    view = markdown.to_view(markdown.parse(text), key)
    assert view.summary == summary
    assert view.postmortem is not None and view.postmortem.lessons == (lesson,)
    assert [(t.kind, t.text) for t in view.timeline] == [("detection", event["text"])]
    html = api.get(f"{base}/postmortem?format=html").get_data(as_text=True)
    assert "<script>alert" not in html and "1,250.50 EUR" in html


def test_every_format_carries_what_the_rules_read(api: ApiClient) -> None:
    key = _incident(api, summary="Checkout failed.")
    base = f"/api/v1/incidents/{key}"
    cause = api.post(
        f"{base}/causes",
        json={"kind": "root_cause", "category": "config", "statement": "Pool too small"},
    ).json
    action = {
        "title": "Size the pool from load",
        "type": "prevent",
        "cause_ids": [cause["id"]],
        "success_criteria": "No pool waits at 2x peak",
        "validation_method": "Load test",
    }
    act = api.post(f"{base}/actions", json=action).json["key"]
    md = api.get(f"{base}/postmortem?format=md").get_data(as_text=True)
    html = api.get(f"{base}/postmortem?format=html").get_data(as_text=True)
    for text in (md, html):
        for part in (f"RC{cause['id']}", act, "No pool waits at 2x peak", "Load test"):
            assert part in text, part
    [view_action] = markdown.to_view(markdown.parse(md), key).actions
    assert view_action.key == act and view_action.cause_keys == (f"RC{cause['id']}",)
    # Empty sections read the same in both formats.
    assert md.count("_None recorded._") >= 5 and html.count("None recorded.") >= 5
    for section in ("Evidence", "Participants", "What went well", "Lessons"):
        assert f"## {section}\n\n_None recorded._" in md
        assert f"<h2>{section}</h2>" in html


NASTY = (
    "Line one with <b>bold</b> & \\*stars\\* | pipe\n# heading?\n- list?\n1. ordered?\n"
    "> quote\n    indented\n\nPara two: human error caused it."
)


def test_lint_equals_the_service_on_text_that_looks_like_markup(rt: Runtime) -> None:
    """Typed Markdown, HTML, pipes and backslashes neither break the export nor change the text."""
    doc = {
        "incident": {
            "title": "Nasty | <i>title</i>",
            "severity": "SEV1",
            "status": "resolved",
            "summary": NASTY,
            "started_at": "2026-03-01T10:00:00Z",
            "resolved_at": "2026-03-01T12:00:00Z",
        },
        "timeline": [
            {"at": "2026-03-01T10:05:00Z", "kind": "detection", "text": NASTY},
            {
                "at": "2026-03-01T10:30:00Z",
                "kind": "decision",
                "text": "Fail over",
                "is_decision": True,
            },
        ],
        "participants": [{"role": "responder", "name": "Alex Kim", "team": "customer-support"}],
        "causes": [
            {
                "ref": "C1",
                "kind": "root_cause",
                "category": "config",
                "statement": "Alex Kim forgot the flag.",
                "why": "Because\nthe operator was careless",
            },
            {"ref": "C2", "kind": "trigger", "category": "change", "statement": "Deploy"},
        ],
        "actions": [
            {
                "title": "Add a check",
                "type": "prevent",
                "addresses": ["C2"],
                "success_criteria": "x",
            },
            {
                "title": "Rewrite it",
                "type": "prevent",
                "addresses": ["C1"],
                "status": "wont_do",
                "status_reason": "no time",
            },
        ],
        "postmortem": {"summary": "The engineer messed up.", "lessons": [NASTY]},
    }
    key = import_document(rt, doc, actor="test")
    _settle(rt)
    service = sorted(
        (f.rule, f.entity_type, _subject(f.entity_type, f.entity_key))
        for f in list_findings(rt, key)
        if f.rule.partition(".")[0] in LINT_FAMILIES
    )
    text = render(get_document(rt, key), "md")
    found = lint_text(text, key, rt.policy)
    assert sorted((f.rule, f.entity_type, f.entity_key) for f in found) == service
    assert any(rule == "completeness.cause_unaddressed" for rule, _, _ in service)  # won't do
    view = markdown.to_view(markdown.parse(text), key)
    assert view.summary == NASTY and view.postmortem is not None
    assert view.postmortem.lessons == (NASTY,)
    assert view.causes[0].why == "Because\nthe operator was careless"
