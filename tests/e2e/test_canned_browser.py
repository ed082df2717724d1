"""Saved replies in a real browser: inserted at the cursor, and typed as `/key` then a space or Tab."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_inbox_browser import SHOTS, World, _login, accept, browser, world
from tests.orgconfig import apply_variant

__all__ = ["browser", "world"]

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

FILLED = "سلام مریم، بازپرداخت شما در راه است. Sam"  # tests/fixtures/org.yaml's `refund`, in Persian


def _persian_conversation(world: World) -> int:
    text = "سلام، سفارشم دیر رسید و قهوه سرد بود. لطفاً پولم را برگردانید."
    return accept(world, "canned-fa", text, author="maryam", name="مریم احمدی")


def test_a_saved_reply_is_inserted_with_the_customers_first_name(browser: Any, world: World) -> None:
    conversation = _persian_conversation(world)
    page = _login(browser, world, "sam@test.example")
    page.goto(f"{world.url}/conversations/{conversation}")
    page.evaluate("window.__sameDocument = true")  # gone if the insert reloads the page
    panel = page.locator("section.canned")
    assert "/refund" in panel.inner_text()
    assert FILLED in panel.locator("p.canned-text").first.inner_text()

    reply = page.locator("#reply-text")
    reply.fill("درود! ")
    reply.evaluate("el => { el.selectionStart = el.selectionEnd = el.value.length; }")
    panel.locator("form.canned-insert button").first.click()
    assert reply.input_value() == "درود! " + FILLED
    assert page.evaluate("window.__sameDocument === true")
    assert page.evaluate("document.activeElement.id") == "reply-text"
    page.screenshot(path=str(SHOTS / "canned-insert.png"), full_page=True)

    # `/refund` and a space at the start of the reply becomes the saved reply.
    reply.fill("")
    reply.press_sequentially("/refund ")
    assert reply.input_value() == FILLED
    # After a space, with Tab; the Tab stays in the reply box.
    reply.fill("")
    reply.press_sequentially("Thanks! /refund")
    reply.press("Tab")
    assert reply.input_value() == "Thanks! " + FILLED
    assert page.evaluate("document.activeElement.id") == "reply-text"
    # An unknown key, or a key glued to a word, is just text.
    reply.fill("")
    reply.press_sequentially("/nope and a/refund ")
    assert reply.input_value() == "/nope and a/refund "
    page.context.close()


def test_a_macro_offers_its_changes_beside_send_and_makes_them_without_a_reload(
    browser: Any, world: World
) -> None:
    def with_macro(config: dict[str, Any]) -> None:
        config["canned_responses"].append(
            {
                "key": "refund-done",
                "title": "Refund sent, closing",
                "texts": {"fa": "سلام {customer.first_name}، بازپرداخت انجام شد."},
                "actions": {"status": "resolved", "tags": ["refund"]},
            }
        )

    apply_variant(world.container, with_macro)
    conversation = accept(world, "macro-fa", "پولم را برگردانید", author="neda", name="ندا")
    page = _login(browser, world, "sam@test.example")
    page.goto(f"{world.url}/conversations/{conversation}")
    page.evaluate("window.__sameDocument = true")
    pick = page.locator("#macro-pick")
    assert pick.is_hidden()  # nothing is offered until a macro is chosen
    page.locator("form.canned-insert button[data-macro='refund-done']").click()
    expect(pick).to_be_visible()
    assert page.locator("#macro-key").is_checked()
    assert "tags refund, resolved" in pick.inner_text()
    page.screenshot(path=str(SHOTS / "macro-offered.png"), full_page=True)
    page.click("form.reply button[type=submit]:not([name])")
    expect(page.locator(".flash")).to_contain_text("Also done: tags refund, resolved.")
    assert page.locator(".facts .status").inner_text() == "resolved"
    assert page.evaluate("window.__sameDocument === true")
    page.context.close()


def test_an_emoji_goes_where_the_cursor_is(browser: Any, world: World) -> None:
    conversation = _persian_conversation(world)
    page = _login(browser, world, "sam@test.example")
    page.goto(f"{world.url}/conversations/{conversation}")
    reply = page.locator("#reply-text")
    reply.fill("ممنون از صبرتون")
    reply.evaluate("el => { el.selectionStart = el.selectionEnd = 6; }")  # after «ممنون »
    page.click("#emoji-picker > summary")
    page.click("#emoji-picker button[data-emoji='🙏']")
    assert reply.input_value() == "ممنون 🙏از صبرتون"
    assert not page.locator("#emoji-picker").evaluate("el => el.open")
    assert page.evaluate("document.activeElement.id") == "reply-text"
    page.context.close()
