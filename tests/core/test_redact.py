"""Secrets never reach a log line or a terminal: the access log's URLs, printed database URLs."""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from relaydesk.core.redact import AccessLogRedactor, mask_database_url, redact_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "/webhooks/meta?hub.mode=subscribe&hub.verify_token=s3cret&hub.challenge=42",
            "/webhooks/meta?hub.mode=subscribe&hub.verify_token=***&hub.challenge=42",
        ),
        ("/x?access_token=abc&api_key=k&client_secret=c&password=p&q=token", None),
        ("/x?hub%2Everify_token=s3cret", "/x?hub%2Everify_token=***"),
        ("/x?status=open&cursor=abc", "/x?status=open&cursor=abc"),
        ("/plain/path", "/plain/path"),
        ("nats://user:pw@bus:4222", "nats://user:***@bus:4222"),
    ],
)
def test_redact_url(url: str, expected: str | None) -> None:
    out = redact_url(url)
    if expected is not None:
        assert out == expected
    for secret in ("s3cret", "abc&", "=k&", "=c&", "=p&", ":pw@"):
        assert secret not in out
    if expected is None:  # a parameter whose *value* merely looks like a secret word stays
        assert out.endswith("&q=token")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://relay:Pa55word@db.internal:5432/relaydesk",
        "postgresql://relay:Pa55word@db.internal/relaydesk?sslmode=require",
        "postgresql://relay@db.internal/relaydesk?password=Pa55word",
    ],
)
def test_database_urls_are_printed_without_their_password(url: str) -> None:
    masked = mask_database_url(url)
    assert "Pa55word" not in masked and "***" in masked
    assert "db.internal" in masked and "relay" in masked


def test_sqlite_url_is_unchanged() -> None:
    assert mask_database_url("sqlite:///var/relaydesk.db") == "sqlite:///var/relaydesk.db"


def test_redactor_rewrites_uvicorns_access_record(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.access")
    logger.addFilter(AccessLogRedactor())
    with caplog.at_level(logging.INFO, logger="test.access"):
        logger.info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "GET",
            "/webhooks/meta?hub.verify_token=s3cret-token&hub.challenge=1",
            "1.1",
            403,
        )
    assert "s3cret-token" not in caplog.text
    assert "/webhooks/meta?hub.verify_token=***&hub.challenge=1" in caplog.text


def test_the_running_server_keeps_the_verify_token_out_of_its_access_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real uvicorn, configured as `relaydesk serve` configures it, answering Meta's handshake."""
    import uvicorn

    from relaydesk.app import create_app
    from relaydesk.migrate import upgrade
    from relaydesk.settings import Settings

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'rd.db'}",
        data_dir=tmp_path,
        secret_key="test-secret-key",
        background_tasks=False,
        triage_backend="lexicon",
    )
    upgrade(settings.database_url)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # uvicorn's own logging setup (dictConfig) runs here, after create_app added the filter.
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="info")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started
        answer = httpx.get(
            f"http://127.0.0.1:{port}/webhooks/meta",
            params={"hub.mode": "subscribe", "hub.verify_token": "leaky-verify-token", "hub.challenge": "7"},
        )
        assert answer.status_code == 403  # no Meta account here; the request is still logged
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    logged = capsys.readouterr()
    assert "GET /webhooks/meta?" in logged.out + logged.err, "the access log line was not captured"
    assert "leaky-verify-token" not in logged.out + logged.err
    assert "hub.verify_token=***" in logged.out + logged.err
