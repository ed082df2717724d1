"""Settings in a real browser: a manager changes her department's routing rule and sees the dry run
change, cannot change another department's; the admin reads the change in the audit log; a restart
keeps all of it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from relaydesk.container import Container
from tests.e2e.test_inbox_browser import SHOTS, _build_container, _chromium_or_skip, browser

__all__ = ["browser"]

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

SPONSOR = "Would your company sponsor our school marathon next month?"


class Server:
    """The app on a free port, stoppable, so a test can restart it on the same database file."""

    def __init__(self, container: Container) -> None:
        import uvicorn

        from relaydesk.app import create_app

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            create_app(container.settings, container), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.server.started, "the server did not start"
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    _chromium_or_skip()
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield tmp_path


def _reopened(data_dir: Path) -> Container:
    """What `relaydesk serve` builds at a start: the same file, nothing applied over it."""
    from relaydesk.container import build_container
    from relaydesk.db import make_engine
    from relaydesk.pipeline.bus.inproc import InProcessBus
    from relaydesk.settings import Settings
    from relaydesk.triage.lexicon import LexiconTriager

    engine = make_engine(f"sqlite:///{data_dir / 'relaydesk.db'}")
    settings = Settings(
        database_url=str(engine.url), data_dir=data_dir, secret_key="e2e-secret-key", background_tasks=False
    )
    return build_container(settings, engine=engine, triager=LexiconTriager(), bus=InProcessBus())


def _login(browser: Any, url: str, email: str) -> Any:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{url}/login")
    page.fill("#email", email)
    page.fill("#password", "relaydesk")
    page.click("form button[type=submit]")
    page.wait_for_url(f"{url}/")
    return page


def _try(page: Any, url: str, text: str) -> None:
    page.goto(f"{url}/settings/rules")
    page.fill("section.try textarea[name=text]", text)
    page.select_option("section.try select[name=account]", "north-generic")
    page.click("section.try button[type=submit]")
    expect(page.locator("[data-result=department]")).to_be_visible()


def test_a_manager_changes_her_rule_sees_the_dry_run_change_and_a_restart_keeps_it(
    browser: Any, data_dir: Path
) -> None:
    container = _build_container(data_dir)
    server = Server(container)
    page = _login(browser, server.url, "petra@test.example")  # manager of the PR department
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.click("header.top nav a[href='/settings']")
    page.click("a[href='/settings/rules']")
    # Another department's rule: shown, not editable, and its address does not open it either.
    leads = page.locator("tr#rule-leads")
    expect(leads).to_contain_text("sales")
    assert leads.locator("a", has_text="Edit").count() == 0
    page.goto(f"{server.url}/settings/rules/leads/edit")
    expect(page.locator(".flash")).to_contain_text("your own departments")

    _try(page, server.url, SPONSOR)
    assert page.locator("[data-result=matched]").inner_text() != "crisis"
    before = page.locator("[data-result=department]").inner_text()
    assert before != "pr"

    page.goto(f"{server.url}/settings/rules")
    page.locator("tr#rule-crisis a", has_text="Edit").click()
    page.fill("textarea[name=keywords]", "sponsor\nحمایت مالی")
    page.uncheck("input[name=urgency][value=critical]")
    page.click("form.rule-form button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("crisis")
    page.screenshot(path=str(SHOTS / "settings-rule-saved.png"), full_page=True)

    _try(page, server.url, SPONSOR)
    expect(page.locator("[data-result=department]")).to_have_text("pr")
    expect(page.locator("[data-result=matched]")).to_contain_text("crisis")
    page.screenshot(path=str(SHOTS / "settings-rule-tried.png"), full_page=True)
    assert not problems, problems
    page.context.close()

    admin = _login(browser, server.url, "admin@test.example")
    admin.goto(f"{server.url}/settings/audit?kind=routing_rule")
    change = admin.locator("tbody tr").first
    expect(change).to_contain_text("Petra PR")
    expect(change).to_contain_text("crisis")
    # Only what changed in the rule's conditions: urgency critical -> none, words none -> sponsor.
    expect(change.locator("del", has_text="critical")).to_have_count(1)  # before
    expect(change.locator("ins", has_text="sponsor, حمایت مالی")).to_have_count(1)  # after
    admin.screenshot(path=str(SHOTS / "settings-audit.png"), full_page=True)
    admin.context.close()

    server.stop()
    container.close()
    restarted = _reopened(data_dir)
    server = Server(restarted)
    try:
        page = _login(browser, server.url, "petra@test.example")
        page.goto(f"{server.url}/settings/rules/crisis/edit")
        assert page.locator("textarea[name=keywords]").input_value() == "sponsor\nحمایت مالی"
        _try(page, server.url, SPONSOR)
        expect(page.locator("[data-result=department]")).to_have_text("pr")
        page.context.close()
        admin = _login(browser, server.url, "admin@test.example")
        admin.goto(f"{server.url}/settings/audit?kind=routing_rule&key=crisis")
        expect(admin.locator("tbody tr").first).to_contain_text("Petra PR")
        admin.context.close()
    finally:
        server.stop()
        restarted.close()
