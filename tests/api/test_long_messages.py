"""A long message is kept whole up to the body limit; past it (imports) the cut is visible to agents."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.channels.base import InboundEvent
from relaydesk.channels.generic import sign
from relaydesk.container import Container
from relaydesk.models import ChannelAccount, Message
from relaydesk.pipeline.intake import MAX_TEXT
from tests.api.conftest import login
from tests.web.test_pages import browser_login


def north_generic(container: Container) -> int:
    with container.sessions() as session:
        return session.scalars(select(ChannelAccount.id).where(ChannelAccount.key == "north-generic")).one()


def long_text(length: int) -> str:
    # Words, so the page can wrap it; the ending is unique, to find it in the page and the API.
    body = ("word " * (length // 5 + 1))[: length - 12]
    return body + "THE-REAL-END"


def message_texts(client: TestClient, headers: dict[str, str], conversation_id: int) -> list[str]:
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=headers)
    assert detail.status_code == 200, detail.text
    return [m["text"] for m in detail.json()["messages"]]


def test_a_million_character_message_is_stored_and_shown_whole(
    app_client: TestClient, container: Container
) -> None:
    text = long_text(1_000_000)
    body = json.dumps({"id": "long-1", "author": {"id": "talker", "name": "Talker"}, "text": text}).encode()
    assert len(body) <= container.settings.max_body_bytes
    response = app_client.post(
        f"/webhooks/generic/{north_generic(container)}",
        content=body,
        headers={"Content-Type": "application/json", "X-RelayDesk-Signature": sign(body, "north-secret")},
    )
    assert response.status_code == 202, response.text
    conversation_id = response.json()["accepted"][0]["conversation_id"]
    with container.sessions() as session:
        stored = session.scalars(select(Message.text).where(Message.external_id == "long-1")).one()
    assert stored == text
    admin = login(app_client, "admin@test.example")
    assert message_texts(app_client, admin, conversation_id) == [text]
    browser_login(app_client, "admin@test.example")
    page = app_client.get(f"/conversations/{conversation_id}")
    assert page.status_code == 200 and "THE-REAL-END" in page.text


def test_a_text_past_the_limit_is_cut_where_agents_see_it(
    app_client: TestClient, container: Container
) -> None:
    text = long_text(MAX_TEXT + 5_000)
    result = container.pipeline.accept(
        north_generic(container),
        InboundEvent(network="generic", external_id="huge-import", author_id="a", text=text),
    )
    note = "[RelayDesk: 5,000 more characters of this message were not stored]"
    admin = login(app_client, "admin@test.example")
    [shown] = message_texts(app_client, admin, result.conversation_id)
    assert shown.startswith(text[:MAX_TEXT]) and shown.endswith(note)
    assert "THE-REAL-END" not in shown
    browser_login(app_client, "admin@test.example")
    assert note in app_client.get(f"/conversations/{result.conversation_id}").text
