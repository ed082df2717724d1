"""Logins are throttled per account and per client address, and unknown emails cost what known ones do."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from relaydesk.app import create_app
from relaydesk.auth import crypto
from relaydesk.auth.throttle import account_key, retry_after
from relaydesk.container import Container, build_container
from relaydesk.db import make_engine
from relaydesk.models import LoginFailure, User
from relaydesk.pipeline.bus.inproc import InProcessBus
from relaydesk.triage.lexicon import LexiconTriager

LOGIN = "/api/v1/auth/login"


def attempt(client: TestClient, email: str, password: str) -> Any:
    return client.post(LOGIN, json={"email": email, "password": password})


@pytest.fixture
def elsewhere(container: Container) -> Iterator[TestClient]:
    """The same server seen from another client address."""
    with TestClient(create_app(container.settings, container), client=("198.51.100.7", 40000)) as client:
        yield client


def test_ten_wrong_passwords_lock_the_account_even_against_the_right_one(
    app_client: TestClient, elsewhere: TestClient
) -> None:
    for _ in range(10):
        assert attempt(app_client, "sam@test.example", "guess").status_code == 401
    locked = attempt(app_client, "sam@test.example", "relaydesk")
    assert locked.status_code == 429
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    assert "too many failed logins" in locked.json()["detail"]
    assert "relaydesk_session" not in locked.cookies
    # The lock is the account's, whatever address asks (and however the email is spelled)...
    assert attempt(elsewhere, " SAM@test.example", "relaydesk").status_code == 429
    # ...and another account from another address is unaffected.
    assert attempt(elsewhere, "sia@test.example", "relaydesk").status_code == 200


def test_an_address_with_too_many_failures_is_refused_for_every_account(
    app_client: TestClient, elsewhere: TestClient, container: Container
) -> None:
    container.settings = container.settings.model_copy(update={"login_failures_per_address": 5})
    for n in range(5):
        assert attempt(app_client, f"spray{n}@test.example", "guess").status_code == 401
    refused = attempt(app_client, "sia@test.example", "relaydesk")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert attempt(elsewhere, "sia@test.example", "relaydesk").status_code == 200


def test_the_right_password_clears_the_accounts_failures(app_client: TestClient) -> None:
    for _ in range(9):
        attempt(app_client, "sam@test.example", "guess")
    assert attempt(app_client, "sam@test.example", "relaydesk").status_code == 200
    for _ in range(9):
        assert attempt(app_client, "sam@test.example", "typo").status_code == 401
    assert attempt(app_client, "sam@test.example", "relaydesk").status_code == 200


def test_the_web_login_form_is_throttled_too(app_client: TestClient) -> None:
    def submit(password: str) -> Any:
        form = app_client.get("/login").text
        token = re.search(r'name="login_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        data = {"email": "sam@test.example", "password": password, "login_token": token}
        return app_client.post("/login", data=data, follow_redirects=False)

    for _ in range(10):
        assert submit("guess").status_code == 401
    locked = submit("relaydesk")
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "Too many failed logins" in locked.text and "relaydesk_session" not in locked.cookies


def test_the_counts_live_in_the_database_so_every_api_process_sees_them(
    app_client: TestClient, container: Container
) -> None:
    for _ in range(10):
        attempt(app_client, "sam@test.example", "guess")
    with container.sessions() as session:
        assert session.scalar(select(func.count(LoginFailure.id))) == 10
        assert "sam" not in str(session.scalars(select(LoginFailure.account_key)).first())
    # A second server process: its own engine and container on the same database.
    engine = make_engine(str(container.engine.url.render_as_string(hide_password=False)))
    other = build_container(container.settings, engine=engine, triager=LexiconTriager(), bus=InProcessBus())
    with TestClient(create_app(other.settings, other)) as second:
        assert attempt(second, "sam@test.example", "relaydesk").status_code == 429


def test_unknown_emails_and_users_without_a_password_run_the_password_hash(
    app_client: TestClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted, not timed: each attempt runs the slow hash exactly once, known email or not."""
    calls: list[str] = []
    real = crypto._derive

    def counting(password: str, salt: bytes) -> bytes:
        calls.append(password)
        return real(password, salt)

    monkeypatch.setattr(crypto, "_derive", counting)
    assert attempt(app_client, "nobody@test.example", "guess").status_code == 401
    assert calls == ["guess"]
    assert attempt(app_client, "sam@test.example", "guess").status_code == 401
    assert calls == ["guess", "guess"]
    with container.sessions.begin() as session:
        sia = session.scalars(select(User).where(User.email == "sia@test.example")).one()
        sia.password_hash = None
    assert attempt(app_client, "sia@test.example", "guess").status_code == 401
    assert len(calls) == 3


def test_an_attempt_counts_before_its_password_hash_runs(
    app_client: TestClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parallel guesses cannot all pass the check while each waits for its (slow) hash."""
    seen: list[int] = []
    real = crypto._derive

    def counting_rows(password: str, salt: bytes) -> bytes:
        with container.sessions() as session:
            seen.append(session.scalar(select(func.count(LoginFailure.id))) or 0)
        return real(password, salt)

    monkeypatch.setattr(crypto, "_derive", counting_rows)
    assert attempt(app_client, "sam@test.example", "guess").status_code == 401
    assert attempt(app_client, "sam@test.example", "relaydesk").status_code == 200
    assert seen == [1, 2]
    with container.sessions() as session:  # the successful attempt forgot the account's failures
        assert session.scalar(select(func.count(LoginFailure.id))) == 0


def test_failures_older_than_the_window_are_forgotten(app_client: TestClient, container: Container) -> None:
    old = datetime.now(UTC) - timedelta(minutes=16)
    with container.sessions.begin() as session:
        session.add_all(
            LoginFailure(account_key=account_key("sam@test.example"), address_key="x", failed_at=old)
            for _ in range(30)
        )
    assert attempt(app_client, "sam@test.example", "guess").status_code == 401
    assert attempt(app_client, "sam@test.example", "relaydesk").status_code == 200
    with container.sessions() as session:  # and deleted when the next failure came
        assert session.scalar(select(func.count(LoginFailure.id)).where(LoginFailure.failed_at <= old)) == 0


# -- the arithmetic -------------------------------------------------------------------------------

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def test_below_the_limit_nothing_waits() -> None:
    assert retry_after([], 10, WINDOW, NOW) is None
    assert retry_after([NOW - timedelta(minutes=1)] * 9, 10, WINDOW, NOW) is None
    assert retry_after([NOW - timedelta(minutes=20)] * 50, 10, WINDOW, NOW) is None


def test_at_the_limit_the_wait_ends_when_the_oldest_counted_failure_leaves_the_window() -> None:
    failures = [NOW - timedelta(minutes=m) for m in range(10)]  # 0..9 minutes ago
    assert retry_after(failures, 10, WINDOW, NOW) == 6 * 60
    # Two past the limit: the third oldest must leave too.
    failures += [NOW - timedelta(minutes=11), NOW - timedelta(minutes=12)]
    assert retry_after(failures, 10, WINDOW, NOW) == 6 * 60
    assert retry_after([NOW] * 10, 10, WINDOW, NOW) == 15 * 60
    assert retry_after([NOW - WINDOW + timedelta(milliseconds=1)] * 10, 10, WINDOW, NOW) == 1
