"""`relaydesk channels check` and `send-pending`: set-up in plain words, the outbox by hand."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from relaydesk.channels.check import check_account, check_accounts
from relaydesk.channels.generic import GenericSender
from relaydesk.cli import channels_cmd
from relaydesk.db import transaction
from relaydesk.models import ChannelAccount, Location, Message, OutboxItem

BASE = "https://desk.example"


def test_complete_meta_account_is_ready_with_its_address() -> None:
    result = check_account(
        "page",
        "facebook",
        7,
        "104523781234567",
        {"access_token": "t", "app_secret": "s", "verify_token": "v"},
        BASE,
    )
    assert result.ok and result.missing == ()
    assert result.address == "https://desk.example/webhooks/meta"
    assert "ready" in result.replies and "register https://desk.example/webhooks/meta" in result.webhook


def test_missing_names_are_said_in_plain_words_and_values_never_shown() -> None:
    result = check_account("wa", "whatsapp", 3, None, {"app_secret": "s3cr3t"}, BASE)
    assert not result.ok
    assert "add access_token" in result.replies
    assert "verify_token" in result.missing and "external_id" in result.missing
    assert "set external_id" in result.webhook
    assert "s3cr3t" not in repr(result)


def test_a_verify_token_on_another_meta_account_is_enough() -> None:
    result = check_account(
        "ig", "instagram", 4, "178", {"access_token": "t", "app_secret": "s"}, BASE, shared_verify_token=True
    )
    assert result.ok and any("shared" in note for note in result.notes)


def test_per_account_webhooks_and_aliases() -> None:
    telegram = check_account("bot", "telegram", 9, "123", {"token": "1:A", "secret_token": "x"}, BASE)
    assert telegram.ok and "setWebhook" in telegram.webhook
    assert telegram.address == "https://desk.example/webhooks/telegram/9"
    line = check_account("ln", "line", 5, None, {"channel_secret": "x"}, BASE)
    assert not line.ok and line.missing == ("channel_access_token",)
    assert line.address == "https://desk.example/webhooks/line/5"
    mail = check_account("mail", "email", 6, None, {"host": "smtp.example", "username": "a@b.example"}, BASE)
    assert mail.ok and "polled" in mail.webhook and mail.address == ""
    unknown = check_account("odd", "myspace", 1, None, {}, BASE)
    assert not unknown.ok and "unknown network" in unknown.replies


def test_check_accounts_reads_the_configured_accounts(container: Any) -> None:
    with transaction(container.sessions) as session:
        location = session.scalars(select(Location).where(Location.key == "north-shop")).one()
        session.add(
            ChannelAccount(
                org_id=location.org_id,
                location_id=location.id,
                key="page",
                network="facebook",
                handle="page",
                external_id="104523781234567",
                credentials_encrypted=container.box.seal({"access_token": "t", "app_secret": "s"}),
                settings={},
            )
        )
    with container.sessions() as session:
        results = {r.key: r for r in check_accounts(session, container.box, BASE)}
    assert set(results) == {"north-generic", "south-generic", "north-webchat", "page"}
    assert not results["page"].ok and results["page"].missing == ("verify_token",)
    generic = results["north-generic"]
    assert not generic.ok and "add url" in generic.replies  # it can receive, but has nowhere to reply
    assert generic.webhook.startswith("ready: register https://desk.example/webhooks/generic/")
    assert results["north-webchat"].ok and "<script" in results["north-webchat"].address
    assert not any("SANDBOX" in r.replies for r in results.values())
    with transaction(container.sessions) as session:
        row = session.scalars(select(ChannelAccount).where(ChannelAccount.key == "south-generic")).one()
        row.settings = {"sandbox": True}
    with container.sessions() as session:
        south = {r.key: r for r in check_accounts(session, container.box, BASE)}["south-generic"]
    assert south.replies.startswith("SANDBOX, replies are not posted to generic")
    assert "sandbox: remove settings.sandbox to go live" in south.notes


@pytest.fixture
def cli_on(container: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    @contextmanager
    def opened(*_args: Any, **_kwargs: Any) -> Iterator[Any]:
        yield container

    monkeypatch.setattr(channels_cmd, "opened", opened)
    return container


def test_cli_check_prints_a_table_and_exits_1_when_something_is_missing(cli_on: Any) -> None:
    result = CliRunner().invoke(channels_cmd.app, ["check", "--base-url", BASE + "/"])
    assert result.exit_code == 1, result.output
    assert "north-generic" in result.output and "north-secret" not in result.output
    with cli_on.sessions() as session:
        north = session.scalars(select(ChannelAccount.id).where(ChannelAccount.key == "north-generic")).one()
    # The account id (the end of its webhook address) has its own column, beside the key.
    assert re.search(rf"│\s*{north}\s*│\s*north-generic\s*│", result.output), result.output
    assert "1 of 3 account(s) ready" in result.output


def test_cli_send_pending_runs_the_outbox_once(cli_on: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.channels.test_outbox import inbound

    container = cli_on
    with transaction(container.sessions) as session:
        row = session.scalars(select(ChannelAccount).where(ChannelAccount.key == "north-generic")).one()
        creds = container.box.open(row.credentials_encrypted)
        row.credentials_encrypted = container.box.seal({**creds, "url": "https://reviews.example/reply"})
        account_id = row.id
    conv = inbound(container, account_id, "generic", "rev-cli")
    posted: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        posted.append(request.content)
        return httpx.Response(200, json={"id": "site-1"})

    monkeypatch.setattr(
        channels_cmd,
        "default_senders",
        lambda: {"generic": GenericSender(transport=httpx.MockTransport(handler))},
    )
    with transaction(container.sessions) as session:
        inbound_row = session.scalars(select(Message).where(Message.conversation_id == conv)).one()
        reply = Message(
            org_id=inbound_row.org_id,
            conversation_id=conv,
            account_id=account_id,
            direction="outbound",
            text="Thanks for the review",
            attachments=[],
            raw={},
            delivery_status="queued",
        )
        session.add(reply)
        session.flush()
        session.add(
            OutboxItem(
                org_id=reply.org_id,
                conversation_id=conv,
                message_id=reply.id,
                account_id=account_id,
                idempotency_key="cli-1",
            )
        )
    result = CliRunner().invoke(channels_cmd.app, ["send-pending"])
    assert result.exit_code == 0, result.output
    assert "attempted 1 queued reply" in result.output and len(posted) == 1
