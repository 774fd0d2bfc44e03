"""A wrong setting stops the program with the variable's name."""

from __future__ import annotations

import pytest

from app.settings import SettingsError, load_settings


def test_defaults_are_the_embedded_product(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HINDSIGHT_DATABASE_URL", "HINDSIGHT_REDIS_URL", "HINDSIGHT_JIRA_URL"):
        monkeypatch.delenv(var, raising=False)
    settings = load_settings()
    assert settings.database_url == "sqlite:///hindsight.db"
    assert settings.redis_url is None and not settings.jira_enabled


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("HINDSIGHT_PORT", "eighty"),
        ("HINDSIGHT_MAX_BODY_BYTES", "-1"),
        ("HINDSIGHT_DATABASE_URL", "mysql://x"),
        ("HINDSIGHT_JIRA_TIMEOUT_SECONDS", "0"),
    ],
)
def test_wrong_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert var in str(err.value)


def test_postgres_url_gets_the_psycopg_driver() -> None:
    settings = load_settings(database_url="postgresql://u@h/db")
    assert settings.sqlalchemy_url == "postgresql+psycopg://u@h/db"


def test_cli_exits_2_on_bad_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main

    monkeypatch.setenv("HINDSIGHT_PORT", "-5")
    assert main(["verify-audit"]) == 2
    assert "HINDSIGHT_PORT" in capsys.readouterr().err
