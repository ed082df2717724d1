"""The poll runner: cursors kept in the account across restarts, no gaps, no repeats."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from relaydesk.channels.polling import CURSOR, Poller, PollReport
from relaydesk.models import ChannelAccount, Message
from tests.channels.accounts import add_account
from tests.channels.fakes.telegram_api import FakeTelegramApi
from tests.channels.fakes.x_api import FakeXApi
from tests.channels.test_pollers import FakeImap, _eml

X_ME = "1000"


def stored(container: Any, account_id: int) -> list[str]:
    with container.sessions() as session:
        return sorted(
            str(m.external_id)
            for m in session.scalars(select(Message).where(Message.account_id == account_id))
        )


def cursor_of(container: Any, account_id: int) -> Any:
    with container.sessions() as session:
        row = session.get(ChannelAccount, account_id)
        assert row is not None
        return (row.settings or {}).get(CURSOR)


def poll(poller: Poller, account_id: int) -> PollReport:
    return asyncio.run(poller.poll(account_id))


def test_x_since_id_survives_a_restart_and_a_failed_page_skips_nothing(container: Any) -> None:
    api = FakeXApi(me=X_ME, page_size=2)
    account = add_account(container, "x-poll", "x", X_ME, {"access_token": "x-user-token"}, poll=True)
    alice = api.add_user("Alice", "alice")
    first = [api.add_post(alice, f"@brand where is order {i}", mentions=[X_ME]) for i in range(3)]

    def new_poller() -> Poller:  # a fresh process: nothing in memory but the database
        return Poller(container, transport=api.transport, x_base_url=api.base_url)

    report = poll(new_poller(), account)
    assert report.error is None and report.accepted == 3 and cursor_of(container, account) == first[-1]
    later = [api.add_post(alice, f"@brand still waiting {i}", mentions=[X_ME]) for i in range(3)]
    api.fail_next("server_error", after=1)  # the second page fails
    failed = poll(new_poller(), account)
    assert failed.error and cursor_of(container, account) == first[-1]  # not moved past the gap
    before = len(api.calls)
    again = poll(new_poller(), account)
    assert again.error is None and cursor_of(container, account) == later[-1]
    assert api.calls[before].params.get("since_id") == first[-1]  # read back from the database
    assert stored(container, account) == sorted(first + later)  # each once, none missing
    assert poll(new_poller(), account).accepted == 0


def test_telegram_offset_survives_a_restart(container: Any) -> None:
    api = FakeTelegramApi()
    account = add_account(container, "tg-poll", "telegram", "123456", {"bot_token": api.token}, poll=True)
    api.push_message(chat_id=42, text="سلام")
    last = api.push_message(chat_id=42, text="order 77?")
    report = poll(Poller(container, transport=api.transport, telegram_base_url=api.base_url), account)
    assert report.accepted == 2 and cursor_of(container, account) == last + 1
    api.push_message(chat_id=42, text="hello again")
    restarted = Poller(container, transport=api.transport, telegram_base_url=api.base_url)
    assert poll(restarted, account).accepted == 1
    assert [c.params.get("offset") for c in api.calls if c.path.endswith("/getUpdates")][-1] == str(last + 1)
    assert len(stored(container, account)) == 3


def test_imap_uid_cursor_survives_a_restart(container: Any) -> None:
    imap = FakeImap({3: _eml("persian_root.eml")})
    creds = {"host": "mail.example", "username": "support@brand.example", "password": "mail-pass"}
    account = add_account(container, "mail-poll", "email", "support@brand.example", creds)
    poller = Poller(container, imap_factory=lambda _creds: imap)
    assert poll(poller, account).accepted == 1 and cursor_of(container, account) == 3
    imap.messages[7] = _eml("thai_reply_with_attachments.eml")
    assert poll(Poller(container, imap_factory=lambda _creds: imap), account).accepted == 1
    assert imap.commands[-2][:3] == ("SEARCH", "UID", "4:*") and cursor_of(container, account) == 7
    assert len(stored(container, account)) == 2


def test_only_accounts_without_webhooks_are_polled_and_failures_name_no_secret(container: Any) -> None:
    hooked = add_account(container, "x-hook", "x", "2000", {"access_token": "t"})
    polled = add_account(container, "x-poll2", "x", "2001", {}, poll=True)
    due = Poller(container).due_accounts()
    assert polled in due and hooked not in due

    def refused(_creds: dict[str, Any]) -> Any:
        raise OSError("login failed for support@brand.example with mail-pass")

    mail = add_account(container, "mail-bad", "email", None, {"host": "h", "password": "mail-pass"})
    report = poll(Poller(container, imap_factory=refused), mail)
    assert report.error and "mail-pass" not in report.error and cursor_of(container, mail) is None
    assert "access_token" in (poll(Poller(container), polled).error or "")
    with container.sessions() as session:
        assert session.scalar(select(func.count(Message.id)).where(Message.account_id == mail)) == 0


def test_other_networks_are_not_polled(container: Any) -> None:
    account = add_account(container, "gen-poll", "generic", None, {})
    assert "not polled" in (poll(Poller(container), account).error or "")


def test_one_failing_account_does_not_stop_polling_the_others(container: Any) -> None:
    # An unexpected error in one account (here a bad imap_port) must not end the round with a
    # traceback: `relaydesk channels poll --every N` would stop polling every other account.
    good_imap = FakeImap({3: _eml("persian_root.eml")})
    bad = add_account(container, "mail-port", "email", None, {"host": "h", "imap_port": "nine"})
    good = add_account(container, "mail-ok", "email", "support@brand.example", {"host": "mail.example"})

    def factory(creds: dict[str, Any]) -> Any:
        int(creds.get("imap_port") or 993)  # what default_imap does with the setting
        return good_imap

    reports = {r.account_id: r for r in asyncio.run(Poller(container, imap_factory=factory).poll_all())}
    assert reports[bad].error and cursor_of(container, bad) is None
    assert reports[good].error is None and reports[good].accepted == 1 and cursor_of(container, good) == 3
