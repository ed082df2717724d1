"""Bulk actions in a real browser: tick three rows, resolve them, see the message and the rows."""

from __future__ import annotations

from typing import Any

import pytest

from relaydesk.models import Conversation
from tests.e2e.test_inbox_browser import SHOTS, World, _login, accept, browser, world

__all__ = ["browser", "world"]

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


def test_tick_three_rows_and_resolve_them(browser: Any, world: World) -> None:
    chosen = [accept(world, f"bulk-{i}", f"Where is my order number {i}?", name="Bulk") for i in range(3)]
    page = _login(browser, world, "admin@test.example")
    page.goto(f"{world.url}/?status=all")
    bar = page.locator("[data-bulk-bar]")
    assert bar.is_hidden()  # nothing ticked yet

    # "Select all" ticks every row of the page, and clearing it clears them.
    page.locator("input[data-bulk-all]").check()
    assert bar.is_visible()
    assert page.locator("input[data-bulk-pick]:not(:checked)").count() == 0
    page.locator("input[data-bulk-all]").uncheck()
    assert page.locator("input[data-bulk-pick]:checked").count() == 0 and bar.is_hidden()

    for conversation in chosen:
        box = page.locator(f'tr[data-href="/conversations/{conversation}"] input[data-bulk-pick]')
        assert "Bulk" in (box.get_attribute("aria-label") or "")
        box.check()
    assert page.url == f"{world.url}/?status=all"  # ticking a row does not open it
    assert page.locator("input[data-bulk-all]").evaluate("el => el.indeterminate")
    page.screenshot(path=str(SHOTS / "bulk-selected.png"), full_page=True)
    bar.get_by_role("button", name="Resolve").click()

    page.wait_for_load_state()
    assert page.url == f"{world.url}/?status=all"  # back to the same filtered inbox
    assert page.locator("p.flash.ok").inner_text() == "3 conversations resolved."
    for conversation in chosen:
        row = page.locator(f'tr[data-href="/conversations/{conversation}"]')
        assert row.locator(".status-resolved").count() == 1
    with world.container.sessions() as session:
        statuses = {session.get(Conversation, c).status for c in chosen}  # type: ignore[union-attr]
    assert statuses == {"resolved"}
    page.screenshot(path=str(SHOTS / "bulk-resolved.png"), full_page=True)
    page.context.close()
