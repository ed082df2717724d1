"""RELAYDESK_SECRET_KEY: production refuses to start without it, in plain words, no traceback."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from relaydesk.auth.crypto import SecretKeyMissing, resolve_secret_key
from relaydesk.cli.main import run
from relaydesk.settings import Settings, get_settings


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("RELAYDESK_MODE", "production")
    monkeypatch.delenv("RELAYDESK_SECRET_KEY", raising=False)
    monkeypatch.setenv("RELAYDESK_DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    monkeypatch.setenv("RELAYDESK_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_production_without_a_key_is_refused_and_development_makes_one(tmp_path: Path) -> None:
    with pytest.raises(SecretKeyMissing, match="RELAYDESK_SECRET_KEY is not set"):
        resolve_secret_key(Settings(mode="production", secret_key=None, data_dir=tmp_path))
    key = resolve_secret_key(Settings(mode="development", secret_key=None, data_dir=tmp_path))
    assert key and (tmp_path / "secret.key").read_text().strip() == key
    assert not list(tmp_path.glob("*.db"))


def test_a_command_in_production_without_a_key_exits_2_with_the_reason(
    production: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["relaydesk", "channels", "check"])
    with pytest.raises(SystemExit) as exited:
        run()
    assert exited.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "RELAYDESK_SECRET_KEY is not set" in err and "relaydesk keygen" in err
    assert "Traceback" not in err
