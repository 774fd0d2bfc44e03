"""`hindsight` answers a refusal in one line on stderr with an exit status, never a traceback.

1: the request was refused (`DomainError`: an unknown key, a document that is
not UTF-8); 2: the command line or its input could not be used (a missing
file, a directory, a bad date, a missing option), in click's words.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from tests.conftest import CONFIG_DIR

ROOT = Path(__file__).resolve().parents[2]
LINT_GOOD = ROOT / "tests" / "data" / "lint" / "good.md"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HINDSIGHT_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("HINDSIGHT_CONFIG_DIR", str(CONFIG_DIR))
    monkeypatch.delenv("HINDSIGHT_REDIS_URL", raising=False)


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err.strip()


@pytest.fixture
def not_utf8(tmp_path: Path) -> Path:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("incident:\n  title: Caf\xe9\n".encode("latin-1"))
    return path


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["import", str(tmp_path / "nope.yaml")]) == 2
    err = one_line(capsys)
    assert err.startswith("hindsight import: ") and "nope.yaml" in err and "does not exist" in err


def test_directory_instead_of_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["verify", str(tmp_path)]) == 2
    assert "is a directory" in one_line(capsys)


def test_input_that_is_not_utf8(capsys: pytest.CaptureFixture[str], not_utf8: Path) -> None:
    assert main(["import", str(not_utf8)]) == 1
    err = one_line(capsys)
    assert err.startswith("hindsight: Bad request: ") and "not UTF-8" in err


def test_lint_reports_an_unreadable_file_and_checks_the_rest(
    capsys: pytest.CaptureFixture[str], not_utf8: Path, tmp_path: Path
) -> None:
    assert main(["lint", str(not_utf8), str(tmp_path), str(LINT_GOOD)]) == 2
    out, err = capsys.readouterr()
    assert "good.md: 0 blocker(s)" in out
    assert err.splitlines() == [
        f"hindsight lint: cannot read {not_utf8}: not UTF-8 (invalid continuation byte at byte 22)",
        f"hindsight lint: cannot read {tmp_path}: Is a directory",
    ]


@pytest.mark.parametrize("value", ["2026-13-01", "yesterday", "2026-01-01T00:00"])
def test_bad_from_date(capsys: pytest.CaptureFixture[str], value: str) -> None:
    assert main(["export", "--from", value, "--to", "2026-03-31"]) == 2
    err = one_line(capsys)
    assert err.startswith("hindsight export: Invalid value for '--from': ") and value in err


def test_usage_errors_are_one_line_in_clicks_words(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "create", "--name", "me"]) == 2
    assert one_line(capsys) == (
        "hindsight token create: Missing option '--scope'. Choose from: read, write, admin"
    )
    assert main(["export"]) == 2
    assert one_line(capsys) == "hindsight export: give KEY, or --from and --to"
    assert main(["frobnicate"]) == 2
    assert one_line(capsys) == "hindsight: No such command 'frobnicate'."


def test_no_command_shows_the_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "init-db" in capsys.readouterr().err
    assert main(["--help"]) == 0
    assert "verify-audit" in capsys.readouterr().out


def test_unknown_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.setenv("HINDSIGHT_DATABASE_URL", database_url)
    assert main(["export", "INC-404"]) == 1
    assert one_line(capsys) == "hindsight: Not found: no incident INC-404"


def test_evaluate_tells_no_such_incident_from_blockers_found(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    """`evaluate` is a gate whose 1 means "blockers found": an unknown key must not look so."""
    monkeypatch.setenv("HINDSIGHT_DATABASE_URL", database_url)
    assert main(["evaluate", "INC-404"]) == 2
    assert one_line(capsys) == "hindsight: Not found: no incident INC-404"
    assert main(["evaluate"]) == 2
    assert "Missing argument" in one_line(capsys)


def test_field_errors_get_one_indented_line_each(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "doc.json"
    path.write_text('{"incident": {"title": "x"}, "actions": [{"priority": "P7"}]}')
    assert main(["import", str(path)]) == 1
    first, *fields = capsys.readouterr().err.splitlines()
    assert first.startswith("hindsight: Validation failed: 4 invalid field(s)")
    assert fields[0] == "  incident.severity: Field required"
    assert "  actions.0.priority: Input should be 'P0', 'P1', 'P2' or 'P3'" in fields
    assert len(fields) == 4


def test_the_real_command_prints_no_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "import", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "is a directory" in result.stderr
