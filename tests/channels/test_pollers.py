from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from relaydesk.channels.pollers import PollError, poll_imap, poll_telegram, poll_x_mentions, poll_x_search

from .fakes.telegram_api import FakeTelegramApi
from .fakes.x_api import FakeXApi

EMAIL_FIXTURES = Path(__file__).parent / "fixtures" / "email"


# -- X mentions ------------------------------------------------------------------------------


def _poll_mentions(api: FakeXApi, since_id: str | None) -> tuple[list[Any], str | None]:
    async def run() -> tuple[list[Any], str | None]:
        async with api.client() as client:
            return await poll_x_mentions(client, api.me, since_id, clock=lambda: api.now)

    return asyncio.run(run())


def test_x_mentions_paginate_oldest_first_and_advance_to_the_newest_id() -> None:
    api = FakeXApi(page_size=2)
    alice = api.add_user("Alice", "alice", followers=10)
    ids = [api.add_post(alice, f"@brand question {i}", mentions=[api.me]) for i in range(5)]
    api.add_post(alice, "not for us")
    events, cursor = _poll_mentions(api, None)
    assert [e.event.external_id for e in events] == ids
    assert cursor == ids[-1]
    assert events[0].event.author_handle == "alice" and events[0].event.author_followers == 10
    pages = [c for c in api.calls if c.path.endswith("/mentions")]
    assert len(pages) == 3
    assert "pagination_token" not in pages[0].params and pages[1].params["pagination_token"] == "p2"


def test_x_restart_with_the_saved_cursor_yields_no_repeats() -> None:
    api = FakeXApi(page_size=2)
    bob = api.add_user("Bob", "bob")
    first = [api.add_post(bob, f"@brand {i}", mentions=[api.me]) for i in range(3)]
    events, cursor = _poll_mentions(api, None)
    assert [e.event.external_id for e in events] == first

    later = [api.add_post(bob, f"@brand later {i}", mentions=[api.me]) for i in range(3)]
    events, cursor2 = _poll_mentions(api, cursor)
    assert [e.event.external_id for e in events] == later
    assert api.calls[-1].params["since_id"] == cursor

    events, cursor3 = _poll_mentions(api, cursor2)
    assert events == [] and cursor3 == cursor2


def test_x_failure_mid_pagination_keeps_the_cursor_so_nothing_is_skipped() -> None:
    api = FakeXApi(page_size=2)
    carol = api.add_user("Carol", "carol")
    ids = [api.add_post(carol, f"@brand {i}", mentions=[api.me]) for i in range(5)]
    api.fail_next("rate_limit", retry_after=90, after=1)
    with pytest.raises(PollError) as err:
        _poll_mentions(api, ids[0])
    assert err.value.retryable and err.value.retry_after == 90.0
    events, cursor = _poll_mentions(api, ids[0])
    assert [e.event.external_id for e in events] == ids[1:]
    assert cursor == ids[-1]


def test_x_expired_token_is_not_retryable() -> None:
    api = FakeXApi()
    api.fail_next("expired_token")
    with pytest.raises(PollError) as err:
        _poll_mentions(api, None)
    assert not err.value.retryable and err.value.code == "token_expired"


def test_x_cursor_compares_ids_as_numbers() -> None:
    api = FakeXApi()
    dave = api.add_user("Dave", "dave")
    api.add_post(dave, "@brand hi", mentions=[api.me])
    _, cursor = _poll_mentions(api, "999")  # shorter id string that sorts after "18..." as text
    assert cursor is not None and int(cursor) > 999


def test_x_search_uses_next_token_and_marks_our_own_posts_as_echo() -> None:
    api = FakeXApi(page_size=1)
    erin = api.add_user("Erin", "erin")
    theirs = api.add_post(erin, "brandname is great")
    ours = api.add_post(api.me, "brandname summer sale")

    async def run() -> tuple[list[Any], str | None]:
        async with api.client() as client:
            return await poll_x_search(client, "brandname", None, account_user_id=api.me)

    events, cursor = asyncio.run(run())
    assert [(e.event.external_id, e.action) for e in events] == [(theirs, "create"), (ours, "echo")]
    assert cursor == ours
    assert api.calls[1].params["next_token"] == "p1"


# -- Telegram --------------------------------------------------------------------------------


def _poll_tg(api: FakeTelegramApi, offset: int | None, token: str | None = None) -> tuple[Any, int | None]:
    async def run() -> tuple[Any, int | None]:
        async with api.client() as client:
            return await poll_telegram(client, token or api.token, offset)

    return asyncio.run(run())


def test_telegram_offset_confirms_updates_and_restart_yields_no_repeats() -> None:
    api = FakeTelegramApi()
    first = api.push_message(text="one")
    api.push_message(text="two")
    result, offset = _poll_tg(api, None)
    assert [p.event.text for p in result.events] == ["one", "two"]
    assert {p.account_ref for p in result.events} == {"123456"}
    assert offset == first + 2

    api.push_message(text="three")
    result, offset2 = _poll_tg(api, offset)
    assert [p.event.text for p in result.events] == ["three"]
    result, offset3 = _poll_tg(api, offset2)
    assert result.events == [] and offset3 == offset2


def test_telegram_unknown_updates_still_advance_the_offset() -> None:
    api = FakeTelegramApi()
    update_id = api.push_update(my_chat_member={"chat": {"id": 1}})
    result, offset = _poll_tg(api, None)
    assert result.ignored == ["result[0]: my_chat_member"]
    assert offset == update_id + 1


@pytest.mark.parametrize(
    ("kind", "retryable", "code"),
    [
        ("rate_limit", True, None),
        ("conflict", False, None),
        ("server_error", True, None),
        ("timeout", True, None),
    ],
)
def test_telegram_failures_raise_and_leave_the_offset(kind: str, retryable: bool, code: str | None) -> None:
    api = FakeTelegramApi()
    api.push_message()
    api.fail_next(kind, retry_after=11)
    with pytest.raises(PollError) as err:
        _poll_tg(api, 7)
    assert err.value.retryable is retryable and err.value.code == code
    assert api.token not in str(err.value)
    if kind == "rate_limit":
        assert err.value.retry_after == 11


def test_telegram_bad_token_is_token_expired_and_not_leaked() -> None:
    api = FakeTelegramApi()
    with pytest.raises(PollError) as err:
        _poll_tg(api, None, token="999:leaky-token")
    assert err.value.code == "token_expired" and "leaky-token" not in str(err.value)


# -- IMAP ------------------------------------------------------------------------------------


class FakeImap:
    """Speaks the imaplib.IMAP4 calls the poller uses, including the `n:*` quirk."""

    def __init__(self, messages: dict[int, bytes]) -> None:
        self.messages = dict(messages)
        self.commands: list[tuple[str, ...]] = []
        self.selected: tuple[str, bool] | None = None
        self.fail_fetch_of: int | None = None

    def select(self, mailbox: str = "INBOX", readonly: bool = False) -> tuple[str, list[Any]]:
        self.selected = (mailbox, readonly)
        if mailbox != "INBOX":
            return "NO", [b"[NONEXISTENT] Unknown Mailbox"]
        return "OK", [str(len(self.messages)).encode()]

    def uid(self, command: str, *args: str) -> tuple[str, list[Any]]:
        self.commands.append((command, *args))
        if command == "SEARCH":
            start = int(args[1].split(":")[0])
            found = [u for u in sorted(self.messages) if u >= start]
            if not found and self.messages:
                found = [max(self.messages)]  # RFC 3501: "*" is the last message, so n:* never is empty
            return "OK", [" ".join(str(u) for u in found).encode()]
        if command == "FETCH":
            uid = int(args[0])
            if uid == self.fail_fetch_of:
                return "NO", [b"fetch failed"]
            if uid not in self.messages:
                return "OK", [None]
            return "OK", [
                (f"1 (UID {uid} BODY[] {{{len(self.messages[uid])}}}".encode(), self.messages[uid]),
                b")",
            ]
        raise AssertionError(command)


def _eml(name: str) -> bytes:
    return (EMAIL_FIXTURES / name).read_bytes()


def test_imap_fetches_new_uids_and_restart_yields_no_repeats() -> None:
    imap = FakeImap({3: _eml("persian_root.eml"), 7: _eml("thai_reply_with_attachments.eml")})
    result, last = poll_imap(imap, "INBOX", None, address="support@brand.example")
    assert [p.event.external_id for p in result.events] == [
        "<root-1@mail.example.ir>",
        "<reply-2@mail.example.ir>",
    ]
    assert {p.account_ref for p in result.events} == {"support@brand.example"}
    assert last == 7
    assert imap.selected == ("INBOX", True)
    assert ("FETCH", "3", "(BODY.PEEK[])") in imap.commands

    result, again = poll_imap(imap, "INBOX", last, address="support@brand.example")
    assert result.events == [] and again == 7  # the `7:*`-returns-7 quirk is filtered out

    imap.messages[9] = _eml("arabic_html_only.eml")
    result, newest = poll_imap(imap, "INBOX", again)
    assert [p.event.external_id for p in result.events] == ["<html-3@mail.example.sa>"] and newest == 9


def test_imap_limit_moves_the_cursor_only_over_what_was_read() -> None:
    imap = FakeImap({1: _eml("persian_root.eml"), 2: _eml("auto_reply.eml"), 3: _eml("bounce.eml")})
    result, last = poll_imap(imap, "INBOX", 0, limit=2)
    assert (
        last == 2 and len(result.events) == 1 and result.ignored == ["uid 2: auto-reply from pat@example.com"]
    )
    result, last = poll_imap(imap, "INBOX", last, limit=2)
    assert last == 3 and result.statuses[0].status == "failed"


def test_imap_vanished_message_is_reported_and_skipped() -> None:
    imap = FakeImap({4: _eml("persian_root.eml")})
    imap.uid = _vanishing(imap)  # type: ignore[method-assign]
    result, last = poll_imap(imap, "INBOX", 0)
    assert result.events == [] and result.errors == ["uid 4: message vanished before it could be fetched"]
    assert last == 4


def _vanishing(imap: FakeImap):  # type: ignore[no-untyped-def]
    original = imap.uid

    def uid(command: str, *args: str) -> tuple[str, list[Any]]:
        if command == "FETCH":
            return "OK", [None]
        return original(command, *args)

    return uid


def test_imap_fetch_failure_raises_and_keeps_the_cursor() -> None:
    imap = FakeImap({5: _eml("persian_root.eml"), 6: _eml("arabic_html_only.eml")})
    imap.fail_fetch_of = 6
    with pytest.raises(PollError):
        poll_imap(imap, "INBOX", 4)
    imap.fail_fetch_of = None
    result, last = poll_imap(imap, "INBOX", 4)
    assert len(result.events) == 2 and last == 6


def test_imap_unknown_folder() -> None:
    with pytest.raises(PollError, match="Archive"):
        poll_imap(FakeImap({}), "Archive", None)
