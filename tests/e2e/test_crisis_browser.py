"""A crisis in a real browser: a message speaks of food poisoning; PR sees the alert in the bell,
opens it, reads its timeline, writes the holding statement and acknowledges it; an agent answering
another customer of the brand is offered the statement in the reply box and inserts it; a restart
keeps the alert, its timeline and the statement."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from relaydesk.channels.base import InboundEvent
from relaydesk.core.timeutil import utcnow
from relaydesk.models import ChannelAccount
from tests.e2e.test_inbox_browser import SHOTS, _build_container, browser
from tests.e2e.test_settings_browser import Server, _login, _reopened, data_dir

__all__ = ["browser", "data_dir"]

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

STATEMENT = "We are very sorry. We are looking into this with our kitchen team right now."


def _accept(container: Any, key: str, external_id: str, text: str) -> int:
    with container.sessions() as session:
        account = session.scalars(select(ChannelAccount.id).where(ChannelAccount.key == key)).one()
    accepted = container.pipeline.accept(
        account,
        InboundEvent(
            network="generic", external_id=external_id, author_id=external_id, author_name="Ana", text=text
        ),
    )
    return int(accepted.conversation_id)


def test_pr_handles_a_crisis_and_the_agent_answers_with_the_holding_statement(
    browser: Any, data_dir: Path
) -> None:
    container = _build_container(data_dir)
    container.crisis_watch.run_once(utcnow())
    _accept(
        container, "north-generic", "fp1", "My whole family got food poisoning after your salads yesterday"
    )
    other = _accept(container, "south-generic", "fp2", "Hello, are your salads safe today?")
    # a minute on: the watch leaves the newest 30 s for transactions still committing
    assert container.crisis_watch.run_once(utcnow() + timedelta(minutes=1)).raised == 1
    server = Server(container)
    problems: list[str] = []

    petra = _login(browser, server.url, "petra@test.example")
    petra.on("pageerror", lambda error: problems.append(str(error)))
    expect(petra.locator("header.top .bell .badge")).to_be_visible()
    petra.click("header.top .bell")
    notice = petra.locator("li.notice-crisis").first
    expect(notice).to_contain_text("food poisoning")
    notice.locator("button.notice-open").click()
    expect(petra.locator("h1")).to_contain_text("Crisis alert")
    expect(petra.locator("p.alert-summary")).to_contain_text("food poisoning")
    expect(petra.locator("ol.alert-timeline li[data-event=raised]")).to_have_count(1)
    expect(petra.locator("ul.alert-messages")).to_contain_text("food poisoning")
    petra.fill("textarea[name=statement_en]", STATEMENT)
    petra.click("#statement button[type=submit]")
    expect(petra.locator(".flash")).to_be_visible()
    petra.fill("form.alert-actions input[name=note]", "Kitchen called")
    petra.click("form.alert-actions button[value=acknowledge]")
    expect(petra.locator("ol.alert-timeline li[data-event=acknowledged]")).to_contain_text("Kitchen called")
    expect(petra.locator("ol.alert-timeline li[data-event=statement]")).to_have_count(1)
    petra.screenshot(path=str(SHOTS / "crisis-alert.png"), full_page=True)
    petra.context.close()

    sam = _login(browser, server.url, "sam@test.example")
    sam.on("pageerror", lambda error: problems.append(str(error)))
    sam.goto(f"{server.url}/conversations/{other}")
    panel = sam.locator("section.statements")
    expect(panel).to_contain_text(STATEMENT)
    panel.locator("button", has_text="Insert into the reply").first.click()
    expect(sam.locator("#reply-text")).to_have_value(STATEMENT)
    sam.screenshot(path=str(SHOTS / "crisis-composer.png"), full_page=True)
    sam.context.close()
    server.stop()
    container.close()

    # A restart: the alert, its timeline and the statement are where they were.
    again = _reopened(data_dir)
    server = Server(again)
    petra = _login(browser, server.url, "petra@test.example")
    petra.goto(f"{server.url}/alerts")
    row = petra.locator("table.alerts tbody tr").first
    expect(row).to_have_attribute("data-status", "acknowledged")
    row.locator("a").first.click()
    expect(petra.locator("textarea[name=statement_en]")).to_have_value(STATEMENT)
    petra.context.close()
    server.stop()
    again.close()
    assert problems == []
