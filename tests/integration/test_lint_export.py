"""One truth in every format: lint on Hindsight's own Markdown finds what the service found.

The export carries every fact the rules read (owners, dates, priorities,
scores, validation records, the timeline's notifications, the incident's times
and flags, the earlier incidents scoring counted), so lint judges it by every
rule family, with the service's catalog, at the moment it was generated. The
comparison is of whole findings: rule, severity, subject, fingerprint,
message, suggestion and details (all but the line, which only lint knows).
The service is asked at the same clock the export is generated at.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.cli import main
from app.demo import DEMO_DIR
from app.queue import BackgroundQueue
from app.rules import markdown
from app.rules.lint import lint_text
from app.rules.model import FindingDraft
from app.runtime import Runtime
from app.services.common import load_incident
from app.services.documents import import_document, import_file_once
from app.services.evaluation import evaluate_and_store
from app.services.findings import list_findings
from app.services.postmortems import get_document, render
from tests.conftest import ApiClient


def _settle(rt: Runtime) -> None:
    if isinstance(rt.queue, BackgroundQueue):
        assert rt.queue.wait_idle(60)


Compared = tuple[str, str, str, str, str, str, str, str]


def _plain(details: dict[str, Any]) -> str:
    return json.dumps(
        {k: v for k, v in details.items() if k != "line"}, sort_keys=True, default=str
    )


def _service(rt: Runtime, key: str, now: datetime) -> list[Compared]:
    """The service's stored findings after an evaluation at `now`."""
    _settle(rt)
    with rt.db.sessions() as session:
        incident_id = load_incident(session, key).id
    evaluate_and_store(rt, incident_id, now=now)
    return sorted(
        (
            f.rule,
            f.severity.value,
            f.entity_type,
            f.entity_key,
            f.fingerprint,
            f.message,
            f.suggestion,
            _plain(f.details),
        )
        for f in list_findings(rt, key)
    )


def _diff(a: list[Compared], b: list[Compared]) -> str:
    return "\n".join(
        [
            "lint only:",
            *map(str, sorted(set(a) - set(b))),
            "service only:",
            *map(str, sorted(set(b) - set(a))),
        ]
    )


def _compared(found: list[FindingDraft]) -> list[Compared]:
    return sorted(
        (
            f.rule,
            f.severity,
            f.entity_type,
            f.entity_key,
            f.fingerprint,
            f.message,
            f.suggestion,
            _plain(f.details),
        )
        for f in found
    )


def _export(rt: Runtime, key: str, now: datetime) -> str:
    return render(get_document(rt, key, at=now), "md")


_SECTION_OF = {
    "completeness.timeline_detection": "## Timeline",
    "completeness.timeline_resolution": "## Timeline",
    "completeness.root_cause": "## Causes",
    "completeness.facilitator": "## Participants",
    "completeness.technical_role": "## Participants",
    "completeness.business_role": "## Participants",
}


def _assert_lines(text: str, found: list[FindingDraft]) -> None:
    """Every finding points at the line it is about, never at line 1."""
    lines = text.splitlines()
    for f in found:
        assert f.line is not None and f.line > 1, f
        line = lines[f.line - 1]
        if f.rule.startswith("language."):
            assert f.details["phrase"].split()[0] in line, (f.details["phrase"], line)
        elif f.entity_type == "action":
            assert line.startswith(f"- **{f.entity_key}**"), (f, line)
        elif f.entity_type == "cause":
            assert line.startswith(f"- **RC{f.entity_key.rsplit('/', 1)[1]}**"), (f, line)
        elif f.entity_type == "timeline_event":
            assert line.startswith(f"| T{f.entity_key.rsplit('/', 1)[1]} |"), (f, line)
        elif f.entity_type == "obligation":
            assert line.startswith("| Regulatory |"), (f, line)
        elif f.rule == "completeness.review_late":
            assert line.startswith("| Review held |"), (f, line)
        else:  # about the whole incident: the heading of the section it concerns
            section = _SECTION_OF.get(f.rule, "## Summary")
            assert line == section, (f, line)


@pytest.mark.parametrize("path", sorted(DEMO_DIR.glob("*.yaml")), ids=lambda p: p.stem[:2])
def test_lint_on_the_markdown_export_equals_the_service(rt: Runtime, path: Path) -> None:
    """Loaded as `hindsight demo` loads it (source demo), exported, linted: the same findings."""
    key, created = import_file_once(rt, path, source="demo", actor="demo")
    assert created
    now = rt.clock()
    service = _service(rt, key, now)
    text = _export(rt, key, now)
    found = lint_text(text, "export.md", rt.policy, rt.catalog)
    assert _compared(found) == service, _diff(_compared(found), service)
    assert service, "every demo incident has findings to compare"
    _assert_lines(text, found)


def test_every_rule_family_is_read_back_from_the_export(rt: Runtime) -> None:
    """The demo incidents between them raise findings of every family; lint raises each."""
    families: set[str] = set()
    for path in sorted(DEMO_DIR.glob("*.yaml")):
        key = import_document(rt, yaml.safe_load(path.read_text()), actor="test")
        now = rt.clock()
        service = _service(rt, key, now)
        found = lint_text(_export(rt, key, now), "export.md", rt.policy, rt.catalog)
        assert _compared(found) == service, path.name
        families |= {f.rule.partition(".")[0] for f in found}
    assert families == {
        "ownership",
        "deadlines",
        "priority",
        "completeness",
        "language",
        "compliance",
        "verification",
    }, families


def test_deadlines_are_judged_at_the_clock_given(rt: Runtime) -> None:
    """Generated later, or linted --as-of later, an open action falls overdue the same way."""
    key = import_document(
        rt, yaml.safe_load(sorted(DEMO_DIR.glob("*.yaml"))[0].read_text()), actor="test"
    )
    later = rt.clock() + timedelta(days=400)
    service = _service(rt, key, later)
    assert any(f[0] == "deadlines.overdue" for f in service)
    text = _export(rt, key, later)
    assert _compared(lint_text(text, "export.md", rt.policy, rt.catalog)) == service
    earlier = _export(rt, key, rt.clock())
    as_of = lint_text(earlier, "export.md", rt.policy, rt.catalog, as_of=later)
    assert {f.fingerprint for f in as_of if f.rule == "deadlines.overdue"} == {
        f[4] for f in service if f[0] == "deadlines.overdue"
    }


def test_the_cli_lints_an_export_as_the_service_judged_it(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`hindsight lint FILE.md` on a saved export: the config dir's policy and catalog, the
    export's generated time; `--as-of` moves the clock."""
    key = import_document(
        rt, yaml.safe_load((DEMO_DIR / "03-healthcare-ehr-outage.yaml").read_text()), actor="test"
    )
    now = rt.clock()
    service = _service(rt, key, now)
    saved = tmp_path / f"{key}.md"
    saved.write_text(_export(rt, key, now), encoding="utf-8")
    monkeypatch.setenv("HINDSIGHT_CONFIG_DIR", str(rt.settings.config_dir))
    status = main(["lint", "--format", "json", str(saved)])
    records = json.loads(capsys.readouterr().out)
    shown = sorted((r["rule"], r["severity"], r["fingerprint"], r["message"]) for r in records)
    assert shown == sorted((f[0], f[1], f[4], f[5]) for f in service)
    assert status == (1 if any(f[1] == "blocker" for f in service) else 0)
    later = now + timedelta(days=400)
    moved = main(["lint", "--format", "json", "--as-of", f"{later:%Y-%m-%dT%H:%M:%SZ}", str(saved)])
    overdue = [r for r in json.loads(capsys.readouterr().out) if r["rule"] == "deadlines.overdue"]
    assert moved == status  # the same blockers: deadlines.overdue warns, it does not block
    assert overdue and all(r["line"] > 1 for r in overdue)


@pytest.mark.parametrize("path", sorted(DEMO_DIR.glob("*.yaml"))[:3], ids=lambda p: p.stem[:2])
def test_a_redacted_export_is_judged_by_the_rules_that_need_no_names(
    rt: Runtime, path: Path
) -> None:
    """Names replaced by roles are no longer the record's people: lint applies completeness
    (the same findings as the service) and language, never ownership, deadlines or scoring."""
    key = import_document(rt, yaml.safe_load(path.read_text()), actor="test")
    now = rt.clock()
    service = [f for f in _service(rt, key, now) if f[0].startswith("completeness.")]
    text = render(get_document(rt, key, redact=True, at=now), "md")
    assert "| Redacted |" in text
    found = lint_text(text, "shared.md", rt.policy, rt.catalog)
    assert {f.rule.partition(".")[0] for f in found} <= {"completeness", "language"}
    completeness = [f for f in found if f.rule.startswith("completeness.")]
    assert _compared(completeness) == service, _diff(_compared(completeness), service)


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
        for label in ("Generated", "Related incidents", "Regulatory", "Created", "Source"):
            assert label in text, label
        for label in ("Raised", "Last activity", "Effort", "Score", "Validation records"):
            assert label in text, label
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
    now = rt.clock()
    service = _service(rt, key, now)
    text = _export(rt, key, now)
    found = lint_text(text, key, rt.policy, rt.catalog)
    assert _compared(found) == service, _diff(_compared(found), service)
    _assert_lines(text, found)
    assert any(f[0] == "completeness.cause_unaddressed" for f in service)  # won't do
    view = markdown.to_view(markdown.parse(text), key)
    assert view.summary == NASTY and view.postmortem is not None
    assert view.postmortem.lessons == (NASTY,)
    assert view.causes[0].why == "Because\nthe operator was careless"
