"""Files on replies: attached in the browser, kept in the database, shown to those who may see
them, and sent by the networks that take them (e-mail as MIME parts, Telegram as sendPhoto)."""

from __future__ import annotations

import email
import email.policy
import html
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.channels import email as email_channel
from relaydesk.channels.base import Attachment, OutboundFile, OutboundRequest
from relaydesk.channels.meta import GraphSender
from relaydesk.channels.telegram import TelegramSender
from relaydesk.models import MediaFile, Message
from tests.channels.accounts import add_accounts
from tests.channels.fakes.graph import FakeGraph
from tests.channels.fakes.telegram_api import FakeTelegramApi
from tests.channels.test_outbox import PHONE, TG_TOKEN, Clock, inbound, run, worker
from tests.conversations.test_attachments import PDF, PNG
from tests.web.test_pages import browser_login, csrf_of, ingest

SQLITE = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def test_an_email_reply_carries_its_files_as_mime_parts() -> None:
    req = OutboundRequest(
        network="email",
        account_external_id="support@shop.example",
        recipient_id="pat@example.com",
        text="سلام، رسید پیوست است.",
        idempotency_key="k1",
        files=[OutboundFile(name="رسید.pdf", mime_type="application/pdf", kind="file", data=PDF)],
    )
    msg = email_channel.build_reply(req, "support@shop.example")
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    [part] = list(parsed.iter_attachments())
    assert part.get_filename() == "رسید.pdf" and part.get_content_type() == "application/pdf"
    assert part.get_payload(decode=True) == PDF
    body = parsed.get_body(("plain",))
    assert body is not None and body.get_content().strip() == "سلام، رسید پیوست است."


def _telegram(container: Any) -> int:
    account = add_accounts(container, "files-", {"tg": ("telegram", "123456", {"bot_token": TG_TOKEN}, {})})[
        "tg"
    ]
    return int(inbound(container, account, "telegram", "42:900", author_id="42", thread_id="42", kind="dm"))


def _send(client: TestClient, conversation: int, text: str, files: list[tuple[str, bytes, str]]) -> Any:
    page = client.get(f"/conversations/{conversation}").text
    return client.post(
        f"/conversations/{conversation}/reply",
        data={"csrf": csrf_of(page), "text": text},
        files=[("files", f) for f in files],
    )


@SQLITE
def test_a_photo_goes_to_telegram_with_the_text_as_its_caption(
    app_client: TestClient, container: Any
) -> None:
    conversation = _telegram(container)
    assert browser_login(app_client, "sam@test.example").status_code == 303
    page = app_client.get(f"/conversations/{conversation}").text
    assert 'type="file"' in page and "At most 1 file of 5 MB" in page
    sent = _send(app_client, conversation, "Here is your receipt", [("receipt.png", PNG, "image/png")])
    assert sent.status_code == 200 and "Reply sent." in sent.text
    with container.sessions() as session:
        media = session.scalars(select(MediaFile)).one()
        reply = session.scalars(select(Message).where(Message.direction == "outbound")).one()
    assert reply.attachments == [
        {
            "kind": "image",
            "name": "receipt.png",
            "mime_type": "image/png",
            "size": len(PNG),
            "media_id": media.id,
        }
    ]
    assert f'<img class="thumb" src="/media/{media.id}" alt="receipt.png"' in sent.text

    api = FakeTelegramApi(token=TG_TOKEN)
    run(
        worker(
            container, {"telegram": TelegramSender(transport=api.transport, base_url=api.base_url)}, Clock()
        )
    )
    [delivered] = api.sent
    assert delivered["caption"] == "Here is your receipt"
    assert delivered["uploaded"]["data"] == PNG and delivered["uploaded"]["filename"] == "receipt.png"
    assert api.calls[-1].path.endswith("/sendPhoto")


@SQLITE
def test_the_file_is_served_only_to_those_who_see_its_conversation(
    app_client: TestClient, container: Any
) -> None:
    conversation = _telegram(container)
    assert browser_login(app_client, "sam@test.example").status_code == 303
    _send(app_client, conversation, "Invoice attached", [("invoice.pdf", PDF, "application/pdf")])
    with container.sessions() as session:
        media_id = session.scalars(select(MediaFile.id)).one()
    served = app_client.get(f"/media/{media_id}")
    assert served.status_code == 200 and served.content == PDF
    assert served.headers["content-type"] == "application/pdf"
    assert "sandbox" in served.headers["content-security-policy"]
    app_client.cookies.clear()
    assert browser_login(app_client, "sally@test.example").status_code == 303  # sales only
    assert app_client.get(f"/media/{media_id}").status_code == 404
    app_client.cookies.clear()
    assert app_client.get(f"/media/{media_id}", follow_redirects=False).status_code in (302, 303)


@SQLITE
def test_files_a_network_does_not_take_are_refused_and_the_draft_kept(
    app_client: TestClient, container: Any
) -> None:
    telegram = _telegram(container)
    generic = ingest(container, "files-generic", "Do you have my invoice?", "Pat")
    assert browser_login(app_client, "sam@test.example").status_code == 303
    assert 'type="file"' not in app_client.get(f"/conversations/{generic}").text
    refused = _send(app_client, generic, "Attached", [("invoice.pdf", PDF, "application/pdf")])
    assert refused.status_code == 422
    assert "Replies on webhook cannot carry files from RelayDesk yet" in html.unescape(refused.text)
    assert ">Attached</textarea>" in refused.text  # the draft is kept
    two = _send(app_client, telegram, "Two", [("a.png", PNG, "image/png"), ("b.pdf", PDF, "application/pdf")])
    assert two.status_code == 422 and "Too many files for one reply here (at most 1)." in html.unescape(
        two.text
    )
    fake = _send(app_client, telegram, "Fake", [("photo.png", b"<script>alert(1)</script>", "image/png")])
    assert fake.status_code == 400 and "The file photo.png is not a type a reply may carry" in html.unescape(
        fake.text
    )
    with container.sessions() as session:
        assert session.scalars(select(MediaFile)).all() == []
        assert session.scalars(select(Message).where(Message.direction == "outbound")).all() == []


@SQLITE
def test_a_whatsapp_file_is_uploaded_then_sent_by_its_id(app_client: TestClient, container: Any) -> None:
    account = add_accounts(
        container, "files-", {"wa": ("whatsapp", PHONE, {"access_token": "wa-token", "app_secret": "s"}, {})}
    )["wa"]
    conversation = int(inbound(container, account, "whatsapp", "wamid.files1", author_id="98912"))
    assert browser_login(app_client, "sam@test.example").status_code == 303
    sent = _send(app_client, conversation, "فاکتور شما", [("فاکتور.pdf", PDF, "application/pdf")])
    assert sent.status_code == 200 and "Reply sent." in sent.text
    graph = FakeGraph()
    run(worker(container, {"whatsapp": GraphSender(transport=graph.transport)}, Clock()))
    upload, message = graph.delivered
    assert upload.endpoint == f"/{PHONE}/media" and upload.body["type"] == "application/pdf"
    assert graph.uploads[upload.response["id"]]["data"] == PDF  # type: ignore[index]
    assert message.body["type"] == "document"
    assert message.body["document"] == {
        "id": upload.response["id"],  # type: ignore[index]
        "caption": "فاکتور شما",
        "filename": "فاکتور.pdf",
    }


# -- customers' files: fetched when first opened, then kept ------------------------------------


@SQLITE
def test_a_customers_whatsapp_photo_is_fetched_once_and_shown_inline(
    app_client: TestClient, container: Any
) -> None:
    graph = FakeGraph()
    graph.add_customer_media("1066395834567890", PNG, "image/png")
    container.media_transport = graph.transport
    account = add_accounts(
        container, "in-", {"wa": ("whatsapp", PHONE, {"access_token": "wa-token", "app_secret": "s"}, {})}
    )["wa"]
    conversation = int(
        inbound(
            container,
            account,
            "whatsapp",
            "wamid.photo1",
            author_id="98912",
            text="این عکس رسید است",
            attachments=[Attachment(kind="image", mime_type="image/png", ref="1066395834567890")],
        )
    )
    with container.sessions() as session:
        message_id = session.scalars(select(Message.id).where(Message.external_id == "wamid.photo1")).one()
    assert browser_login(app_client, "sam@test.example").status_code == 303
    page = app_client.get(f"/conversations/{conversation}").text
    address = f"/media/inbound/{message_id}/0"
    assert f'<img class="thumb" src="{address}"' in page
    first = app_client.get(address)
    assert first.status_code == 200 and first.content == PNG and first.headers["content-type"] == "image/png"
    assert app_client.get(address).content == PNG
    assert len(graph.downloads) == 1  # kept after the first view: the media id expires
    app_client.cookies.clear()
    assert browser_login(app_client, "sally@test.example").status_code == 303  # sales only
    assert app_client.get(address).status_code == 404


@SQLITE
def test_a_customers_telegram_file_and_what_is_not_fetched(app_client: TestClient, container: Any) -> None:
    api = FakeTelegramApi(token=TG_TOKEN)
    api.add_customer_file("BQACAgIAAxkBAAI", "documents/file_7.pdf", PDF)
    container.media_transport = api.transport
    conversation = _telegram(container)
    account_id = _account_of(container, conversation)
    inbound(
        container,
        account_id,
        "telegram",
        "42:901",
        author_id="42",
        thread_id="42",
        kind="dm",
        text="invoice",
        attachments=[
            Attachment(kind="file", name="invoice.pdf", mime_type="application/pdf", ref="BQACAgIAAxkBAAI")
        ],
    )
    with container.sessions() as session:
        message_id = session.scalars(select(Message.id).where(Message.external_id == "42:901")).one()
    assert browser_login(app_client, "sam@test.example").status_code == 303
    served = app_client.get(f"/media/inbound/{message_id}/0")
    assert served.status_code == 200 and served.content == PDF
    assert "attachment" not in served.headers["content-disposition"]  # a PDF opens in the browser
    # A file id Telegram no longer knows: a clear page, not an error.
    inbound(
        container,
        account_id,
        "telegram",
        "42:902",
        author_id="42",
        thread_id="42",
        kind="dm",
        text="photo",
        attachments=[Attachment(kind="image", ref="gone")],
    )
    with container.sessions() as session:
        gone = session.scalars(select(Message.id).where(Message.external_id == "42:902")).one()
    missing = app_client.get(f"/media/inbound/{gone}/0")
    assert missing.status_code == 404 and "The network no longer gives this file" in missing.text
    assert TG_TOKEN not in missing.text


def _account_of(container: Any, conversation: int) -> int:
    from relaydesk.models import Conversation

    with container.sessions() as session:
        row = session.get(Conversation, conversation)
        assert row is not None
        return int(row.account_id)


def test_a_meta_cdn_address_is_fetched_only_from_metas_hosts() -> None:
    import httpx

    from relaydesk.channels.channel import MediaUnavailable
    from relaydesk.channels.meta import fetch_cdn_media

    graph = FakeGraph()
    graph.cdn["https://scontent.xx.fbcdn.net/v/t1.15752-9/photo.png?oh=abc"] = PNG
    with httpx.Client(transport=graph.transport) as client:
        assert (
            fetch_cdn_media(
                {"url": "https://scontent.xx.fbcdn.net/v/t1.15752-9/photo.png?oh=abc"}, {}, client
            )
            == PNG
        )
        for url in (
            "http://scontent.xx.fbcdn.net/x.png",
            "https://169.254.169.254/latest",
            "https://fbcdn.net.evil.example/x",
        ):
            with pytest.raises(MediaUnavailable, match="not an address of Meta's file servers"):
                fetch_cdn_media({"url": url}, {}, client)


@SQLITE
def test_a_messenger_file_goes_alone_uploaded_with_the_send(app_client: TestClient, container: Any) -> None:
    account = add_accounts(
        container,
        "files-",
        {"fb": ("facebook", "104523781234567", {"access_token": "fb-token", "app_secret": "s"}, {})},
    )["fb"]
    conversation = int(inbound(container, account, "facebook", "m_in_files", author_id="psid-7", kind="dm"))
    assert browser_login(app_client, "sam@test.example").status_code == 303
    with_text = _send(app_client, conversation, "Your receipt", [("receipt.png", PNG, "image/png")])
    assert with_text.status_code == 422 and "On Facebook a file goes alone" in html.unescape(with_text.text)
    alone = _send(app_client, conversation, "", [("receipt.png", PNG, "image/png")])
    assert alone.status_code == 200 and "Reply sent." in alone.text
    graph = FakeGraph()
    run(worker(container, {"facebook": GraphSender(transport=graph.transport)}, Clock()))
    [call] = graph.delivered
    assert call.endpoint == "/104523781234567/messages"
    assert json.loads(call.body["recipient"]) == {"id": "psid-7"}
    message = json.loads(call.body["message"])
    assert message["attachment"] == {"type": "image", "payload": {"is_reusable": False}}
    assert message["metadata"]  # our key, for matching the echo
    assert call.body["filedata"]["data"] == PNG
    empty = _send(app_client, conversation, "  ", [])
    assert empty.status_code == 400 and "The reply is empty" in empty.text


@SQLITE
def test_the_api_takes_a_reply_with_files(app_client: TestClient, container: Any) -> None:
    from tests.api.conftest import login

    conversation = _telegram(container)
    sam = login(app_client, "sam@test.example")
    url = f"/api/v1/conversations/{conversation}/reply-files"
    sent = app_client.post(
        url, data={"text": "Receipt"}, files=[("files", ("r.png", PNG, "image/png"))], headers=sam
    )
    assert sent.status_code == 201, sent.text
    with container.sessions() as session:
        reply = session.get(Message, sent.json()["message_id"])
        assert reply is not None and reply.attachments[0]["name"] == "r.png"
    wrong = app_client.post(url, files=[("files", ("r.png", b"<html>", "image/png"))], headers=sam)
    assert wrong.status_code == 400 and "not a file type replies may carry" in wrong.json()["detail"]
    big = app_client.post(
        f"/api/v1/conversations/{conversation}/reply",
        content=b'{"text": "' + b"x" * (2 * 1024 * 1024) + b'"}',
        headers={**sam, "Content-Type": "application/json"},
    )
    assert big.status_code == 413  # only the file routes take the larger body
