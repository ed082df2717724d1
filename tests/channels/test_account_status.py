"""An account's status and its credentials as a form changes them: pure, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from relaydesk.channels.account_status import (
    LastError,
    badge,
    credential_names,
    credential_problem,
    form_credential_names,
    merged_credentials,
)
from relaydesk.channels.check import check_account, sandboxed

NOW = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)


def test_the_form_asks_for_what_the_network_needs_then_what_is_stored() -> None:
    assert credential_names("telegram") == ("bot_token", "webhook_secret")
    assert credential_names("facebook") == ("access_token", "app_secret", "verify_token")
    assert credential_names("myspace") == ()
    assert form_credential_names("email", ["password", "host"]) == ("host", "from_address", "password")


def test_an_empty_field_keeps_a_value_replaces_and_a_removal_deletes() -> None:
    stored = {"bot_token": "1:A", "webhook_secret": "old", "token": "legacy"}
    merged = merged_credentials(stored, {"bot_token": "", "webhook_secret": "new"}, ["token"])
    assert merged == {"bot_token": "1:A", "webhook_secret": "new"}
    # Removed and typed again: the new value wins.
    assert merged_credentials(stored, {"token": "2:B"}, ["token"])["token"] == "2:B"
    assert merged_credentials(stored, {}, []) == stored


def test_credential_names_and_sizes_are_checked() -> None:
    assert credential_problem("password", "x") is None
    assert credential_problem("Pass word", "x") is not None
    assert credential_problem("password", "x" * 5000) is not None


def test_the_badge_sums_it_up() -> None:
    recent = LastError("HTTP 401", "failed", NOW - timedelta(hours=1))
    old = LastError("HTTP 401", "failed", NOW - timedelta(days=3))
    retrying = LastError("timeout", "queued", NOW + timedelta(minutes=5))
    assert badge(False, True, None, NOW) == "off"
    assert badge(True, False, None, NOW) == "setup"
    assert badge(True, True, recent, NOW) == "failing"
    assert badge(True, True, retrying, NOW) == "failing"
    assert badge(True, True, old, NOW) == "ready"
    assert badge(True, True, None, NOW) == "ready"


def test_the_check_says_its_states_for_pages_to_word() -> None:
    ready = check_account(
        "bot", "telegram", 9, "123", {"bot_token": "1:A", "webhook_secret": "s"}, "https://x"
    )
    assert (ready.replies_state, ready.webhook_state, ready.ok) == ("ready", "ready", True)
    assert ready.address == "https://x/webhooks/telegram/9"
    half = check_account("bot", "telegram", 9, "123", {"webhook_secret": "s"}, "https://x")
    assert (half.replies_state, half.webhook_state, half.missing) == ("missing", "ready", ("bot_token",))
    unmatched = check_account(
        "pg", "facebook", 3, None, {"access_token": "t", "app_secret": "s"}, "https://x"
    )
    assert unmatched.webhook_state == "unmatched" and "external_id" in unmatched.missing
    mail = check_account(
        "mail", "email", 6, None, {"host": "smtp.example", "username": "a@b.example"}, "https://x"
    )
    assert (mail.replies_state, mail.webhook_state) == ("ready", "none")
    assert "SANDBOX" in sandboxed(ready).replies
