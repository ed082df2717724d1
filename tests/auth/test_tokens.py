"""API tokens expire, can be listed (never their secrets) and revoked, and die with their session."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from typer.testing import CliRunner

from relaydesk.cli import common, token_cmd
from relaydesk.cli.main import app as cli_app
from relaydesk.container import Container
from relaydesk.core.timeutil import as_utc, utcnow
from relaydesk.db import make_engine
from relaydesk.migrate import alembic_config
from relaydesk.models import ApiToken, User
from tests.api.conftest import login
from tests.auth.conftest import cookie_login
from tests.conftest import PG_URL


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def mint(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/tokens", json={"name": "ci", **body}, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_token_expires_after_its_lifetime(app_client: TestClient, container: Container) -> None:
    sam = login(app_client, "sam@test.example")
    default = mint(app_client, sam)
    lifetime = datetime.fromisoformat(default["expires_at"]) - datetime.fromisoformat(default["created_at"])
    assert lifetime == timedelta(days=container.settings.token_days) == timedelta(days=90)
    short = mint(app_client, sam, expires_days=1)
    assert app_client.get("/api/v1/me", headers=bearer(short["token"])).status_code == 200
    with container.sessions.begin() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == short["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    expired = app_client.get("/api/v1/me", headers=bearer(short["token"]))
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    assert app_client.get("/api/v1/me", headers=bearer(default["token"])).status_code == 200
    listed = {t["id"]: t for t in app_client.get("/api/v1/tokens", headers=sam).json()}
    assert listed[short["id"]]["expired"] is True and listed[default["id"]]["expired"] is False
    for bad in (0, -3, 100000, "soon"):
        refused = app_client.post("/api/v1/tokens", json={"name": "x", "expires_days": bad}, headers=sam)
        assert refused.status_code == 422 and "expires_days" in refused.json()["detail"]


def test_a_revoked_token_is_refused(app_client: TestClient) -> None:
    sam = login(app_client, "sam@test.example")
    made = mint(app_client, sam)
    assert app_client.get("/api/v1/me", headers=bearer(made["token"])).status_code == 200
    assert app_client.delete(f"/api/v1/tokens/{made['id']}", headers=sam).status_code == 204
    assert app_client.get("/api/v1/me", headers=bearer(made["token"])).status_code == 401
    assert made["id"] not in [t["id"] for t in app_client.get("/api/v1/tokens", headers=sam).json()]
    assert app_client.delete(f"/api/v1/tokens/{made['id'] + 1000}", headers=sam).status_code == 404
    # A leaked token can be revoked with itself; afterwards it can do nothing, not even that.
    leaked = mint(app_client, sam)
    assert (
        app_client.delete(f"/api/v1/tokens/{leaked['id']}", headers=bearer(leaked["token"])).status_code
        == 204
    )
    assert (
        app_client.delete(f"/api/v1/tokens/{leaked['id']}", headers=bearer(leaked["token"])).status_code
        == 401
    )


def test_the_list_shows_when_a_token_was_last_used_and_never_its_secret(
    app_client: TestClient, container: Container
) -> None:
    sam = login(app_client, "sam@test.example")
    made = mint(app_client, sam, name="reporting")
    rows = {t["id"]: t for t in app_client.get("/api/v1/tokens", headers=sam).json()}
    assert rows[made["id"]]["last_used_at"] is None
    assert "token" not in rows[made["id"]] and made["token"] not in str(rows)
    assert set(rows[made["id"]]) >= {"name", "created_at", "expires_at", "last_used_at", "prefix", "email"}

    app_client.get("/api/v1/me", headers=bearer(made["token"]))
    first = app_client.get("/api/v1/tokens", headers=sam).json()
    used = next(t for t in first if t["id"] == made["id"])["last_used_at"]
    assert used is not None
    # Used again within the minute: no write, the recorded time stays.
    app_client.get("/api/v1/me", headers=bearer(made["token"]))
    again = next(t for t in app_client.get("/api/v1/tokens", headers=sam).json() if t["id"] == made["id"])
    assert again["last_used_at"] == used
    # A minute later it is written again.
    with container.sessions.begin() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == made["id"])
            .values(last_used_at=utcnow() - timedelta(minutes=2))
        )
    app_client.get("/api/v1/me", headers=bearer(made["token"]))
    with container.sessions() as session:
        row = session.get(ApiToken, made["id"])
        assert row is not None and as_utc(row.last_used_at) > utcnow() - timedelta(minutes=1)  # type: ignore[operator]


def test_logging_out_revokes_the_tokens_that_session_minted(app_client: TestClient) -> None:
    csrf = cookie_login(app_client, "sam@test.example")
    from_session = mint(app_client, {"X-CSRF-Token": csrf})
    assert from_session["from_session"] is True
    app_client.cookies.clear()
    other = login(app_client, "sam@test.example")  # another session's token: not affected
    app_client.cookies.clear()
    assert app_client.get("/api/v1/me", headers=bearer(from_session["token"])).status_code == 200

    csrf = cookie_login(app_client, "sam@test.example")
    second = mint(app_client, {"X-CSRF-Token": csrf})
    assert app_client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    app_client.cookies.clear()
    assert app_client.get("/api/v1/me", headers=bearer(second["token"])).status_code == 401
    assert app_client.get("/api/v1/me", headers=bearer(from_session["token"])).status_code == 200
    assert app_client.get("/api/v1/me", headers=other).status_code == 200
    # Minted with a bearer token: no session to die with.
    by_token = mint(app_client, other)
    assert by_token["from_session"] is False


def test_the_web_logout_revokes_them_too(app_client: TestClient) -> None:
    from tests.web.test_pages import browser_login, csrf_of

    browser_login(app_client, "sam@test.example")
    csrf = csrf_of(app_client.get("/logout").text)
    made = mint(app_client, {"X-CSRF-Token": csrf})
    app_client.post("/logout", data={"csrf": csrf})
    app_client.cookies.clear()
    assert app_client.get("/api/v1/me", headers=bearer(made["token"])).status_code == 401


def test_who_may_list_mint_and_revoke_whose_tokens(app_client: TestClient, container: Container) -> None:
    admin, sam, sia = (login(app_client, f"{u}@test.example") for u in ("admin", "sam", "sia"))
    sams = mint(app_client, sam, name="sam's")
    sias = mint(app_client, sia, name="sia's")
    # An agent sees and revokes only their own.
    mine = app_client.get("/api/v1/tokens", headers=sam).json()
    assert {t["email"] for t in mine} == {"sam@test.example"} and sams["id"] in [t["id"] for t in mine]
    assert app_client.get("/api/v1/tokens?email=sia@test.example", headers=sam).status_code == 403
    assert app_client.delete(f"/api/v1/tokens/{sias['id']}", headers=sam).status_code == 404
    assert (
        app_client.post(
            "/api/v1/tokens", json={"name": "x", "email": "sia@test.example"}, headers=sam
        ).status_code
        == 403
    )
    # An admin sees everyone's in the org, filters by user, mints and revokes for them.
    everyone = {t["email"] for t in app_client.get("/api/v1/tokens", headers=admin).json()}
    assert {"sam@test.example", "sia@test.example", "admin@test.example"} <= everyone
    only_sia = app_client.get("/api/v1/tokens", params={"email": "SIA@test.example"}, headers=admin).json()
    assert {t["email"] for t in only_sia} == {"sia@test.example"}
    for_sam = mint(app_client, admin, email="sam@test.example", expires_days=7)
    assert for_sam["email"] == "sam@test.example"
    assert (
        app_client.get("/api/v1/me", headers=bearer(for_sam["token"])).json()["email"] == "sam@test.example"
    )
    assert app_client.delete(f"/api/v1/tokens/{sias['id']}", headers=admin).status_code == 204
    assert app_client.get("/api/v1/me", headers=bearer(sias["token"])).status_code == 401
    nobody = app_client.post(
        "/api/v1/tokens", json={"name": "x", "email": "nobody@test.example"}, headers=admin
    )
    assert nobody.status_code == 404
    # Nobody mints a token that may do more than they may.
    with container.sessions.begin() as session:
        session.execute(update(User).where(User.email == "sia@test.example").values(role="owner"))
    above = app_client.post("/api/v1/tokens", json={"name": "x", "email": "sia@test.example"}, headers=admin)
    assert above.status_code == 403


# -- the command line -----------------------------------------------------------------------------


@pytest.fixture
def cli(container: Container, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The CLI in-process, on the test database (both of them) through the test container."""

    @contextmanager
    def opened(*_args: Any, **_kwargs: Any) -> Iterator[Container]:
        yield container

    monkeypatch.setattr(token_cmd, "opened", opened)
    monkeypatch.setenv("COLUMNS", "200")  # one table row per token
    # Rich may have fixed the shared console's width before COLUMNS was set (another test ran first).
    monkeypatch.setattr(common.console, "width", 200)
    return CliRunner()


def test_cli_mints_lists_and_revokes(cli: CliRunner, app_client: TestClient) -> None:
    made = cli.invoke(cli_app, ["token", "sam@test.example", "--name", "nightly", "--expires-days", "5"])
    assert made.exit_code == 0, made.output
    secret = made.output.split()[0]
    token_id = re.search(r"token (\d+) for sam@test.example, expires", made.output).group(1)  # type: ignore[union-attr]
    assert app_client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    explicit = cli.invoke(cli_app, ["token", "create", "sia@test.example"])
    assert explicit.exit_code == 0, explicit.output

    listed = cli.invoke(cli_app, ["token", "list"])
    assert listed.exit_code == 0, listed.output
    assert "nightly" in listed.output and "sia@test.example" in listed.output and secret not in listed.output
    row = next(line for line in listed.output.splitlines() if "nightly" in line)
    assert "never" not in row  # it was just used
    only_sia = cli.invoke(cli_app, ["token", "list", "sia@test.example"])
    assert "sia@test.example" in only_sia.output and "nightly" not in only_sia.output

    revoked = cli.invoke(cli_app, ["token", "revoke", token_id])
    assert revoked.exit_code == 0 and f"revoked token {token_id}" in revoked.output
    assert app_client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    assert "nightly" not in cli.invoke(cli_app, ["token", "list"]).output


def test_cli_mistakes_exit_2_with_the_reason(cli: CliRunner) -> None:
    unknown = cli.invoke(cli_app, ["token", "nobody@test.example"])
    assert unknown.exit_code == 2 and "no active user" in unknown.output
    missing = cli.invoke(cli_app, ["token", "revoke", "99999"])
    assert missing.exit_code == 2 and "99999" in missing.output
    not_a_number = cli.invoke(cli_app, ["token", "revoke", "abc"])
    assert not_a_number.exit_code == 2
    zero_days = cli.invoke(cli_app, ["token", "sam@test.example", "--expires-days", "0"])
    assert zero_days.exit_code == 2 and "expires-days" in zero_days.output
    nobody = cli.invoke(cli_app, ["token", "list", "nobody@test.example"])
    assert nobody.exit_code == 2 and "no active user" in nobody.output


# -- the migration --------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_tokens_from_before_the_upgrade_get_the_default_lifetime(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from alembic import command

    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.db'}"
        schema = None
    else:
        request.getfixturevalue("pg_schema_url")  # skips when PostgreSQL is unreachable
        schema = f"rd_tok_{tmp_path.name[-8:].replace('-', '_')}".lower()
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    try:
        command.upgrade(alembic_config(url), "0003")
        engine = make_engine(url)
        now = datetime.now(UTC)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO organizations (id, key, name, default_timezone, reopen_window_hours, created_at)"
                    " VALUES (1, 'o', 'O', 'UTC', 72, :now)"
                ),
                {"now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO users (id, org_id, email, handle, name, role, languages, skills, timezone,"
                    " shifts, max_concurrent, online, active, created_at) VALUES (1, 1, 'a@o', 'a', 'A',"
                    " 'agent', '[]', '[]', 'UTC', '[]', 8, true, true, :now)"
                ),
                {"now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, revoked, created_at)"
                    " VALUES (1, 1, 'old', :hash, 'rd_x', false, :now)"
                ),
                {"hash": "0" * 64, "now": now - timedelta(days=400)},
            )
        engine.dispose()
        command.upgrade(alembic_config(url), "head")
        engine = make_engine(url)
        with engine.connect() as conn:
            # Read through the model: the value the migration wrote must be one the model reads.
            expires = conn.execute(select(ApiToken.expires_at)).scalar_one()
        engine.dispose()
        assert expires is not None
        assert timedelta(days=89) < expires - now < timedelta(days=91)
    finally:
        if schema is not None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
