"""Channel accounts in a real browser: an admin connects a Telegram bot, sees its status and webhook
address, a signed update posted to that address shows as the last event, the credentials never
reach the page, the audit log lists the connection with its secrets as "(secret)", and a restart on
the same database keeps the account and its settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.test_inbox_browser import SHOTS, _build_container, browser
from tests.e2e.test_settings_browser import Server, _login, _reopened, data_dir

__all__ = ["browser", "data_dir"]

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

BOT_TOKEN = "7000000001:AAF-e2e-bot-token-never-shown"
WEBHOOK_SECRET = "e2e-webhook-secret-never-shown"
FIXTURE = Path(__file__).resolve().parents[1] / "channels" / "fixtures" / "telegram" / "private_message.json"


def _assert_no_secret(page: Any) -> None:
    html = page.content()
    assert BOT_TOKEN not in html and WEBHOOK_SECRET not in html


def test_an_admin_connects_an_account_sees_its_status_and_a_restart_keeps_it(
    browser: Any, data_dir: Path
) -> None:
    container = _build_container(data_dir)
    server = Server(container)
    try:
        page = _login(browser, server.url, "admin@test.example")
        page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.click("header.top nav a[href='/settings']")
        page.click("a[href='/settings/accounts']")
        expect(page.locator("tr#account-north-generic")).to_be_visible()
        page.get_by_role("link", name="Connect an account").click()

        # The network first (a plain GET form), then its own credential fields.
        page.select_option("select[name=network]", "telegram")
        page.locator("form.filters button[type=submit]").click()
        expect(page.locator("input[name=credential__bot_token]")).to_have_attribute("type", "password")
        page.fill("input[name=key]", "north-bot")
        page.fill("input[name=name]", "North bot")
        page.fill("input[name=handle]", "northbot")
        page.fill("input[name=external_id]", "7000000001")
        page.fill("input[name=location]", "north-shop")  # a datalist suggests the locations
        page.fill("input[name=credential__bot_token]", BOT_TOKEN)
        page.fill("input[name=credential__webhook_secret]", WEBHOOK_SECRET)
        page.click("form.account-form button[type=submit]")

        expect(page.locator(".flash")).to_contain_text("north-bot")
        expect(page.locator("#status")).to_contain_text("Replies: ready.")
        address = page.locator("[data-result=webhook-address]").inner_text().strip()
        assert address.startswith(f"{server.url}/webhooks/telegram/"), address
        expect(page.locator("[data-result=last-event]")).to_contain_text("none in the last 7 days")
        expect(page.locator("input[name=credential__bot_token]")).to_have_value("")
        _assert_no_secret(page)
        page.click("button[data-copy=webhook-address]")
        expect(page.locator("button[data-copy=webhook-address]")).to_have_text("Copied")
        assert page.evaluate("navigator.clipboard.readText()") == address
        page.screenshot(path=str(SHOTS / "settings-account-connected.png"), full_page=True)

        # Telegram delivers an update to the address shown, with the secret token it was given.
        delivered = httpx.post(
            address,
            content=FIXTURE.read_bytes(),
            headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
        )
        assert delivered.status_code == 200, delivered.text
        assert json.loads(delivered.text)["accepted"], delivered.text
        page.get_by_role("button", name="Check now").click()
        expect(page.locator(".flash")).to_contain_text("Checked just now")
        expect(page.locator("[data-result=last-event] time")).to_be_visible()

        # Sandbox on: replies to this bot are recorded, never posted.
        page.check("input[name=sandbox]")
        page.click("form.account-form button[type=submit]")
        expect(page.locator(".flash")).to_contain_text("saved")
        expect(page.locator("#status")).to_contain_text("Sandbox:")
        _assert_no_secret(page)

        page.goto(f"{server.url}/settings/accounts")
        row = page.locator("tr#account-north-bot")
        expect(row).to_contain_text("North bot")
        expect(row.locator("[data-status]")).to_contain_text("ready")
        expect(row.locator("time")).to_be_visible()  # the last event
        page.screenshot(path=str(SHOTS / "settings-accounts.png"), full_page=True)

        page.goto(f"{server.url}/settings/audit?kind=account")
        connected = page.locator("tbody tr", has_text="North bot").last
        expect(connected).to_contain_text("Ada Admin")
        expect(connected).to_contain_text("(secret, changed)")
        _assert_no_secret(page)
        page.screenshot(path=str(SHOTS / "settings-account-audit.png"), full_page=True)
        assert not problems, problems
        page.context.close()
    finally:
        server.stop()
        container.close()

    restarted = _reopened(data_dir)
    server = Server(restarted)
    try:
        page = _login(browser, server.url, "admin@test.example")
        page.goto(f"{server.url}/settings/accounts/north-bot")
        expect(page.locator("input[name=sandbox]")).to_be_checked()
        expect(page.locator("input[name=external_id]")).to_have_value("7000000001")
        expect(page.locator("#status")).to_contain_text("Replies: ready.")
        expect(page.locator("[data-result=last-event] time")).to_be_visible()
        expect(page.locator("input[name=remove__webhook_secret]")).to_be_visible()  # still stored
        _assert_no_secret(page)
        page.context.close()
    finally:
        server.stop()
        restarted.close()
