"""Operator commands: `keygen`, and `init`/`serve` printing the database without its password."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from relaydesk.auth.crypto import SecretBox, SecretKeyMissing, resolve_secret_key
from relaydesk.cli import main
from relaydesk.settings import Settings, get_settings

runner = CliRunner()
SECRET_URL = "postgresql://relay:Pa55word@db.invalid:5432/relaydesk"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("RELAYDESK_DATABASE_URL", SECRET_URL)
    monkeypatch.setenv("RELAYDESK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_keygen_prints_a_new_usable_secret_key() -> None:
    first = runner.invoke(main.app, ["keygen"])
    second = runner.invoke(main.app, ["keygen"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    key = first.output.strip()
    assert "\n" not in key and key != second.output.strip()
    assert len(base64.urlsafe_b64decode(key)) == 32
    Fernet(key.encode())  # a valid Fernet key, used as given
    settings = Settings(mode="production", secret_key=key)
    box = SecretBox(resolve_secret_key(settings))
    assert box.open(box.seal({"access_token": "x"})) == {"access_token": "x"}


def test_the_production_start_error_names_a_command_that_exists() -> None:
    with pytest.raises(SecretKeyMissing) as refused:
        resolve_secret_key(Settings(mode="production", secret_key=None))
    named = re.findall(r"`relaydesk ([a-z-]+)`", str(refused.value))
    assert named == ["keygen"]
    assert runner.invoke(main.app, [named[0], "--help"]).exit_code == 0


def test_init_prints_the_database_url_without_its_password(env: pytest.MonkeyPatch) -> None:
    migrated: list[str] = []
    env.setattr(main, "init_database", lambda settings: migrated.append(settings.database_url))
    result = runner.invoke(main.app, ["init"])
    assert result.exit_code == 0, result.output
    assert migrated == [SECRET_URL]  # the real URL is still the one used
    assert "Pa55word" not in result.output
    assert "relay:***@db.invalid:5432/relaydesk" in result.output


def test_serve_prints_the_database_url_without_its_password(env: pytest.MonkeyPatch) -> None:
    import uvicorn

    import relaydesk.app

    @contextmanager
    def opened(settings: Any, migrate: bool = True, **_options: Any) -> Iterator[Any]:
        yield SimpleNamespace(triage=SimpleNamespace(triager=object()))

    served: list[Any] = []
    env.setattr(main, "init_database", lambda settings: None)
    env.setattr(main, "opened", opened)
    env.setattr(relaydesk.app, "create_app", lambda settings, container: "app")
    env.setattr(uvicorn, "run", lambda app, **kwargs: served.append(app))
    result = runner.invoke(main.app, ["serve"])
    assert result.exit_code == 0, result.output
    assert served == ["app"]
    assert "Pa55word" not in result.output
    assert "relay:***@db.invalid:5432/relaydesk" in result.output
