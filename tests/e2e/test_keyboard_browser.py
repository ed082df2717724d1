"""The keyboard map in a real browser: j / k inside a conversation follow the inbox the agent came
from, and a conversation's actions have keys (e resolve, a take it, s snooze, t transfer)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from relaydesk.models import Conversation
from tests.e2e.test_inbox_browser import SHOTS, World, _login, accept, browser, world

__all__ = ["browser", "world"]

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


def _status(world: World, conversation_id: int) -> str:
    with world.container.sessions() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        return str(conversation.status)


def test_j_and_k_inside_a_conversation_follow_the_inbox_and_e_resolves(browser: Any, world: World) -> None:
    for i in range(3):
        accept(world, f"keys-{i}", f"Question number {i} about my delivery", name=f"Keys {i}")
    page = _login(browser, world, "admin@test.example")
    hrefs = page.locator("table.inbox tr.conv").evaluate_all("rows => rows.map(r => r.dataset.href)")
    assert len(hrefs) >= 3

    # From the inbox: select the second row and open it, all by keyboard.
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_url(f"{world.url}{hrefs[1]}")

    # Inside it, j and k go to the neighbours in the order the inbox showed.
    page.keyboard.press("j")
    page.wait_for_url(f"{world.url}{hrefs[2]}")
    page.keyboard.press("k")
    page.wait_for_url(f"{world.url}{hrefs[1]}")

    # The map lists the conversation's keys; t puts the cursor on the department to hand off to.
    page.keyboard.press("?")
    shortcuts = page.locator("#shortcuts")
    assert shortcuts.get_attribute("open") is not None
    assert "mark it resolved" in shortcuts.inner_text()
    page.keyboard.press("?")
    if page.locator("#transfer-dept").count():
        page.keyboard.press("t")
        assert page.evaluate("document.activeElement.id") == "transfer-dept"
        page.keyboard.press("Escape")  # leaves the field, so the next key is a shortcut again

    conversation_id = int(hrefs[1].rsplit("/", 1)[1])
    assert _status(world, conversation_id) != "resolved"
    page.keyboard.press("e")  # resolved in the background: the page stays
    expect(page.locator(".flash")).to_have_text("Resolved.")
    assert _status(world, conversation_id) == "resolved"
    page.screenshot(path=str(SHOTS / "keyboard-resolved.png"), full_page=True)
    page.context.close()


def test_typing_a_letter_in_the_reply_box_is_text_not_a_shortcut(browser: Any, world: World) -> None:
    conversation = accept(world, "keys-typing", "Can I change my address?", name="Keys typing")
    page = _login(browser, world, "admin@test.example")
    page.goto(f"{world.url}/conversations/{conversation}")
    page.locator("#reply-text").click()
    page.keyboard.type("e a s t")
    assert page.locator("#reply-text").input_value() == "e a s t"
    assert _status(world, conversation) != "resolved"
    page.context.close()
