"""The composer in a real browser: brand-voice findings while typing, approved answers inserted."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_inbox_browser import SHOTS, World, _login, accept, browser, world

__all__ = ["browser", "world"]

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


def test_findings_show_before_sending_and_an_answer_goes_in_at_the_cursor(browser: Any, world: World) -> None:
    conversation = accept(world, "composer-1", "When are you open?", author="kim", name="Kim")
    page = _login(browser, world, "admin@test.example")
    page.goto(f"{world.url}/conversations/{conversation}")
    page.fill("#reply-text", "Hello Kim, we guarantee it arrives tomorrow.")
    finding = page.locator("#reply-findings .finding")
    finding.first.wait_for(timeout=10_000)
    assert "Never promise guarantees" in finding.first.inner_text()
    # The phrase itself is underlined under the words as they stand in the text box.
    mark = page.locator("#reply-marks mark")
    mark.first.wait_for(timeout=10_000)
    assert [m.inner_text() for m in mark.all()] == ["we guarantee"]
    assert mark.first.get_attribute("class") == "mark-block"
    _assert_inside(mark.first.bounding_box(), page.locator("#reply-text").bounding_box())
    page.screenshot(path=str(SHOTS / "composer-finding.png"), full_page=True)

    page.fill("#reply-text", "Hello Kim, ")
    page.locator("#reply-text").press("End")
    page.locator("form.faq-insert button").first.click()
    assert page.input_value("#reply-text") == "Hello Kim, Every day 8–20."
    page.locator("#reply-findings .finding-ok").wait_for(timeout=10_000)
    assert page.url.endswith(f"/conversations/{conversation}")  # no reload
    page.context.close()


def _assert_inside(inner: Any, outer: Any) -> None:
    assert inner and outer and inner["width"] > 0 and inner["height"] > 0
    assert outer["x"] <= inner["x"] and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
    assert outer["y"] <= inner["y"] and inner["y"] + inner["height"] <= outer["y"] + outer["height"]


def test_a_persian_draft_is_underlined_from_the_right_and_again_as_it_changes(
    browser: Any, world: World
) -> None:
    conversation = accept(world, "composer-fa", "سلام، سفارشم کی می‌رسه؟", author="sara", name="سارا")
    page = _login(browser, world, "admin@test.example")
    page.goto(f"{world.url}/conversations/{conversation}")
    box = page.locator("#reply-text")
    # Typed without the ZWNJ the rule has: still the same words.
    box.fill("سلام سارا، ما تضمین میکنیم که فردا برسد.")
    mark = page.locator("#reply-marks mark")
    mark.first.wait_for(timeout=10_000)
    assert mark.first.inner_text() == "ما تضمین میکنیم"
    area, found = box.bounding_box(), mark.first.bounding_box()
    _assert_inside(found, area)
    # Right to left: the phrase, near the start of the sentence, is drawn in the right half.
    assert found["x"] + found["width"] > area["x"] + area["width"] / 2
    page.screenshot(path=str(SHOTS / "composer-finding-fa.png"), full_page=True)
    # Rewritten without the promise: the underline goes, and the box says so.
    box.fill("سلام سارا، سفارش شما فردا ارسال می‌شود.")
    page.locator("#reply-findings").get_by_text("No brand-voice problems found.").wait_for(timeout=10_000)
    assert mark.count() == 0
    page.context.close()
