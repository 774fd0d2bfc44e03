"""Import stores all of a document or none of it; export gives the document back."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from flask import Flask

from app.domain.errors import Invalid
from app.services.documents import export_document, import_document
from tests.conftest import runtime, settle

DOC: dict[str, Any] = {
    "incident": {
        "title": "Orders DB failover stalled",
        "severity": "SEV2",
        "status": "resolved",
        "services": ["orders-db"],
        "regulatory": ["sla"],
        "started_at": "2026-02-01T08:00:00Z",
        "detected_at": "2026-02-01T08:03:00Z",
        "resolved_at": "2026-02-01T09:00:00Z",
        "impact": {"customers": 40},
    },
    "timeline": [
        {"at": "2026-02-01T08:03:00Z", "kind": "detection", "text": "Replica lag alert"},
        {
            "at": "2026-02-01T08:20:00Z",
            "kind": "decision",
            "text": "Promote replica",
            "is_decision": True,
            "rationale": "Primary disk full",
            "alternatives": ["wait"],
        },
    ],
    "evidence": [{"ref": "E1", "kind": "metric", "uri": "https://grafana/d/1"}],
    "participants": [{"role": "incident_commander", "name": "Noor Haddad", "team": "sre"}],
    "causes": [
        {
            "ref": "C1",
            "kind": "root_cause",
            "category": "capacity",
            "statement": "Disk filled",
            "evidence": ["E1"],
        },
        {
            "ref": "C2",
            "parent": "C1",
            "kind": "contributing_factor",
            "category": "monitoring",
            "statement": "No disk forecast alert",
        },
    ],
    "actions": [
        {
            "title": "Disk forecast alert",
            "type": "detect",
            "owner": "Priya Raman",
            "due_date": "2026-03-01",
            "priority": "P1",
            "addresses": ["C2"],
        },
        {"title": "Autogrow volumes", "type": "prevent", "status": "done", "addresses": ["C1"]},
    ],
    "postmortem": {"status": "in_review", "facilitator": "Ines Duarte", "lessons": ["Forecast"]},
}


def _counts(app: Flask) -> dict[str, int]:
    with runtime(app).db.sessions() as s:
        return {
            t: s.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("incidents", "timeline_events", "causes", "actions", "evidence")
        }


def test_round_trip(app: Flask) -> None:
    """Each export is taken once the import's evaluation has run (the rules add the SLA
    obligation's action): exporting while the job may or may not have run yet is a race."""
    rt = runtime(app)
    key = import_document(rt, copy.deepcopy(DOC), actor="test")
    settle(app)
    exported = export_document(rt, key).model_dump(mode="json", exclude_none=True)
    assert exported["causes"][1]["parent"] == "C1"
    assert exported["causes"][0]["evidence"] == ["E1"]
    assert exported["actions"][0]["addresses"] == ["C2"]
    assert exported["postmortem"]["facilitator"] == "Ines Duarte"
    assert exported["incident"]["started_at"] == "2026-02-01T08:00:00Z"
    key2 = import_document(rt, exported, actor="test")
    settle(app)
    again = export_document(rt, key2).model_dump(mode="json", exclude_none=True)
    assert again == exported


def test_file_import_via_cli(
    committed_app: Flask,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The CLI writes on a connection of its own: what it stores is committed."""
    from app.cli import main

    app = committed_app
    monkeypatch.setenv("HINDSIGHT_DATABASE_URL", runtime(app).settings.database_url)
    path = tmp_path / "doc.yaml"
    path.write_text(yaml.safe_dump(DOC))
    assert main(["import", str(path)]) == 0
    assert "as INC-1" in capsys.readouterr().out
    bad = copy.deepcopy(DOC)
    bad["actions"][0]["priority"] = "P7"
    bad["causes"][1]["parent"] = "C9"
    path.write_text(yaml.safe_dump(bad))
    assert main(["import", str(path)]) == 1
    err = capsys.readouterr().err
    assert "actions.0.priority" in err
    assert _counts(app)["incidents"] == 1


@pytest.mark.parametrize(
    ("mutate", "loc"),
    [
        (lambda d: d["actions"][1].update(addresses=["C9"]), ["actions", 1, "addresses", 0]),
        (lambda d: d["causes"][0].update(evidence=["E7"]), ["causes", 0, "evidence", 0]),
        (lambda d: d["causes"][1].update(parent="nope"), ["causes", 1, "parent"]),
        (lambda d: d["timeline"][1].update(kind="party"), ["timeline", 1, "kind"]),
        (lambda d: d["incident"].pop("severity"), ["incident", "severity"]),
        (lambda d: d["causes"].append(dict(d["causes"][0])), ["causes", 2, "ref"]),
    ],
)
def test_bad_document_stores_nothing(app: Flask, mutate: Any, loc: list[Any]) -> None:
    doc = copy.deepcopy(DOC)
    mutate(doc)
    before = _counts(app)
    with pytest.raises(Invalid) as err:
        import_document(runtime(app), doc, actor="test")
    assert loc in [e["loc"] for e in err.value.errors or []]
    assert _counts(app) == before


def test_failure_mid_write_rolls_back(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash after some rows were flushed must leave nothing behind."""
    from app.services import documents

    def boom(*_: Any, **__: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(documents, "add_action_with_history", boom)
    with pytest.raises(RuntimeError):
        import_document(runtime(app), copy.deepcopy(DOC), actor="test")
    assert _counts(app) == {k: 0 for k in _counts(app)}


def test_cause_loop_is_rejected(app: Flask) -> None:
    doc = copy.deepcopy(DOC)
    doc["causes"][0]["parent"] = "C2"
    with pytest.raises(Invalid):
        import_document(runtime(app), doc, actor="test")
    assert _counts(app)["incidents"] == 0
