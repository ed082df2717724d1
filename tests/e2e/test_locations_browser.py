"""The organisation tree in a real browser, on a chain of 1,000 locations: an admin finds a shop by
name, opens its region one level at a time, gives the whole region other hours in one confirmed
step and sees the shop keep them; the region's manager adds a holiday to her shops' hours and
cannot open a shop of another region; a restart keeps it all and the audit log says who did what."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from relaydesk.container import Container
from tests.e2e.test_inbox_browser import SHOTS, browser
from tests.e2e.test_settings_browser import Server, _login, _reopened, data_dir

__all__ = ["browser", "data_dir"]

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

REGIONS, PER_REGION = 10, 100


def _chain_yaml() -> str:
    """bench/bench_scope.py's franchise chain, without its accounts, with two named schedules."""
    lines = [
        "organization: {key: chain, name: Bench Chain, timezone: UTC}",
        "business_hours:",
        "  - {key: always, name: Around the clock, weekly: {}}",
        '  - {key: extended, name: Extended hours, weekly: {mon: [["08:00", "22:00"]], '
        'sat: [["10:00", "18:00"]]}}',
        "locations:",
        "  - {key: chain, kind: brand, name: Bench Chain, business_hours: always, children: [",
    ]
    for r in range(REGIONS):
        shops = ", ".join(
            f"{{key: shop-{r}-{i}, kind: location, name: Shop {r}-{i}}}" for i in range(PER_REGION)
        )
        lines.append(f"      {{key: region-{r}, kind: region, name: Region {r}, children: [{shops}]}},")
    lines += [
        "    ]}",
        "departments:",
        "  - {key: service, name: Customer service, default: true}",
        "agents:",
        "  - {email: owner@chain.example, name: Olga Owner, handle: owner, role: owner, password: relaydesk}",
        "  - {email: rm@chain.example, name: Rana Region, handle: rm, role: manager,"
        " departments: [service], location: region-3, password: relaydesk}",
    ]
    return "\n".join(lines) + "\n"


def _chain_container(data_dir: Path) -> Container:
    from relaydesk.config.loader import load_config_text
    from relaydesk.config.service import apply_config
    from relaydesk.db import make_engine, transaction
    from relaydesk.models import Base

    engine = make_engine(f"sqlite:///{data_dir / 'relaydesk.db'}")
    Base.metadata.create_all(engine)
    engine.dispose()
    container = _reopened(data_dir)
    loaded = load_config_text(_chain_yaml(), "chain.yaml", allow_plain_passwords=True)
    assert loaded.config is not None, loaded.problems
    with transaction(container.sessions) as session:
        apply_config(session, loaded.config, container.box)
    return container


def test_an_admin_gives_a_region_new_hours_and_its_manager_adds_a_holiday(
    browser: Any, data_dir: Path
) -> None:
    container = _chain_container(data_dir)
    server = Server(container)
    try:
        page = _login(browser, server.url, "owner@chain.example")
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.click("header.top nav a[href='/settings']")
        page.click("a[href='/settings/locations']")
        expect(page.locator("li[data-place=chain]")).to_contain_text("10 places under it")
        assert page.locator("li[data-place]").count() == 1  # the top level only

        # Found by name across the whole chain, with the way down to it.
        page.fill("input[name=q]", "Shop 3-42")
        page.locator("form[role=search] button[type=submit]").click()
        found = page.locator("tr[data-place=shop-3-42]")
        expect(found).to_contain_text("Region 3")
        expect(found).to_contain_text("Around the clock")

        # The tree opens a level at a time: the brand, then region 3 (its first 50 shops).
        page.get_by_role("link", name="Back to the tree").click()
        page.locator("li[data-place=chain] > a.toggle").click()
        expect(page.locator("li[data-place=region-3]")).to_contain_text("100 places under it")
        assert page.locator("li[data-place^=shop-]").count() == 0
        page.locator("li[data-place=region-3] > a.toggle").click()
        expect(page.locator("li[data-place=shop-3-0]")).to_be_visible()
        assert page.locator("li[data-place^=shop-]").count() == 50
        expect(page.locator("li[data-place=region-3]")).to_contain_text("50 more places")
        page.screenshot(path=str(SHOTS / "settings-locations-tree.png"), full_page=True)

        # The whole region at once, after saying how many places change.
        page.locator("li[data-place=region-3] > a[href='/settings/locations/region-3']").click()
        bulk = page.locator("form.bulk-under")
        bulk.locator("select[name=schedule]").select_option("extended")
        bulk.locator("button[type=submit]").click()
        expect(page.locator("[data-result=changing]")).to_have_text("101 places will change")
        page.screenshot(path=str(SHOTS / "settings-locations-bulk.png"), full_page=True)
        page.get_by_role("button", name="Change 101 places").click()
        expect(page.locator(".flash")).to_contain_text("101 places now have the new hours.")
        page.goto(f"{server.url}/settings/locations/shop-3-42")
        expect(page.locator("[data-result=hours]")).to_contain_text("Extended hours")
        expect(page.locator("[data-result=hours]")).to_contain_text("(inherited)")
        expect(page.locator("[data-result=used-by]")).to_contain_text("101 places")
        page.goto(f"{server.url}/settings/locations/shop-4-42")
        expect(page.locator("[data-result=hours]")).to_contain_text("Around the clock")
        assert not problems, problems
        page.context.close()

        # The region's manager: her shops' schedule is hers alone, so she changes it for all of them.
        page = _login(browser, server.url, "rm@chain.example")
        page.goto(f"{server.url}/settings/locations")
        expect(page.locator("li[data-place=region-3]")).to_be_visible()
        expect(page.locator("li[data-place=chain]")).to_have_count(0)
        page.goto(f"{server.url}/settings/locations/shop-3-42")
        form = page.locator("form.schedule-form")
        expect(form.locator("input[name=day_mon]")).to_have_value("08:00-22:00")
        form.locator("textarea[name=holidays]").fill("2026-25-12")
        form.locator("button[type=submit]").click()
        expect(page.locator("#problem-holidays")).to_contain_text("2026-25-12")
        expect(form.locator("textarea[name=holidays]")).to_have_value("2026-25-12")  # kept as typed
        form.locator("textarea[name=holidays]").fill("2026-12-25")
        expect(form.locator("input[name=mode][value=shared]")).to_be_checked()
        form.locator("button[type=submit]").click()
        expect(page.locator(".flash")).to_contain_text("every place that uses it")
        expect(page.locator("[data-result=holidays]")).to_contain_text("2026-12-25")
        assert (
            page.locator("form.place-add").count() == 0
            and page.locator("text=Delete this place").count() == 0
        )
        page.screenshot(path=str(SHOTS / "settings-location-manager.png"), full_page=True)
        outside = page.goto(f"{server.url}/settings/locations/shop-5-1")
        assert outside is not None and outside.status == 404
        page.context.close()
    finally:
        server.stop()
        container.close()

    restarted = _reopened(data_dir)
    server = Server(restarted)
    try:
        page = _login(browser, server.url, "owner@chain.example")
        page.goto(f"{server.url}/settings/locations/shop-3-99")
        expect(page.locator("[data-result=hours]")).to_contain_text("Extended hours")
        expect(page.locator("[data-result=holidays]")).to_contain_text("2026-12-25")
        page.goto(f"{server.url}/settings/audit?kind=location")
        entry = page.locator("tbody tr", has_text="101 places").first
        expect(entry).to_contain_text("Olga Owner")
        expect(entry).to_contain_text("Region 3 (region-3)")
        expect(entry).to_contain_text("Extended hours")
        page.goto(f"{server.url}/settings/audit?kind=business_hours")
        holiday = page.locator("tbody tr", has_text="Rana Region").first
        expect(holiday).to_contain_text("2026-12-25")
        page.screenshot(path=str(SHOTS / "settings-locations-audit.png"), full_page=True)
        page.context.close()
    finally:
        server.stop()
        restarted.close()
