"""Failures a sender must be able to retry, and bad input, never reach a user as a traceback."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from relaydesk.app import create_app
from relaydesk.container import build_container
from relaydesk.db import make_engine
from relaydesk.pipeline.bus.inproc import InProcessBus
from relaydesk.settings import Settings
from relaydesk.triage.lexicon import LexiconTriager


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
