"""A reply with a file, in a real browser: picked, sent in the background, shown in the thread."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.channels.accounts import add_accounts
from tests.conversations.test_attachments import PNG
from tests.e2e.test_inbox_browser import SHOTS, World, _login, browser, world

__all__ = ["browser", "world"]

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


def _open_with_a_file(
    browser: Any, world: World, network: str, account_ref: str, creds: dict[str, str], text: str
) -> Any:
    """A conversation on `network`, opened by sam with `text` typed and a PNG picked."""
    from relaydesk.channels.base import InboundEvent

    account = add_accounts(world.container, f"e2e-{network}-", {"a": (network, account_ref, creds, {})})["a"]
    event = InboundEvent(
        network=network, external_id=f"{network}:in:1", author_id="cust-5", text="?", kind="dm"
    )
    conversation = int(world.container.pipeline.accept(account, event).conversation_id)
    page = _login(browser, world, "sam@test.example")
    page.goto(f"{world.url}/conversations/{conversation}")
    page.evaluate("window.stayedOnThePage = true")
    page.fill("#reply-text", text)
    page.set_input_files(
        "#reply-files", files=[{"name": "receipt.png", "mimeType": "image/png", "buffer": PNG}]
    )
    return page


def test_a_file_picked_in_the_reply_box_is_sent_and_shown(browser: Any, world: World) -> None:
    page = _open_with_a_file(browser, world, "telegram", "777", {"bot_token": "7:x"}, "رسید شما")
    page.click("form.reply button[type=submit]:not([name])")
    expect(page.locator(".flash")).to_have_text("Reply sent.")
    thumb = page.locator(".msg-outbound img.thumb").last
    expect(thumb).to_have_attribute("alt", "receipt.png")
    page.wait_for_function("img => img.complete && img.naturalWidth === 2", arg=thumb.element_handle())
    served = page.request.get(f"{world.url}{thumb.get_attribute('src')}")
    assert served.status == 200 and served.body() == PNG
    assert page.evaluate("window.stayedOnThePage") is True
    page.screenshot(path=str(SHOTS / "reply-file.png"), full_page=True)
    page.context.close()


def test_a_refused_reply_keeps_the_files_picked(browser: Any, world: World) -> None:
    """Messenger takes a file alone: the refusal is said and the picked file stays picked."""
    page = _open_with_a_file(
        browser, world, "facebook", "104500000000001", {"access_token": "t"}, "Here it is"
    )
    page.click("form.reply button[type=submit]:not([name])")
    expect(page.locator(".flash.error")).to_contain_text("On Facebook a file goes alone")
    assert page.locator("#reply-files").evaluate("box => box.files.length") == 1
    assert page.locator("#reply-text").input_value() == "Here it is"
    page.fill("#reply-text", "")
    page.click("form.reply button[type=submit]:not([name])")
    expect(page.locator(".flash")).to_have_text("Reply sent.")
    assert page.locator("#reply-files").evaluate("box => box.files.length") == 0
    page.context.close()
