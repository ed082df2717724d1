"""Reports in a real browser: a chart's bar and a table's number open the conversations behind
them, and the downloads carry the page's numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_inbox_browser import SHOTS, World, _login, browser, world

__all__ = ["browser", "world"]

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


def _download(page: Any, link: Any, tmp_path: Path) -> list[dict[str, str]]:
    with page.expect_download() as info:
        link.click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    return list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))


def test_a_manager_drills_from_the_numbers_to_the_conversations_and_downloads_them(
    browser: Any, world: World, tmp_path: Path
) -> None:
    world.container.rollups.run_once()
    page = _login(browser, world, "admin@test.example", width=1280, height=1000)
    page.goto(f"{world.url}/reports?days=7")
    total = int(page.locator(".kpi .big a").first.inner_text())
    assert total >= len(world.conversations) - 1  # every test conversation of the week, spam aside
    page.screenshot(path=str(SHOTS / "en-reports-charts.png"), full_page=True)

    # Today's bar is a link to today's conversations.
    bars = page.locator("figure.chart a rect.bar")
    assert bars.count() >= 1
    bars.last.click()
    page.wait_for_url("**/?**")
    assert page.locator(".filter-tag.drill").is_visible()
    assert (
        page.locator(
            "table.inbox tbody tr[data-id], tbody tr.conv, tbody tr a[href^='/conversations/']"
        ).count()
        >= 1
    )

    # A department's number opens exactly its conversations.
    page.goto(f"{world.url}/reports?days=7")
    row = page.locator("#by-department tbody tr").first
    count = int(row.locator("td a").first.inner_text())
    row.locator("td a").first.click()
    page.wait_for_url("**/?**")
    opened = page.locator("a[href^='/conversations/']").evaluate_all(
        "links => [...new Set(links.map(a => a.getAttribute('href').split('?')[0].split('#')[0]))]"
    )
    assert len(opened) == count

    page.goto(f"{world.url}/reports?days=7")
    totals = _download(page, page.locator("a[href^='/api/v1/reports/totals.csv']"), tmp_path)
    assert int(totals[0]["conversations"]) == total
    lines = _download(page, page.locator("a[href^='/api/v1/reports/conversations.csv']"), tmp_path)
    assert len(lines) == total
    assert {"first_response_seconds", "sla_first_response", "resolution_seconds"} <= set(lines[0])
    page.context.close()
