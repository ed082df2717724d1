"""Failures a sender must be able to retry, and bad input, never reach a user as a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.app import create_app
from relaydesk.container import build_container
from relaydesk.db import make_engine
from relaydesk.models import ChannelAccount
from relaydesk.pipeline.bus.inproc import InProcessBus
from relaydesk.settings import Settings
from relaydesk.triage.lexicon import LexiconTriager
from tests.api.conftest import login


def test_database_unavailable_answers_503_so_the_sender_retries(tmp_path: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:1/none"  # nothing listens on port 1
    settings = Settings(database_url=url, data_dir=tmp_path, secret_key="k", background_tasks=False)
    engine = make_engine(url, pool_pre_ping=False)
    container = build_container(settings, engine=engine, triager=LexiconTriager(), bus=InProcessBus())
    with TestClient(create_app(settings, container)) as client:
        webhook = client.post("/webhooks/generic/1", content=b"{}", headers={"X-RelayDesk-Signature": "x"})
        assert webhook.status_code == 503
        assert "retry" in webhook.json()["detail"]
        assert webhook.headers["retry-after"]
        api = client.get("/api/v1/conversations", headers={"Authorization": "Bearer whatever"})
        assert api.status_code == 503
        assert "Traceback" not in api.text


def test_openapi_and_health(app_client: TestClient) -> None:
    assert app_client.get("/healthz").json()["status"] == "ok"
    spec = app_client.get("/openapi.json").json()
    assert "/api/v1/conversations" in spec["paths"]
    assert "/webhooks/generic/{account_id}" in spec["paths"]


def test_credentials_sealed_with_another_key_answer_503_with_the_fix(container: Any, tmp_path: Path) -> None:
    with container.sessions() as session:
        account = session.scalars(
            select(ChannelAccount.id).where(ChannelAccount.key == "north-generic")
        ).one()
    settings = Settings(
        database_url=container.settings.database_url,
        data_dir=tmp_path,
        secret_key="not-the-key-the-credentials-were-sealed-with",
        background_tasks=False,
    )
    other = build_container(settings, engine=container.engine, triager=LexiconTriager(), bus=InProcessBus())
    with TestClient(create_app(settings, other)) as client:
        answer = client.post(
            f"/webhooks/generic/{account}",
            content=b'{"id": "k1", "text": "hello"}',
            headers={"X-RelayDesk-Signature": "sha256=00"},
        )
    assert answer.status_code == 503 and answer.headers["retry-after"]
    assert "RELAYDESK_SECRET_KEY differs" in answer.json()["detail"]


def test_ids_beyond_the_database_range_are_422_not_500_or_retry(app_client: TestClient) -> None:
    headers = login(app_client, "admin@test.example")
    # 2^31 overflows PostgreSQL's integer ids, 10^20 any 64-bit integer (SQLite refuses to bind it).
    for huge in (2**31, 10**20):
        for method, path in (
            ("GET", f"/api/v1/conversations/{huge}"),
            ("POST", f"/api/v1/conversations/{huge}/notes"),
            ("POST", f"/webhooks/generic/{huge}"),
        ):
            answer = app_client.request(method, path, json={"text": "x"}, headers=headers)
            assert answer.status_code in (404, 422), (path, answer.status_code, answer.text)
            assert "retry-after" not in answer.headers
