"""The demo organisation works as shipped: its web chat opens sessions, every account is set up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from relaydesk.app import create_app
from relaydesk.channels.check import check_accounts
from relaydesk.config.loader import load_demo_config
from relaydesk.config.service import apply_config
from relaydesk.container import Container, build_container
from relaydesk.db import transaction
from relaydesk.models import ChannelAccount
from relaydesk.pipeline.bus.inproc import InProcessBus
from relaydesk.settings import Settings
from relaydesk.triage.lexicon import LexiconTriager

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


@pytest.fixture
def demo(engine: Engine, tmp_path: Path) -> Iterator[Container]:
    settings = Settings(
        database_url=str(engine.url), data_dir=tmp_path, secret_key="test-secret-key", background_tasks=False
    )
    container = build_container(settings, engine=engine, triager=LexiconTriager(), bus=InProcessBus())
    loaded = load_demo_config()
    assert loaded.config is not None, loaded.problems
    with transaction(container.sessions) as session:
        apply_config(session, loaded.config, container.box)
    yield container
    container.bus.close()


def test_the_demo_web_chat_opens_a_session_and_takes_a_message(demo: Container) -> None:
    with demo.sessions() as session:
        chat = session.scalars(select(ChannelAccount.id).where(ChannelAccount.network == "webchat")).one()
    with TestClient(create_app(demo.settings, demo)) as client:
        opened = client.post(f"/webchat/{chat}/session", json={"name": "Demo visitor"})
        assert opened.status_code == 200, opened.text
        token = opened.json()["token"]
        sent = client.post(
            f"/webchat/{chat}/messages",
            json={"token": token, "id": "demo-msg-1", "text": "سلام، کمک می‌خواهم"},
        )
        assert sent.status_code in (200, 201, 202), sent.text


def test_every_demo_account_can_receive(demo: Container) -> None:
    with demo.sessions() as session:
        checks = check_accounts(session, demo.box, "http://127.0.0.1:8000")
    assert checks
    missing = {c.key: c.missing for c in checks if c.missing}
    assert missing == {}
