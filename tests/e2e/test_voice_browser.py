"""The brand's voice in a real browser: a manager teaches her department's intent a Persian
example and sees the few-shot check; PR bans a phrase and the test box marks it in a draft; an
agent can change neither; a restart keeps both, and the audit log names who changed what."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_inbox_browser import SHOTS, _build_container, browser
from tests.e2e.test_settings_browser import Server, _login, _reopened, data_dir
from tests.voice_people import add_person

__all__ = ["browser", "data_dir"]

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

EXAMPLE = "پولم را پس بدهید"
DRAFT = "Good news: delivery is free forever, and we guarantee it!"


def test_a_manager_teaches_an_intent_pr_bans_a_phrase_and_a_restart_keeps_both(
    browser: Any, data_dir: Path
) -> None:
    container = _build_container(data_dir)
    add_person(container.sessions, "mo", "manager", ["service"])  # a manager of the whole organisation
    server = Server(container)
    problems: list[str] = []

    # Mo adds a Persian example to refund_request (it routes to customer service, her department).
    mo = _login(browser, server.url, "mo@test.example")
    mo.on("pageerror", lambda error: problems.append(str(error)))
    mo.click("header.top nav a[href='/settings']")
    mo.click("a[href='/settings/intents']")
    expect(mo.locator("tr#intent-refund_request")).to_contain_text("3 examples")
    mo.locator("tr#intent-refund_request a", has_text="Edit").click()
    examples = mo.locator("textarea[name=examples]")
    examples.fill(examples.input_value() + "\n" + EXAMPLE)
    mo.click("form.intent-form button[type=submit]")
    expect(mo.locator(".flash")).to_contain_text("refund_request")
    check = mo.locator("table.few-shot tbody tr")
    expect(check).to_have_count(4)
    persian = check.filter(has_text=EXAMPLE)
    expect(persian).to_have_count(1)
    expect(persian.locator("td").nth(1)).to_contain_text("refund_request")
    # The only Persian example: held out, triage reads it elsewhere, and the page says so.
    expect(persian).to_have_attribute("data-status", "alone")
    mo.screenshot(path=str(SHOTS / "voice-few-shot.png"), full_page=True)
    # Another department's intent is hers to read only.
    mo.goto(f"{server.url}/settings/intents/job_inquiry")
    expect(mo.locator("textarea[name=examples]")).to_have_count(0)
    mo.context.close()

    # Petra (PR, the spokesperson department) bans a phrase and checks a draft against it.
    petra = _login(browser, server.url, "petra@test.example")
    petra.on("pageerror", lambda error: problems.append(str(error)))
    petra.goto(f"{server.url}/settings")
    petra.click("a[href='/settings/guidelines']")
    petra.click("a[href='/settings/guidelines/new']")
    petra.fill("input[name=name]", "no-free")
    petra.select_option("select[name=kind]", "banned_phrase")
    petra.fill("textarea[name=phrases]", "free forever\nرایگان برای همیشه")
    petra.fill("input[name=message]", "Never promise free service")
    petra.click("form.guideline-form button[type=submit]")
    expect(petra.locator(".flash")).to_contain_text("no-free")
    petra.fill("section.try textarea[name=draft]", DRAFT)
    petra.click("section.try button[type=submit]")
    expect(petra.locator("li[data-guideline=no-free]")).to_contain_text("Never promise free service")
    expect(petra.locator("li[data-guideline=no-guarantees]")).to_have_count(1)
    expect(petra.locator(".draft-marked mark", has_text="free forever")).to_have_count(1)
    petra.screenshot(path=str(SHOTS / "voice-guidelines.png"), full_page=True)
    petra.context.close()

    # Sam (an agent) checks drafts, but changes neither guidelines nor intents.
    sam = _login(browser, server.url, "sam@test.example")
    sam.on("pageerror", lambda error: problems.append(str(error)))
    sam.goto(f"{server.url}/settings/guidelines")
    expect(sam.locator("a[href='/settings/guidelines/new']")).to_have_count(0)
    sam.goto(f"{server.url}/settings/guidelines/no-free")
    expect(sam.locator("textarea[name=phrases]")).to_have_count(0)
    response = sam.goto(f"{server.url}/settings/intents")
    assert response is not None and response.status == 403
    sam.context.close()

    server.stop()
    container.close()
    restarted = _reopened(data_dir)
    server = Server(restarted)
    try:
        sam = _login(browser, server.url, "sam@test.example")
        sam.goto(f"{server.url}/settings/guidelines")
        sam.fill("section.try textarea[name=draft]", "Hello! Shipping is free forever.")
        sam.click("section.try button[type=submit]")
        expect(sam.locator("li[data-guideline=no-free]")).to_have_count(1)
        sam.context.close()
        admin = _login(browser, server.url, "admin@test.example")
        admin.goto(f"{server.url}/settings/intents/refund_request")
        expect(admin.locator("table.few-shot tbody tr").filter(has_text=EXAMPLE)).to_have_count(1)
        admin.goto(f"{server.url}/settings/audit?kind=intent&key=refund_request")
        change = admin.locator("tbody tr").first
        expect(change).to_contain_text("Mo Manager")
        expect(change.locator("ins", has_text=EXAMPLE)).to_have_count(1)
        admin.goto(f"{server.url}/settings/audit?kind=guideline&key=no-free")
        created = admin.locator("tbody tr").first
        expect(created).to_contain_text("Petra PR")
        expect(created).to_contain_text("free forever")
        admin.screenshot(path=str(SHOTS / "voice-audit.png"), full_page=True)
        admin.context.close()
    finally:
        server.stop()
        restarted.close()
    assert not problems, problems
