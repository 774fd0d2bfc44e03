"""`hindsight sync check` against the live project's create metadata."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from app.cli import main
from app.models import OutboxItem
from app.runtime import Runtime
from tests.conftest import ApiClient
from tests.jira_server import SEVERITY, Settings

from .conftest import SyncEnv, cli_env, complete_incident, jira_settings, start_jira
from .seed import CONFIG_DIR


def test_check_passes_with_the_shipped_mapping(
    env: SyncEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_env(monkeypatch, env.rt.settings)
    assert main(["sync", "check"]) == 0
    out = capsys.readouterr().out
    assert f"Jira {env.mode}, project OPS" in out
    assert "mapping OK" in out


def test_check_names_every_field_jira_would_reject(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    srv = start_jira("dc")
    request.addfinalizer(srv.stop)
    srv.set_required_fields("Task", ["duedate", SEVERITY])
    config = tmp_path / "config"
    config.mkdir()
    shutil.copy(CONFIG_DIR / "catalog.yaml", config / "catalog.yaml")
    mapping = yaml.safe_load((CONFIG_DIR / "jira.yaml").read_text())
    mapping["priorities"]["P0"] = "Urgent"
    mapping["custom_fields"].append(
        {"field": "customfield_99999", "source": "team", "entities": ["action"]}
    )
    (config / "jira.yaml").write_text(yaml.safe_dump(mapping))
    cli_env(monkeypatch, jira_settings(database_url, srv, config_dir=config))

    assert main(["sync", "check"]) == 1
    out = capsys.readouterr().out
    assert "Jira dc, project OPS" in out
    assert "action: customfield_99999: cannot be set: not on the create screen of 'Task'" in out
    assert f"action: {SEVERITY}: required by Jira (Severity) but Hindsight sends nothing" in out
    assert "action: duedate: required by Jira; a action without one is rejected" in out
    assert "action: priority: value(s) ['Urgent'] not offered" in out
    assert "incident:" not in out, "the Bug and Story screens accept everything"


def test_sync_commands_say_when_no_jira_is_configured(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HINDSIGHT_DATABASE_URL", database_url)
    for var in ("HINDSIGHT_JIRA_URL", "HINDSIGHT_JIRA_PROJECT", "HINDSIGHT_REDIS_URL"):
        monkeypatch.delenv(var, raising=False)
    for command in (["sync", "check"], ["sync", "push"], ["sync", "reconcile"]):
        assert main(command) == 2
        assert "no Jira configured" in capsys.readouterr().err


def test_without_jira_actions_live_in_hindsight_alone(api: ApiClient, rt: Runtime) -> None:
    key, actions = complete_incident(api, actions=1)
    assert api.patch(f"/api/v1/actions/{actions[0]}", json={"priority": "P0"}).status_code == 200
    with rt.db.sessions() as session:
        assert session.scalar(select(func.count(OutboxItem.id))) == 0
    assert api.get(f"/api/v1/actions/{actions[0]}").json["tracker_key"] is None


def test_data_center_personal_access_token(
    dc_env: SyncEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """DC PATs go in `Authorization: Bearer`; no user name is needed."""
    cli_env(monkeypatch, dc_env.rt.settings)
    monkeypatch.delenv("HINDSIGHT_JIRA_USER")
    monkeypatch.setenv("HINDSIGHT_JIRA_AUTH", "bearer")
    dc_env.srv.reset_counters()
    assert main(["sync", "check"]) == 0
    assert "mapping OK" in capsys.readouterr().out
    assert {r.user for r in dc_env.srv.requests if r.route.endswith("/myself")} == {
        dc_env.srv.bot.account_id
    }


@pytest.mark.parametrize(
    ("version", "legacy"), [((8, 3, 0), True), ((9, 12, 2), False)], ids=["dc-8.3", "dc-9.12"]
)
def test_check_falls_back_to_the_project_wide_createmeta(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
    version: tuple[int, int, int],
    legacy: bool,
) -> None:
    """Before 8.4 Data Center has no per-type createmeta (404); 9.x has no project-wide one.
    Either way the check reads the screens, and still names what a screen would reject."""
    srv = start_jira("dc", settings=Settings(dc_version=version))
    request.addfinalizer(srv.stop)
    srv.set_required_fields("Task", [SEVERITY])
    cli_env(monkeypatch, jira_settings(database_url, srv))
    assert main(["sync", "check"]) == 1
    out = capsys.readouterr().out
    assert f"action: {SEVERITY}: required by Jira (Severity) but Hindsight sends nothing" in out
    assert "postmortem:" not in out and "incident:" not in out
    per_type = srv.calls["GET /rest/api/2/issue/createmeta/{projectIdOrKey}/issuetypes"]
    project_wide = srv.calls["GET /rest/api/2/issue/createmeta"]
    if legacy:
        assert per_type == 3 and project_wide == 3, dict(srv.calls)
        assert all(
            "projects.issuetypes.fields" in r.query
            for r in srv.requests
            if r.route == "/rest/api/2/issue/createmeta"
        )
    else:
        assert project_wide == 0, dict(srv.calls)
    assert not srv.server_errors
