"""Idempotency-Key of replies is scoped to the caller's organisation and conversation (issue 8, item 8).

It used to be global: another organisation's reply with the same key got 201 "reply queued",
nothing was stored or sent, and it was handed the first organisation's message id.
"""

from __future__ import annotations

import textwrap

from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.config.loader import load_config_text
from relaydesk.config.service import apply_config
from relaydesk.container import Container
from relaydesk.db import transaction
from relaydesk.models import ChannelAccount, Message, OutboxItem
from tests.api.conftest import login
from tests.api.test_webhook_and_inbox import post_signed

OTHER_ORG = """\
organization: {key: otherco, name: Other Co}
locations:
  - {key: shop, kind: location, name: Shop}
departments:
  - {key: service, name: Service, default: true}
agents:
  - {email: olga@other.example, name: Olga, handle: olga, role: admin, password: relaydesk}
accounts:
  - {key: other-generic, network: generic, handle: reviews, external_id: other-1, location: shop,
     credentials: {webhook_secret: other-secret}}
"""
KEY = "reply-2026-0001"  # what two unrelated integrations may well both send


def add_other_org(container: Container) -> None:
    result = load_config_text(textwrap.dedent(OTHER_ORG), allow_plain_passwords=True)
    assert result.config is not None, [str(p) for p in result.problems]
    with transaction(container.sessions) as session:
        apply_config(session, result.config, container.box)


def conversation_on(
    client: TestClient, container: Container, account_key: str, secret: str, msg_id: str
) -> int:
    with container.sessions() as session:
        account_id = session.scalars(select(ChannelAccount.id).where(ChannelAccount.key == account_key)).one()
    payload = {"id": msg_id, "author": {"id": f"customer-{msg_id}", "name": "C"}, "text": "Do you deliver?"}
    response = post_signed(client, account_id, payload, secret)
    assert response.status_code == 202, response.text  # type: ignore[attr-defined]
    return int(response.json()["accepted"][0]["conversation_id"])  # type: ignore[attr-defined]


def reply(client: TestClient, headers: dict[str, str], conversation_id: int, text: str) -> int:
    response = client.post(
        f"/api/v1/conversations/{conversation_id}/reply",
        json={"text": text},
        headers={**headers, "Idempotency-Key": KEY},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["message_id"])


def outbox(container: Container) -> list[tuple[int, int, str, str]]:
    """(message id, its conversation, its text, the key handed to the network) of every queued reply."""
    with container.sessions() as session:
        rows = session.execute(
            select(OutboxItem.message_id, Message.conversation_id, Message.text, OutboxItem.idempotency_key)
            .join(Message, Message.id == OutboxItem.message_id)
            .order_by(OutboxItem.id)
        )
        return [(m, c, t, k) for m, c, t, k in rows]


def test_two_organisations_using_one_key_each_get_their_own_reply(
    app_client: TestClient, container: Container
) -> None:
    add_other_org(container)
    ours = conversation_on(app_client, container, "north-generic", "north-secret", "n-1")
    theirs = conversation_on(app_client, container, "other-generic", "other-secret", "o-1")
    admin, olga = login(app_client, "admin@test.example"), login(app_client, "olga@other.example")

    first = reply(app_client, admin, ours, "Yes, every day.")
    second = reply(app_client, olga, theirs, "Only on weekdays.")

    assert second != first
    queued = outbox(container)
    assert [(m, c, t) for m, c, t, _ in queued] == [
        (first, ours, "Yes, every day."),
        (second, theirs, "Only on weekdays."),
    ]
    # The key the networks see is ours and never shared, whatever the callers chose.
    assert len({network_key for *_, network_key in queued}) == 2
    # A retry in the same conversation still gets the reply it already made, and queues nothing.
    assert reply(app_client, olga, theirs, "Only on weekdays.") == second
    assert reply(app_client, admin, ours, "Yes, every day.") == first
    assert len(outbox(container)) == 2


def test_two_conversations_of_one_organisation_using_one_key_each_get_their_own_reply(
    app_client: TestClient, container: Container
) -> None:
    one = conversation_on(app_client, container, "north-generic", "north-secret", "n-2")
    two = conversation_on(app_client, container, "south-generic", "south-secret", "s-2")
    admin = login(app_client, "admin@test.example")

    first = reply(app_client, admin, one, "Answer one")
    second = reply(app_client, admin, two, "Answer two")

    assert first != second
    assert [(m, c, t) for m, c, t, _ in outbox(container)] == [
        (first, one, "Answer one"),
        (second, two, "Answer two"),
    ]
    assert reply(app_client, admin, two, "Answer two") == second
    assert len(outbox(container)) == 2
