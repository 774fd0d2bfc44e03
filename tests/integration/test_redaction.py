"""Sharing outside the team: `?redact=roles` / `--redact` leaves no personal name anywhere.

The fixture is the first demo incident (participants in and outside the catalog,
action owners, a facilitator) with names added to free text: full names, a given
name alone, an email and a catalog person who took no part.
"""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.catalog import load_catalog
from app.cli import main
from app.runtime import Runtime
from app.services.documents import import_document
from tests.conftest import ADMIN_TOKEN, CONFIG_DIR, ApiClient

DEMO = Path(__file__).resolve().parents[2] / "demo" / "01-ecommerce-db-corruption.yaml"


def fixture_doc() -> dict[str, Any]:
    doc = yaml.safe_load(DEMO.read_text())
    doc["timeline"].append(
        {
            "at": "2025-11-21T10:00:00Z",
            "kind": "decision",
            "text": "Maya Okafor asked Tomasz to grant access; Ravi paged maya@example.com.",
            "is_decision": True,
            "rationale": "Lars Eriksson (not on the call) had approved it. Olivia agreed.",
        }
    )
    doc["postmortem"]["lessons"].append("Priya's runbook helped; ask Ines Duarte early.")
    return doc


def names(doc: dict[str, Any]) -> set[str]:
    """Every personal name the fixture carries, whole and by part."""
    catalog = load_catalog(CONFIG_DIR)
    found = {p["name"] for p in doc["participants"] if p.get("name")}
    found |= {a["owner"] for a in doc["actions"] if a.get("owner")}
    found.add(doc["postmortem"]["facilitator"])
    found |= {p.name for p in catalog.people} | {t.lead for t in catalog.teams}
    return found


def assert_no_name(text: str, people: set[str]) -> None:
    for name in people:
        assert not re.search(rf"\b{re.escape(name)}\b", text, re.IGNORECASE), name
        for part in name.split():
            assert not re.search(rf"\b{re.escape(part)}\b", text), (part, name)
    assert "maya@example.com" not in text


@pytest.fixture
def shared_incident(rt: Runtime) -> tuple[str, set[str]]:
    doc = fixture_doc()
    key = import_document(rt, copy.deepcopy(doc), actor="test")
    return key, names(doc)


def test_postmortem_views_keep_roles_and_drop_names(
    api: ApiClient, shared_incident: tuple[str, set[str]]
) -> None:
    key, people = shared_incident
    plain = api.get(f"/api/v1/incidents/{key}/postmortem?format=md").get_data(as_text=True)
    assert "Maya Okafor" in plain and "Tomasz" in plain  # the fixture does carry names
    for fmt in ("json", "md", "html"):
        res = api.get(f"/api/v1/incidents/{key}/postmortem?format={fmt}&redact=roles")
        assert res.status_code == 200
        assert_no_name(res.get_data(as_text=True), people)
    body = api.get(f"/api/v1/incidents/{key}/postmortem?redact=roles").get_json()
    roles = {p["role"]: p["name"] for p in body["participants"]}
    assert roles["incident_commander"] == "The incident commander"
    assert body["postmortem"]["facilitator"] == "The facilitator"
    decision = next(t for t in body["timeline"] if "grant access" in t["text"])
    assert decision["text"].startswith(
        "The incident commander asked a subject-matter expert to grant"
    )
    assert decision["rationale"] == (
        "The infrastructure team lead (not on the call) had approved it. "
        "A business stakeholder agreed."
    )
    bad = api.get(f"/api/v1/incidents/{key}/postmortem?redact=names")
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["loc"] == ["query", "redact"]


def test_compliance_export_redacted(api: ApiClient, shared_incident: tuple[str, set[str]]) -> None:
    key, people = shared_incident
    admin = api.as_token(ADMIN_TOKEN)
    res = admin.post("/api/v1/exports?redact=roles", json={"incident": key})
    assert res.status_code == 200
    with zipfile.ZipFile(io.BytesIO(res.get_data())) as z:
        files = {n: z.read(n).decode() for n in z.namelist()}
    assert {f"{key}/postmortem.md", f"{key}/audit.jsonl", f"{key}/actions.json"} <= set(files)
    for name, text in files.items():
        assert_no_name(text, people)
        if name.endswith(".json"):
            assert_no_name(json.dumps(json.loads(text), ensure_ascii=False), people)
    assert json.loads(files["manifest.json"])["redacted"] == "roles"
    plain = admin.post("/api/v1/exports", json={"incident": key}).get_data()
    with zipfile.ZipFile(io.BytesIO(plain)) as z:
        assert "Maya Okafor" in z.read(f"{key}/postmortem.md").decode()


def test_cli_redact(
    committed_rt: Runtime,
    committed_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    doc = fixture_doc()
    key = import_document(committed_rt, copy.deepcopy(doc), actor="test")
    monkeypatch.setenv("HINDSIGHT_DATABASE_URL", committed_database_url)
    monkeypatch.setenv("HINDSIGHT_CONFIG_DIR", str(CONFIG_DIR))
    monkeypatch.delenv("HINDSIGHT_REDIS_URL", raising=False)
    monkeypatch.delenv("HINDSIGHT_EXPORT_SIGNING_KEY", raising=False)
    assert main(["export", key, "--redact", "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert_no_name(out, names(doc))
    assert json.loads(out)["participants"][0]["name"] == "The incident commander"
    path = tmp_path / "shared.zip"
    assert main(["export", key, "--archive", str(path), "--redact"]) == 0
    with zipfile.ZipFile(path) as z:
        for member in z.namelist():
            assert_no_name(z.read(member).decode(), names(doc))
    assert main(["verify", str(path)]) == 0  # the redacted archive verifies as it stands
