"""FAQ approval in a real browser: an agent proposes an answer, agents are not offered it until PR
(Petra) approves it, then an agent's conversation offers it; a restart keeps it approved, and the
audit log names Petra."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_inbox_browser import SHOTS, _build_container, browser
from tests.e2e.test_settings_browser import Server, _login, _reopened, data_dir
from tests.web.test_pages import ingest

__all__ = ["browser", "data_dir"]

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

ANSWER = "Gift cards are sold in every café; they never expire."
ANSWER_FA = "کارت هدیه در همه کافه‌ها فروخته می‌شود و تاریخ انقضا ندارد."


def _faq_panel(page: Any, url: str, conversation: int) -> Any:
    page.goto(f"{url}/conversations/{conversation}")
    expect(page.locator("#reply-text")).to_be_visible()
    return page.locator("section.faq")


def test_pr_approves_a_proposed_answer_and_agents_are_offered_it_after_a_restart_too(
    browser: Any, data_dir: Path
) -> None:
    container = _build_container(data_dir)
    server = Server(container)
    problems: list[str] = []

    # Sam (an agent of customer service) proposes an entry: it is saved as a draft.
    sam = _login(browser, server.url, "sam@test.example")
    sam.on("pageerror", lambda error: problems.append(str(error)))
    sam.click("header.top nav a[href='/settings']")
    sam.click("a[href='/settings/faq']")
    sam.click("a[href='/settings/faq/new']")
    sam.fill("input[name=key]", "gift-cards")
    sam.fill("input[name=question]", "Can I buy a gift card?")
    sam.fill("textarea[name=variants]", "Do you sell gift vouchers?\nکارت هدیه دارید؟")
    sam.fill("textarea[name=answer_en]", ANSWER)
    sam.fill("textarea[name=answer_fa]", ANSWER_FA)
    sam.click("form.faq-form button[type=submit]")
    expect(sam.locator(".flash")).to_contain_text("draft")
    expect(sam.locator("[data-result=status]")).to_contain_text("draft")
    assert sam.locator("button[data-action=approve]").count() == 0
    sam.context.close()

    # A sales question: Sally (sales) has it, and is not offered the draft.
    conversation = ingest(container, "faq-e2e-1", "Hi! Do you sell gift vouchers?", "Pat")
    sally = _login(browser, server.url, "sally@test.example")
    sally.on("pageerror", lambda error: problems.append(str(error)))
    panel = _faq_panel(sally, server.url, conversation)
    expect(sally.get_by_text(ANSWER)).to_have_count(0)

    # Petra (manager of PR, the spokesperson department) approves it from the list of drafts.
    petra = _login(browser, server.url, "petra@test.example")
    petra.on("pageerror", lambda error: problems.append(str(error)))
    petra.goto(f"{server.url}/settings/faq")
    petra.select_option("select[name=status]", "draft")
    petra.click("form.filters button[type=submit]")
    row = petra.locator("tr#faq-gift-cards")
    expect(row).to_have_attribute("data-status", "draft")
    petra.screenshot(path=str(SHOTS / "faq-draft.png"), full_page=True)
    row.locator("button[data-action=approve]").click()
    expect(petra.locator(".flash")).to_contain_text("approved")
    expect(petra.locator("tr#faq-gift-cards")).to_have_attribute("data-status", "approved")
    # The try box answers with the same function the conversation page uses.
    petra.fill("section.try textarea[name=text]", "do you sell gift vouchers")
    petra.click("section.try button[type=submit]")
    expect(petra.locator("li[data-key=gift-cards]")).to_contain_text(ANSWER)
    petra.screenshot(path=str(SHOTS / "faq-approved.png"), full_page=True)
    petra.context.close()

    panel = _faq_panel(sally, server.url, conversation)
    expect(panel).to_contain_text(ANSWER)
    sally.screenshot(path=str(SHOTS / "faq-offered.png"), full_page=True)
    sally.context.close()

    server.stop()
    container.close()
    restarted = _reopened(data_dir)
    server = Server(restarted)
    try:
        sally = _login(browser, server.url, "sally@test.example")
        expect(_faq_panel(sally, server.url, conversation)).to_contain_text(ANSWER)
        sally.goto(f"{server.url}/settings/faq")
        expect(sally.locator("tr#faq-gift-cards")).to_have_attribute("data-status", "approved")
        sally.context.close()
        admin = _login(browser, server.url, "admin@test.example")
        admin.goto(f"{server.url}/settings/audit?kind=faq&key=gift-cards")
        approval = admin.locator("tbody tr").first
        expect(approval).to_contain_text("Petra PR")
        expect(approval).to_contain_text("gift-cards")
        expect(approval.locator("ins", has_text="approved")).to_have_count(1)
        admin.screenshot(path=str(SHOTS / "faq-audit.png"), full_page=True)
        admin.context.close()
    finally:
        server.stop()
        restarted.close()
    assert not problems, problems
