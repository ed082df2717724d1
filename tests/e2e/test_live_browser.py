"""Live push in a real browser: a new message shows up in an open inbox without a reload."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from relaydesk.models import ChannelAccount
from tests.e2e.test_inbox_browser import SHOTS, World, _login, accept, browser, world

__all__ = ["browser", "world"]

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


def test_a_new_conversation_appears_in_the_open_inbox_without_reload(browser: Any, world: World) -> None:
    page = _login(browser, world, "admin@test.example")
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    page.wait_for_function("() => true")
    # The stream is open before the message arrives.
    page.wait_for_timeout(300)
    conversation = accept(world, "live-1", "Is the Tehran shop open on Friday?", name="Nia")
    row = page.locator(f'tr.conv[data-href="/conversations/{conversation}"]')
    row.wait_for(timeout=10_000)
    assert "fresh" in (row.get_attribute("class") or "")
    assert page.evaluate("window.__sameDocument === true")
    page.screenshot(path=str(SHOTS / "live-inbox.png"), full_page=True)

    # In the open conversation, the customer's next message appears in the thread.
    page.goto(f"{world.url}/conversations/{conversation}")
    page.evaluate("window.__sameDocument = true")
    page.wait_for_timeout(300)
    accept(world, "live-1", "Is the Tehran shop open on Friday?", name="Nia")  # a redelivery: nothing new
    second = accept(world, "live-2", "Also Saturday?", author="live-1", name="Nia")
    assert second == conversation
    page.locator("ol.thread li.msg", has_text="Also Saturday?").wait_for(timeout=10_000)
    assert page.evaluate("window.__sameDocument === true")
    page.context.close()


def _north(world: World) -> int:
    with world.container.sessions() as session:
        return int(
            session.scalars(select(ChannelAccount.id).where(ChannelAccount.key == "north-generic")).one()
        )


def test_an_at_mention_rings_the_bell_of_the_colleague_without_reload(browser: Any, world: World) -> None:
    conversation = accept(world, "live-bell", "Can someone check my refund?", name="Nia")
    sam = _login(browser, world, "sam@test.example")
    sam.evaluate("window.__sameDocument = true")
    unread = "() => Number((document.querySelector('a.bell .badge') || {dataset: {}}).dataset.unread || 0)"
    before = sam.evaluate(unread)
    sam.wait_for_timeout(300)  # the stream is open
    admin = _login(browser, world, "admin@test.example")
    admin.goto(f"{world.url}/conversations/{conversation}")
    admin.fill("#note-text", "@sam can you check this refund?")
    admin.click("form.compose.note button[type=submit]")
    admin.wait_for_selector(".flash.ok")
    sam.wait_for_function(f"() => ({unread})() > {before}", timeout=10_000)
    assert sam.evaluate("window.__sameDocument === true")
    assert sam.title().startswith("(")  # the count in the tab's title
    sam.screenshot(path=str(SHOTS / "live-bell.png"))
    sam.context.close()
    admin.context.close()
