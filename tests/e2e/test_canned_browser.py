"""Saved replies in a real browser: inserted at the cursor, and typed as `/key` then a space or Tab."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_inbox_browser import SHOTS, World, _login, accept, browser, world

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
