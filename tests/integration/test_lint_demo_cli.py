"""The whole path by the command line: `hindsight demo --no-serve`, `hindsight export KEY
--format md`, `hindsight lint --format json`, against the service's findings at the moment
each export was generated (read from its head), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from app.models import Incident
from app.rules.markdown import parse
from app.rules.markdown_export import generated_at
from app.runtime import build
from app.services.evaluation import evaluate_and_store
from app.services.findings import list_findings
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]


def run(url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HINDSIGHT_")}
    env.update(
        HINDSIGHT_DATABASE_URL=url,
        HINDSIGHT_CONFIG_DIR=str(ROOT / "config"),
        HINDSIGHT_DATA_DIR=str(data_dir),
    )
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_lint_on_every_demo_export_equals_the_service(
    committed_database_url: str, tmp_path: Path
) -> None:
    url, data = committed_database_url, tmp_path / "data"
    loaded = run(url, data, "demo", "--no-serve")
    assert loaded.returncode == 0, loaded.stderr
    rt = build(make_settings(url, data_dir=data))
    try:
        with rt.db.sessions() as session:
            incidents = dict(session.execute(sa.select(Incident.key, Incident.id)).tuples().all())
        assert len(incidents) == len(list((ROOT / "demo").glob("*.yaml")))
        files = {}
        for key in incidents:
            files[key] = tmp_path / f"{key}.md"
            exported = run(url, data, "export", key, "--format", "md", "-o", str(files[key]))
            assert exported.returncode == 0, exported.stderr
        linted = run(url, data, "lint", "--format", "json", *map(str, files.values()))
        assert linted.returncode in {0, 1} and "Traceback" not in linted.stderr, linted.stderr
        records = json.loads(linted.stdout)
        for key, path in files.items():
            when = generated_at(parse(path.read_text(encoding="utf-8")))
            assert when is not None
            evaluate_and_store(rt, incidents[key], now=when)  # the service, at the same "now"
            service = sorted(
                (f.rule, f.severity.value, f.fingerprint, f.message) for f in list_findings(rt, key)
            )
            found = sorted(
                (r["rule"], r["severity"], r["fingerprint"], r["message"])
                for r in records
                if r["file"] == str(path)
            )
            assert found == service, key
            assert service, key
    finally:
        rt.close()
