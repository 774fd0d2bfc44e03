"""Import carries history, and a document naming an incident updates it instead of duplicating.

The update semantics (README, "Import and export"): empty fields are filled,
missing rows added, stored values that differ are kept and listed; statuses
and status history are never moved by an import.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from app.demo import DEMO_DIR
from app.domain.errors import Invalid
from app.queue import BackgroundQueue
from app.runtime import Runtime
from app.services.documents import export_document, import_document, import_or_update
from tests.conftest import ApiClient

HISTORY: dict[str, Any] = {
    "incident": {
        "title": "Payments queue backlog",
        "severity": "SEV2",
        "status": "closed",
        "services": ["payments"],
        "created_at": "2025-03-01T09:30:00Z",
        "started_at": "2025-03-01T08:00:00Z",
        "detected_at": "2025-03-01T09:10:00+01:00",
        "resolved_at": "2025-03-01T11:00:00Z",
        "closed_at": "2025-03-02T11:00:00Z",
        "impact": {"revenue": 1250.5, "currency": "EUR"},
    },
    "timeline": [
        {"at": "2025-03-01T08:10:00Z", "kind": "detection", "text": "Queue depth alert fired"},
        {"at": "2025-03-01T11:00:00Z", "kind": "resolution", "text": "Backlog drained"},
    ],
    "causes": [
        {"ref": "C1", "kind": "root_cause", "category": "capacity", "statement": "One consumer"}
    ],
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
            "history": [
                {"to_status": "open", "at": "2025-03-03T10:00:00Z", "actor": "ines"},
                {
                    "from_status": "open",
                    "to_status": "in_progress",
                    "at": "2025-03-05T10:00:00Z",
                    "actor": "priya",
                },
                {
                    "from_status": "in_progress",
                    "to_status": "done",
                    "at": "2025-03-20T16:00:00Z",
                    "actor": "priya",
                },
                {
                    "from_status": "done",
                    "to_status": "verified",
                    "at": "2025-03-27T12:00:00Z",
                    "actor": "noor",
                },
            ],
        }
    ],
    "postmortem": {
        "status": "published",
        "facilitator": "Ines Duarte",
        "summary": "A single consumer could not keep up with the end-of-month peak.",
        "published_at": "2025-03-06T15:00:00Z",
    },
}


def _settle(rt: Runtime) -> None:
    """Exports are taken once the import's evaluation ran (the rules may add to the record)."""
    if isinstance(rt.queue, BackgroundQueue):
        assert rt.queue.wait_idle(60)


def _export(rt: Runtime, key: str) -> dict[str, Any]:
    return export_document(rt, key).model_dump(mode="json", exclude_none=True)


def _count(rt: Runtime, table: str) -> int:
    with rt.db.sessions() as s:
        return int(s.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_history_is_imported_and_exported_as_it_happened(rt: Runtime) -> None:
    key = import_document(rt, copy.deepcopy(HISTORY), actor="test")
    _settle(rt)
    doc = _export(rt, key)
    action = doc["actions"][0]
    assert action["created_at"] == "2025-03-03T10:00:00Z"
    assert action["completed_at"] == "2025-03-20T16:00:00Z"  # from the history's move to done
    assert action["verified_at"] == "2025-03-27T12:00:00Z"
    assert [(h["to_status"], h["actor"]) for h in action["history"]] == [
        ("open", "ines"),
        ("in_progress", "priya"),
        ("done", "priya"),
        ("verified", "noor"),
    ]
    assert doc["postmortem"]["published_at"] == "2025-03-06T15:00:00Z"
    assert doc["incident"]["created_at"] == "2025-03-01T09:30:00Z"
    assert doc["incident"]["detected_at"] == "2025-03-01T08:10:00Z"
    assert doc["incident"]["impact"] == {"revenue": 1250.5, "currency": "EUR"}


@pytest.mark.parametrize("path", sorted(DEMO_DIR.glob("*.yaml")), ids=lambda p: p.stem[:2])
def test_an_export_imported_twice_is_one_incident_with_the_same_history(
    rt: Runtime, path: Path
) -> None:
    key = import_document(rt, yaml.safe_load(path.read_text()), actor="test")
    _settle(rt)
    before = _export(rt, key)
    incidents, history = _count(rt, "incidents"), _count(rt, "action_status_changes")
    for _ in range(2):
        result = import_or_update(rt, copy.deepcopy(before), actor="test")
        _settle(rt)
        assert (result.key, result.created, result.changed, result.kept) == (key, False, False, [])
    assert _export(rt, key) == before
    assert (_count(rt, "incidents"), _count(rt, "action_status_changes")) == (incidents, history)


def _without_keys(doc: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    for name in ("key", "external_id", "source", "created_at"):
        doc["incident"].pop(name, None)
    for action in doc["actions"]:
        action.pop("key")
    return doc


def test_an_export_imported_as_new_is_the_same_record(rt: Runtime) -> None:
    """Into another database the keys are new; everything else, history included, is equal."""
    key = import_document(rt, copy.deepcopy(HISTORY), actor="test")
    _settle(rt)
    first = _export(rt, key)
    key2 = import_document(rt, _without_keys(first), actor="test")
    _settle(rt)
    assert key2 != key
    assert _without_keys(_export(rt, key2)) == _without_keys(first)


def test_update_fills_and_adds_but_keeps_what_a_person_decided(rt: Runtime, api: ApiClient) -> None:
    doc = copy.deepcopy(HISTORY)
    doc["actions"][0].update(status="open", history=[], owner=None)
    del doc["postmortem"]
    key = import_document(rt, doc, actor="test")
    _settle(rt)
    exported = _export(rt, key)
    act = exported["actions"][0]["key"]
    # A person decides after the import: the action is theirs and in progress.
    patch = {"owner": "Kenji Watanabe", "status": "in_progress"}
    assert api.patch(f"/api/v1/actions/{act}", json=patch).status_code == 200
    _settle(rt)
    stale = copy.deepcopy(exported)
    stale["actions"][0]["owner"] = "Priya Raman"
    stale["timeline"].append({"at": "2025-03-01T10:00:00Z", "kind": "note", "text": "Paused"})
    stale["postmortem"] = {"status": "draft", "lessons": ["Forecast month-end peaks"]}
    result = import_or_update(rt, stale, actor="test")
    _settle(rt)
    assert (result.key, result.created) == (key, False)
    assert result.added == {"timeline events": 1}
    assert {"actions[0].owner", "actions[0].status", "actions[0].history"} <= set(result.kept)
    assert "postmortem.lessons" in result.filled
    after = _export(rt, key)
    assert after["actions"][0]["owner"] == "Kenji Watanabe"
    assert after["actions"][0]["status"] == "in_progress"
    assert after["postmortem"]["lessons"] == ["Forecast month-end peaks"]
    assert len(after["timeline"]) == len(exported["timeline"]) + 1
    assert _count(rt, "incidents") == 1


def test_external_id_names_the_incident(rt: Runtime) -> None:
    doc = copy.deepcopy(HISTORY)
    doc["incident"].update(source="pagerduty", external_id="Q1ABCDEF")
    first = import_or_update(rt, copy.deepcopy(doc), actor="test")
    again = import_or_update(rt, copy.deepcopy(doc), actor="test")
    _settle(rt)
    assert first.created and not again.created and again.key == first.key
    assert _count(rt, "incidents") == 1


@pytest.mark.parametrize(
    ("mutate", "loc"),
    [
        (lambda d: d["incident"].update(key="INC-999"), ["incident", "key"]),
        (
            lambda d: d["actions"][0]["history"][2].update(from_status="open"),
            ["actions", 0, "history", 2, "from_status"],
        ),
        (
            lambda d: d["actions"][0]["history"][1].update(at="2025-03-30T00:00:00Z"),
            ["actions", 0, "history", 2, "at"],
        ),
        (
            lambda d: d["actions"][0]["history"][3].update(to_status="blocked"),
            ["actions", 0, "history", 3, "to_status"],
        ),
        (
            lambda d: d["actions"][0].update(status="open", history=[]),
            ["actions", 0, "completed_at"],
        ),
        (lambda d: d["postmortem"].update(status="draft"), ["postmortem", "published_at"]),
        (lambda d: d["actions"][0].update(completed_at="soon"), ["actions", 0, "completed_at"]),
    ],
)
def test_bad_history_names_the_field_and_stores_nothing(
    rt: Runtime, mutate: Any, loc: list[Any]
) -> None:
    doc = copy.deepcopy(HISTORY)
    doc["actions"][0]["completed_at"] = "2025-03-20T16:00:00Z"
    mutate(doc)
    with pytest.raises(Invalid) as err:
        import_or_update(rt, doc, actor="test")
    assert loc in [e["loc"] for e in err.value.errors or []], err.value.errors
    assert _count(rt, "incidents") == 0


def test_the_api_imports_and_exports_the_same_document(api: ApiClient) -> None:
    created = api.post("/api/v1/imports", json=copy.deepcopy(HISTORY))
    assert created.status_code == 200 and created.json["created"] is True, created.json
    key = created.json["key"]
    doc = api.get(f"/api/v1/incidents/{key}/document").json
    assert doc["actions"][0]["history"][-1]["to_status"] == "verified"
    again = api.post("/api/v1/imports", json=doc)
    assert again.json == {"key": key, "created": False, "added": {}, "filled": [], "kept": []}
    doc["actions"][0]["history"][1]["from_status"] = "done"
    bad = api.post("/api/v1/imports", json=doc)
    assert bad.status_code == 422
    assert ["body", "actions", 0, "history", 1, "from_status"] in [
        e["loc"] for e in bad.json["errors"]
    ]


def test_the_cli_updates_the_incident_its_export_names(
    committed_app: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from app.cli import main
    from tests.conftest import runtime

    monkeypatch.setenv("HINDSIGHT_DATABASE_URL", runtime(committed_app).settings.database_url)
    path, exported = tmp_path / "doc.yaml", tmp_path / "export.yaml"
    path.write_text(yaml.safe_dump(HISTORY))
    assert main(["import", str(path)]) == 0
    assert "as INC-1" in capsys.readouterr().out
    assert main(["export", "INC-1", "-o", str(exported)]) == 0
    assert main(["import", str(exported)]) == 0
    assert "updated INC-1: added nothing" in capsys.readouterr().out
    assert _count(runtime(committed_app), "incidents") == 1
