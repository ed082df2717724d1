"""The composer in a real browser: brand-voice findings while typing, approved answers inserted."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from relaydesk.channels.base import InboundEvent
from relaydesk.models import ChannelAccount
from tests.e2e.test_inbox_browser import SHOTS, World, _login, browser, world

__all__ = ["browser", "world"]

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


def test_findings_show_before_sending_and_an_answer_goes_in_at_the_cursor(browser: Any, world: World) -> None:
    with world.container.sessions() as session:
        north = session.scalars(select(ChannelAccount.id).where(ChannelAccount.key == "north-generic")).one()
    accepted = world.container.pipeline.accept(
        north,
        InboundEvent(
            network="generic",
            external_id="composer-1",
            author_id="kim",
            author_name="Kim",
            text="When are you open?",
        ),
    )
    page = _login(browser, world, "admin@test.example")
    page.goto(f"{world.url}/conversations/{accepted.conversation_id}")
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
    assert page.url.endswith(f"/conversations/{accepted.conversation_id}")  # no reload
    page.context.close()
