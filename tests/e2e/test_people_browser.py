"""People in a real browser: an admin invites a person into PR and passes on the one-time link;
the person sets a password with it and logs in (the link then refuses a second use); Petra, PR's
manager, changes the new agent's shift and capacity and cannot open an agent of another department
(403); a restart on the same database keeps the changes, and the audit log shows them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_inbox_browser import SHOTS, _build_container, browser
from tests.e2e.test_settings_browser import Server, _login, _reopened, data_dir

__all__ = ["browser", "data_dir"]

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

PASSWORD = "pia's own password 2026"


def _person_id(container: Any, handle: str) -> int:
    from sqlalchemy import select

    from relaydesk.models import User

    with container.sessions() as session:
        return int(session.scalars(select(User.id).where(User.handle == handle)).one())


def test_a_manager_changes_her_agents_shift_an_invite_lets_a_person_in_and_a_restart_keeps_it(
    browser: Any, data_dir: Path
) -> None:
    container = _build_container(data_dir)
    server = Server(container)
    try:
        admin = _login(browser, server.url, "admin@test.example")
        problems: list[str] = []
        admin.on("pageerror", lambda error: problems.append(str(error)))
        admin.click("header.top nav a[href='/settings']")
        admin.click("a[href='/settings/people']")
        expect(admin.locator("tr#person-sam")).to_contain_text("Sam Service")
        admin.get_by_role("link", name="Invite a person").click()
        admin.fill("input[name=name]", "Pia PR")
        admin.fill("input[name=email]", "pia@test.example")
        admin.check("input[name=departments][value=pr]")
        admin.fill("input[name=languages]", "en, fa")
        admin.click("form.person-form button[type=submit]")
        link = admin.locator("[data-result=welcome-link]").inner_text().strip()
        assert link.startswith(f"{server.url}/welcome/rw_"), link
        admin.screenshot(path=str(SHOTS / "settings-person-invited.png"), full_page=True)

        # The invited person, in a browser of their own.
        newcomer = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        newcomer.goto(link)
        expect(newcomer.locator("h1")).to_contain_text("Pia PR")
        newcomer.fill("#password", PASSWORD)
        newcomer.fill("#confirm", PASSWORD)
        newcomer.click("form button[type=submit]")
        newcomer.wait_for_url(f"{server.url}/login")
        expect(newcomer.locator(".flash")).to_contain_text("password is set")
        newcomer.fill("#email", "pia@test.example")
        newcomer.fill("#password", PASSWORD)
        newcomer.click("form button[type=submit]")
        newcomer.wait_for_url(f"{server.url}/")
        used = newcomer.goto(link)
        assert used is not None and used.status == 410
        expect(newcomer.locator("main")).to_contain_text("used already")
        newcomer.context.close()

        # PR's manager: her new agent's shift and capacity; another department's agent is not hers.
        petra = _login(browser, server.url, "petra@test.example")
        petra.on("pageerror", lambda error: problems.append(str(error)))
        petra.click("header.top nav a[href='/settings']")
        petra.click("a[href='/settings/people']")
        expect(petra.locator("tr#person-sam")).to_have_count(0)
        petra.click("tr#person-pia a")
        expect(petra.locator("input[name=email]")).to_have_count(0)  # not hers to change
        petra.check("input[name=shift-0-days][value=mon]")
        petra.check("input[name=shift-0-days][value=tue]")
        petra.fill("input[name=shift-0-start]", "9:00")
        petra.fill("input[name=shift-0-end]", "17:00")
        petra.check("input[name=shift-1-days][value=sat]")
        petra.fill("input[name=shift-1-start]", "25:00")
        petra.fill("input[name=shift-1-end]", "18:00")
        petra.fill("input[name=max_concurrent]", "3")
        petra.click("form.person-form button[type=submit]")
        # The second row is wrong: said in its row, the first row and the capacity kept as typed.
        expect(petra.locator("tr[data-row='2'] .field-error")).to_contain_text("25:00")
        expect(petra.locator("input[name=max_concurrent]")).to_have_value("3")
        petra.screenshot(path=str(SHOTS / "settings-person-row-error.png"), full_page=True)
        petra.fill("input[name=shift-1-start]", "")
        petra.fill("input[name=shift-1-end]", "")
        petra.uncheck("input[name=shift-1-days][value=sat]")
        petra.click("form.person-form button[type=submit]")
        expect(petra.locator(".flash")).to_contain_text("Pia PR is saved")
        expect(petra.locator("[data-result=load]")).to_have_text("0 / 3")
        expect(petra.locator("input[name=shift-0-start]")).to_have_value("09:00")
        petra.screenshot(path=str(SHOTS / "settings-person-saved.png"), full_page=True)
        denied = petra.goto(f"{server.url}/settings/people/{_person_id(container, 'sam')}")
        assert denied is not None and denied.status == 403
        expect(petra.locator("main")).to_contain_text("outside your part of the organisation")
        assert not problems, problems
        petra.context.close()
        admin.context.close()
    finally:
        server.stop()
        container.close()

    restarted = _reopened(data_dir)
    server = Server(restarted)
    try:
        admin = _login(browser, server.url, "admin@test.example")
        admin.goto(f"{server.url}/settings/people?q=pia")
        row = admin.locator("tr#person-pia")
        expect(row).to_contain_text("0 / 3")
        row.locator("a").click()
        expect(admin.locator("input[name=shift-0-start]")).to_have_value("09:00")
        expect(admin.locator("input[name=shift-0-days][value=tue]")).to_be_checked()
        admin.goto(f"{server.url}/settings/audit?kind=person")
        change = admin.locator("tbody tr", has_text="Petra PR").first
        expect(change).to_contain_text("Pia PR")
        expect(change.locator("del", has_text="8")).to_have_count(1)  # capacity before
        expect(change.locator("ins", has_text="3")).to_have_count(1)  # and after
        expect(admin.locator("tbody tr", has_text="Ada Admin").first).to_contain_text("Pia PR")
        admin.screenshot(path=str(SHOTS / "settings-people-audit.png"), full_page=True)
        admin.context.close()
    finally:
        server.stop()
        restarted.close()
