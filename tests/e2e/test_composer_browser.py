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
    page.screenshot(path=str(SHOTS / "composer-finding.png"), full_page=True)

    page.fill("#reply-text", "Hello Kim, ")
    page.locator("#reply-text").press("End")
    page.locator("form.faq-insert button").first.click()
    assert page.input_value("#reply-text") == "Hello Kim, Every day 8–20."
    page.locator("#reply-findings .finding-ok").wait_for(timeout=10_000)
    assert page.url.endswith(f"/conversations/{conversation}")  # no reload
    page.context.close()
