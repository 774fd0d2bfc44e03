"""The signing key: generated once, never silently replaced, refused in one line when wrong."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.cli import main
from app.domain import signing


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HINDSIGHT_DATABASE_URL", f"sqlite:///{tmp_path / 'unused.db'}")
    monkeypatch.setenv("HINDSIGHT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("HINDSIGHT_SIGNING_KEY_FILE", raising=False)
    return tmp_path


def test_generate_show_and_force(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key_file = env / "data" / "signing-key.pem"
    assert main(["keys", "generate"]) == 0
    first = capsys.readouterr().out
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert signing.public_pem(signing.load_private(key_file.read_bytes())).decode() == first
    assert main(["keys", "generate"]) == 1  # an existing key is never replaced silently
    assert "already exists" in capsys.readouterr().err
    assert main(["keys", "show"]) == 0 and capsys.readouterr().out == first
    assert main(["keys", "generate", "--force"]) == 0
    assert capsys.readouterr().out != first
    assert [p.name for p in key_file.parent.iterdir()] == ["signing-key.pem"]  # no temp file left


def test_a_key_that_is_not_ed25519_is_one_line(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rsa_file = env / "rsa.pem"
    rsa_file.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    monkeypatch.setenv("HINDSIGHT_SIGNING_KEY_FILE", str(rsa_file))
    assert main(["keys", "show"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not an Ed25519 key" in err and str(rsa_file) in err
    rsa_file.write_text("garbage")
    assert main(["keys", "show"]) == 1
    assert "not an unencrypted PEM private key" in capsys.readouterr().err
