"""Each network's webhook endpoint, driven over HTTP with the documented payload shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from relaydesk.channels import line, meta, x
from relaydesk.db import transaction
from relaydesk.models import ChannelAccount, Location, Message, OutboxItem
from tests.channels.accounts import add_accounts

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def accounts(container: Any) -> dict[str, int]:
    specs = {
        "fb": ("facebook", "104523781234567", {"app_secret": "meta-secret", "verify_token": "verify-me"}),
        "ig": ("instagram", "17841400123456789", {"app_secret": "meta-secret"}),
        "wa": ("whatsapp", "106540352242922", {"app_secret": "meta-secret"}),
        "x": ("x", "2244994945", {"consumer_secret": "x-secret"}),
        "tg": ("telegram", "7000000001", {"webhook_secret": "tg-secret"}),
        "line": ("line", "Uxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", {"channel_secret": "line-secret"}),
    }
    return add_accounts(container, "test-", specs)


def count(container: Any, account_id: int) -> int:
    with container.sessions() as session:
        return int(
            session.scalar(select(func.count(Message.id)).where(Message.account_id == account_id)) or 0
        )


def test_meta_handshake(app_client: TestClient, accounts: dict[str, int]) -> None:
    ok = app_client.get(
        "/webhooks/meta",
        params={"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "42"},
    )
    assert ok.status_code == 200 and ok.text == "42"
    bad = app_client.get(
        "/webhooks/meta", params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "42"}
    )
    assert bad.status_code == 403


def test_meta_batch_is_accepted_once_and_signature_enforced(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    body = fixture("meta/page_messaging.json")
    missing = app_client.post("/webhooks/meta", content=body)
    assert missing.status_code == 401
    wrong = app_client.post(
        "/webhooks/meta", content=body, headers={"X-Hub-Signature-256": meta.sign(body, "other")}
    )
    assert wrong.status_code == 403
    assert count(container, accounts["fb"]) == 0
    headers = {"X-Hub-Signature-256": meta.sign(body, "meta-secret")}
    first = app_client.post("/webhooks/meta", content=body, headers=headers)
    assert first.status_code == 200, first.text
    stored = count(container, accounts["fb"])
    assert stored >= 1
    assert any("219876543210987" in e for e in first.json()["errors"])  # a page we don't manage
    again = app_client.post("/webhooks/meta", content=body, headers=headers)
    assert again.status_code == 200 and count(container, accounts["fb"]) == stored
    assert all(a["duplicate"] for a in again.json()["accepted"])


def test_whatsapp_and_instagram_payloads(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    for name, key in (("meta/whatsapp.json", "wa"), ("meta/instagram.json", "ig")):
        body = fixture(name)
        response = app_client.post(
            "/webhooks/meta", content=body, headers={"X-Hub-Signature-256": meta.sign(body, "meta-secret")}
        )
        assert response.status_code == 200, response.text
        assert count(container, accounts[key]) >= 1, name


def test_meta_malformed_half_parses(app_client: TestClient, container: Any, accounts: dict[str, int]) -> None:
    body = fixture("meta/page_malformed.json")
    response = app_client.post(
        "/webhooks/meta", content=body, headers={"X-Hub-Signature-256": meta.sign(body, "meta-secret")}
    )
    assert response.status_code == 200
    assert response.json()["errors"]
    garbage = b"not json"
    bad = app_client.post(
        "/webhooks/meta", content=garbage, headers={"X-Hub-Signature-256": meta.sign(garbage, "meta-secret")}
    )
    assert bad.status_code == 422


def test_x_crc_and_signed_events(app_client: TestClient, container: Any, accounts: dict[str, int]) -> None:
    crc = app_client.get("/webhooks/x", params={"crc_token": "abc"})
    assert crc.json() == x.crc_response("abc", "x-secret")
    body = fixture("x/tweet_create.json")
    bad = app_client.post(
        "/webhooks/x", content=body, headers={"x-twitter-webhooks-signature": "sha256=AAAA"}
    )
    assert bad.status_code == 403
    ok = app_client.post(
        "/webhooks/x", content=body, headers={"x-twitter-webhooks-signature": x.signature(body, "x-secret")}
    )
    assert ok.status_code == 200, ok.text
    assert count(container, accounts["x"]) >= 1


def test_telegram_secret_token(app_client: TestClient, container: Any, accounts: dict[str, int]) -> None:
    body = fixture("telegram/private_message.json")
    url = f"/webhooks/telegram/{accounts['tg']}"
    assert app_client.post(url, content=body).status_code == 401
    assert (
        app_client.post(url, content=body, headers={"X-Telegram-Bot-Api-Secret-Token": "no"}).status_code
        == 403
    )
    ok = app_client.post(url, content=body, headers={"X-Telegram-Bot-Api-Secret-Token": "tg-secret"})
    assert ok.status_code == 200, ok.text
    assert count(container, accounts["tg"]) == 1
    assert app_client.post(f"/webhooks/telegram/{accounts['line']}", content=body).status_code == 404


def test_line_signature(app_client: TestClient, container: Any, accounts: dict[str, int]) -> None:
    body = fixture("line/messages.json")
    url = f"/webhooks/line/{accounts['line']}"
    assert app_client.post(url, content=body, headers={"X-Line-Signature": "bm9wZQ=="}).status_code == 403
    ok = app_client.post(url, content=body, headers={"X-Line-Signature": line.signature(body, "line-secret")})
    assert ok.status_code == 200, ok.text
    assert count(container, accounts["line"]) >= 1


def test_whatsapp_status_moves_delivery_forward(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    payload = json.loads(fixture("meta/whatsapp.json"))
    statuses = [
        s
        for e in payload["entry"]
        for c in e["changes"]
        for s in c["value"].get("statuses", [])
        if c["value"].get("metadata", {}).get("phone_number_id") == "106540352242922"
    ]
    if not statuses:
        pytest.skip("fixture has no status for the test number")
    wamid = statuses[0]["id"]
    with transaction(container.sessions) as session:
        any_message = session.scalars(select(Message)).first()
    body = fixture("meta/whatsapp.json")
    app_client.post(
        "/webhooks/meta", content=body, headers={"X-Hub-Signature-256": meta.sign(body, "meta-secret")}
    )
    with transaction(container.sessions) as session:
        conv_msg = session.scalars(select(Message).where(Message.account_id == accounts["wa"])).first()
        assert conv_msg is not None
        session.add(
            Message(
                org_id=conv_msg.org_id,
                conversation_id=conv_msg.conversation_id,
                account_id=accounts["wa"],
                direction="outbound",
                external_id=wamid,
                text="our reply",
                attachments=[],
                raw={},
                delivery_status="sent",
            )
        )
    del any_message
    again = app_client.post(
        "/webhooks/meta", content=body, headers={"X-Hub-Signature-256": meta.sign(body, "meta-secret")}
    )
    assert again.json()["statuses_updated"] >= 1
    with container.sessions() as session:
        ours = session.scalars(
            select(Message).where(Message.external_id == wamid, Message.direction == "outbound")
        ).one()
        assert ours.delivery_status in ("delivered", "read", "failed")


def meta_post(client: TestClient, body: bytes, secret: str = "meta-secret") -> Any:
    return client.post(
        "/webhooks/meta", content=body, headers={"X-Hub-Signature-256": meta.sign(body, secret)}
    )


def test_meta_edit_keeps_the_original_and_adds_an_edit(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    body = fixture("meta/page_messaging.json")
    first = meta_post(app_client, body).json()
    assert any(
        a["external_id"].startswith("m_AbCdEf0001") and "#edit:" in a["external_id"]
        for a in first["accepted"]
    )
    with container.sessions() as session:
        rows = session.scalars(
            select(Message).where(
                Message.account_id == accounts["fb"], Message.external_id.like("m_AbCdEf0001%")
            )
        ).all()
    original = [m for m in rows if "#edit:" not in (m.external_id or "")]
    edits = [m for m in rows if "#edit:" in (m.external_id or "")]
    assert len(original) == 1 and len(edits) == 1
    assert edits[0].kind == "edit" and edits[0].reply_to_external_id == original[0].external_id
    assert original[0].text != edits[0].text  # the first version is kept as it was
    assert "echo of m_AbCdEf0003GhIjKlMnOpQrStUvWxYz0123456789abcdefGHIJKL" in first["ignored"]
    again = meta_post(app_client, body).json()
    assert all(a["duplicate"] for a in again["accepted"])


def test_meta_echo_carrying_an_outbox_key_confirms_that_send(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    meta_post(app_client, fixture("meta/page_messaging.json"))  # creates the conversation
    with transaction(container.sessions) as session:
        inbound = session.scalars(select(Message).where(Message.account_id == accounts["fb"])).first()
        assert inbound is not None
        ours = Message(
            org_id=inbound.org_id,
            conversation_id=inbound.conversation_id,
            account_id=accounts["fb"],
            direction="outbound",
            text="our reply",
            attachments=[],
            raw={},
            delivery_status="queued",
        )
        session.add(ours)
        session.flush()
        session.add(
            OutboxItem(
                org_id=inbound.org_id,
                conversation_id=inbound.conversation_id,
                message_id=ours.id,
                account_id=accounts["fb"],
                idempotency_key="outbox-7f3a9c",  # the metadata of the fixture's echo
                status="sending",
            )
        )
        message_id = ours.id
    body = fixture("meta/page_messaging.json")
    assert meta_post(app_client, body).json()["confirmed"] == 1
    with container.sessions() as session:
        item = session.scalars(select(OutboxItem).where(OutboxItem.message_id == message_id)).one()
        ours_now = session.get(Message, message_id)
        assert item.status == "sent" and ours_now is not None
        assert ours_now.external_id == "m_AbCdEf0003GhIjKlMnOpQrStUvWxYz0123456789abcdefGHIJKL"
        assert ours_now.delivery_status in ("sent", "delivered", "read")  # the fixture also has receipts


def test_meta_payload_is_only_accepted_for_pages_of_the_signing_app(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    with transaction(container.sessions) as session:
        location = session.scalars(select(Location).where(Location.key == "north-shop")).one()
        other = ChannelAccount(
            org_id=location.org_id,
            location_id=location.id,
            key="test-fb-other-app",
            network="facebook",
            handle="other",
            external_id="219876543210987",
            credentials_encrypted=container.box.seal({"app_secret": "other-secret"}),
            settings={},
        )
        session.add(other)
        session.flush()
        other_id = other.id
    body = fixture("meta/page_messaging.json")
    by_other = meta_post(app_client, body, "other-secret")
    assert by_other.status_code == 200
    assert count(container, other_id) == 4 and count(container, accounts["fb"]) == 0
    by_ours = meta_post(app_client, body, "meta-secret")
    assert count(container, accounts["fb"]) >= 1 and count(container, other_id) == 4
    assert any("219876543210987" in e for e in by_ours.json()["errors"])
    assert meta_post(app_client, body, "nobody's-secret").status_code == 403


def test_garbage_with_a_bad_signature_is_refused_before_parsing(
    app_client: TestClient, accounts: dict[str, int]
) -> None:
    assert meta_post(app_client, b"not json", "wrong").status_code == 403
    assert meta_post(app_client, b"[1, 2]", "meta-secret").status_code == 422


def test_whatsapp_malformed_keeps_what_parses(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    response = meta_post(app_client, fixture("meta/whatsapp_malformed.json"))
    assert response.status_code == 200
    outcome = response.json()
    assert len(outcome["accepted"]) == 1 and count(container, accounts["wa"]) == 1
    assert any("missing id" in e for e in outcome["errors"])
    assert any("played" in note for note in outcome["ignored"])


def test_unknown_event_types_are_ignored_and_reported_never_500(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    line_body = fixture("line/follow_unsend_unknown.json")
    line_response = app_client.post(
        f"/webhooks/line/{accounts['line']}",
        content=line_body,
        headers={"X-Line-Signature": line.signature(line_body, "line-secret")},
    )
    assert line_response.status_code == 200
    assert any("somethingNew" in n for n in line_response.json()["ignored"])
    assert line_response.json()["errors"]  # the message event without a message
    x_body = fixture("x/other_events.json")
    x_response = app_client.post(
        "/webhooks/x",
        content=x_body,
        headers={"x-twitter-webhooks-signature": x.signature(x_body, "x-secret")},
    )
    assert x_response.status_code == 200 and "follow_events" in x_response.json()["ignored"]
    tg_body = fixture("telegram/callback_query.json")
    tg_response = app_client.post(
        f"/webhooks/telegram/{accounts['tg']}",
        content=tg_body,
        headers={"X-Telegram-Bot-Api-Secret-Token": "tg-secret"},
    )
    assert tg_response.status_code == 200 and tg_response.json()["ignored"] == ["update: callback_query"]
    for account_id in (accounts["line"], accounts["x"], accounts["tg"]):
        assert count(container, account_id) == 0


def test_telegram_edit_and_replay(app_client: TestClient, container: Any, accounts: dict[str, int]) -> None:
    url = f"/webhooks/telegram/{accounts['tg']}"
    headers = {"X-Telegram-Bot-Api-Secret-Token": "tg-secret"}
    app_client.post(url, content=fixture("telegram/private_message.json"), headers=headers)
    edited = app_client.post(url, content=fixture("telegram/edited_message.json"), headers=headers)
    assert edited.status_code == 200 and edited.json()["accepted"][0]["duplicate"] is False
    replay = app_client.post(url, content=fixture("telegram/edited_message.json"), headers=headers)
    assert replay.json()["accepted"][0]["duplicate"] is True
    with container.sessions() as session:
        kinds = sorted(
            m.kind for m in session.scalars(select(Message).where(Message.account_id == accounts["tg"]))
        )
    assert kinds == ["dm", "edit"]
