"""Listening queries and notification destinations in a real browser: an admin adds a destination
(its address never reaches the page again), sends a test through the fake transport, edits a
listening query's keywords and the try box shows the match; a manager reads the destination's name
and cannot change it; the audit log shows both with the address masked; a restart on the same
database keeps everything, and the stored address still decrypts."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from relaydesk.crisis.schemas import QueryIn
from relaydesk.crisis.service import ListeningService
from relaydesk.notifications import webhooks
from tests.e2e.test_inbox_browser import SHOTS, _build_container, browser
from tests.e2e.test_settings_browser import Server, _login, _reopened, data_dir

__all__ = ["browser", "data_dir"]

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

URL = "https://hooks.example/services/T0E2E/B0E2E/e2e-never-shown"


def _assert_no_url(page: Any) -> None:
    html = page.content()
    assert URL not in html and "e2e-never-shown" not in html and "hooks.example" not in html


def _admin_scope(container: Any) -> Any:
    from sqlalchemy import select

    from relaydesk.auth.service import scope_for
    from relaydesk.models import User

    with container.sessions() as session:
        user = session.scalars(select(User).where(User.email == "admin@test.example")).one()
        return scope_for(session, user)


def test_an_admin_sets_up_a_destination_and_a_query_and_a_restart_keeps_them(
    browser: Any, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    posted: list[dict[str, Any]] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        posted.append({"url": str(request.url), "body": json.loads(request.content)})
        return httpx.Response(200, text="ok")

    monkeypatch.setattr(webhooks, "_transport", httpx.MockTransport(receiver))
    for name in [n for n in os.environ if n.startswith(webhooks.ENV_PREFIX)]:
        monkeypatch.delenv(name)
    container = _build_container(data_dir)
    ListeningService(container.sessions, container.pipeline).put_query(
        _admin_scope(container),
        "Saffron brand",
        QueryIn(keywords=["saffron"], networks=["x"], location="brand"),
    )
    server = Server(container)
    try:
        page = _login(browser, server.url, "admin@test.example")
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.click("header.top nav a[href='/settings']")
        page.click("a[href='/settings/destinations']")
        page.fill("form.destination-form input[name=name]", "pr-desk")
        page.fill("form.destination-form input[name=url]", URL)
        page.click("form.destination-form button[type=submit]")
        expect(page.locator(".flash")).to_contain_text("webhook:pr-desk")
        row = page.locator("tr#destination-pr-desk")
        expect(row).to_contain_text("webhook:pr-desk")
        expect(row.locator("input[name=replace]")).to_have_value("")
        _assert_no_url(page)

        row.locator("button[data-action=test]").click()
        expect(page.locator(".flash")).to_contain_text("The test message reached pr-desk (HTTP 200).")
        assert [p["url"] for p in posted] == [URL]
        assert "pr-desk" in posted[0]["body"]["text"]
        _assert_no_url(page)
        page.screenshot(path=str(SHOTS / "settings-destinations.png"), full_page=True)

        # The listening query: keywords one per line, then the try box on a post with the new one.
        page.goto(f"{server.url}/settings/listening")
        expect(page.locator("tr[data-name='Saffron brand']")).to_contain_text("saffron")
        page.click("tr[data-name='Saffron brand'] a")
        page.fill("textarea[name=keywords]", "saffron\nزعفران")
        page.click("form.listening-form button[type=submit]")
        expect(page.locator(".flash")).to_contain_text("is saved")
        page.fill("section.try textarea[name=text]", "زعفران امروز رسید")
        page.select_option("section.try select[name=lang]", "fa")
        page.click("section.try button[type=submit]")
        expect(page.locator("[data-result=match]")).to_contain_text("زعفران")
        page.screenshot(path=str(SHOTS / "settings-listening-try.png"), full_page=True)

        page.goto(f"{server.url}/settings/audit?kind=destination")
        added = page.locator("tbody tr", has_text="pr-desk").last
        expect(added).to_contain_text("Ada Admin")
        expect(added).to_contain_text("(secret")
        _assert_no_url(page)
        page.goto(f"{server.url}/settings/audit?kind=listening_query")
        expect(page.locator("tbody tr", has_text="Saffron brand").first).to_contain_text("زعفران")
        assert not problems, problems
        page.context.close()

        # A manager sees the name, to use it in her rules, and nothing to change it with.
        manager = _login(browser, server.url, "petra@test.example")
        manager.goto(f"{server.url}/settings/destinations")
        expect(manager.locator("tr#destination-pr-desk")).to_contain_text("webhook:pr-desk")
        expect(manager.locator("form.destination-form")).to_have_count(0)
        expect(manager.locator("input[name=replace]")).to_have_count(0)
        expect(manager.locator("button[data-action=test]")).to_have_count(0)
        csrf = manager.locator("input[name=csrf]").first.get_attribute("value")
        forged = manager.request.post(
            f"{server.url}/settings/destinations/pr-desk/delete", form={"csrf": csrf or ""}, max_redirects=0
        )
        assert forged.status == 403
        _assert_no_url(manager)
        manager.context.close()
    finally:
        server.stop()
        container.close()

    restarted = _reopened(data_dir)
    server = Server(restarted)
    try:
        page = _login(browser, server.url, "admin@test.example")
        page.goto(f"{server.url}/settings/destinations")
        expect(page.locator("tr#destination-pr-desk")).to_contain_text("webhook:pr-desk")
        page.locator("tr#destination-pr-desk button[data-action=test]").click()
        expect(page.locator(".flash")).to_contain_text("reached pr-desk")
        assert [p["url"] for p in posted] == [URL, URL]
        _assert_no_url(page)
        page.goto(f"{server.url}/settings/listening/Saffron%20brand")
        expect(page.locator("textarea[name=keywords]")).to_have_value("saffron\nزعفران")
        page.context.close()
    finally:
        server.stop()
        restarted.close()
