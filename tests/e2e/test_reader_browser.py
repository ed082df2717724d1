"""The reading pane: on a wide screen a conversation opens beside the list, and is worked there."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_inbox_browser import SHOTS, World, _login, accept, browser, world

__all__ = ["browser", "world"]

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


def test_a_wide_screen_opens_the_conversation_beside_the_list(browser: Any, world: World) -> None:
    first = accept(world, "reader-1", "Where is my parcel? It has been a week.", name="Reader One")
    accept(world, "reader-2", "Do you sell gift cards?", name="Reader Two")
    page = _login(browser, world, "admin@test.example", width=1600, height=1000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{world.url}/")
    page.evaluate("window.stayedOnThePage = true")
    page.click(f'a.subject[href="/conversations/{first}"]')
    reader = page.locator("#reader")
    expect(reader).to_be_visible()
    assert page.url == f"{world.url}/"  # the list stays; the conversation is beside it
    pane = page.frame_locator("#reader-frame")
    expect(pane.locator("h1#convo-title")).to_contain_text("Reader One")
    assert pane.locator("header.top").count() == 0  # no second site header inside the pane
    assert page.locator(f'tr.conv.selected[data-href="/conversations/{first}"]').count() == 1

    # Worked in the pane, without leaving the list.
    pane.locator("#note-text").fill("Checking with the courier")
    pane.locator("form.note button[type=submit]").click()
    expect(pane.locator(".flash")).to_have_text("Note added.")
    page.screenshot(path=str(SHOTS / "reader-pane.png"))

    # j inside the pane moves the list's selection and shows the next conversation.
    before = page.locator("tr.conv.selected").get_attribute("data-href")
    pane.locator("h1#convo-title").click()
    page.keyboard.press("j")
    expect(page.locator("tr.conv.selected")).not_to_have_attribute("data-href", before or "")
    after = page.locator("tr.conv.selected").get_attribute("data-href")
    expect(page.locator("#reader-frame")).to_have_attribute("src", f"{after}?pane=1")

    page.click("#reader-close")
    expect(reader).to_be_hidden()
    assert page.evaluate("window.stayedOnThePage") is True
    assert problems == []
    page.context.close()


def test_a_narrow_screen_opens_the_conversation_as_a_page(browser: Any, world: World) -> None:
    conversation = accept(world, "reader-3", "Is the shop open on Friday?", name="Reader Three")
    page = _login(browser, world, "admin@test.example", width=1200, height=900)
    page.goto(f"{world.url}/")
    page.click(f'a.subject[href="/conversations/{conversation}"]')
    page.wait_for_url(f"{world.url}/conversations/{conversation}")
    page.context.close()


def test_the_pane_may_be_framed_by_this_site_only(browser: Any, world: World) -> None:
    page = _login(browser, world, "admin@test.example")
    conversation = world.conversations["en"]
    framed = page.request.get(f"{world.url}/conversations/{conversation}?pane=1")
    assert "frame-ancestors 'self'" in framed.headers["content-security-policy"]
    assert framed.headers["x-frame-options"] == "SAMEORIGIN"
    whole = page.request.get(f"{world.url}/conversations/{conversation}")
    assert "frame-ancestors 'none'" in whole.headers["content-security-policy"]
    page.context.close()
