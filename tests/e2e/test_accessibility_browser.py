"""Accessibility: axe-core finds no serious or critical problem on any page, in any language.

axe-core comes inside the `axe-playwright-python` wheel (installed from PyPI with the dev tools),
injected by Playwright into the page under test: nothing is fetched at run time.
"""

from __future__ import annotations

from typing import Any

import pytest

from relaydesk.web import i18n
from tests.e2e.test_inbox_browser import World, _login, browser, world

__all__ = ["browser", "world"]

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

LANGUAGES = ("en", "fa", "ar", "he", "th")
BLOCKING = ("serious", "critical")


def _problems(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    out = []
    for violation in results.response["violations"]:
        if violation.get("impact") in BLOCKING:
            targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
            out.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return out


def _pages(world: World) -> list[str]:
    return [
        "/",
        f"/conversations/{world.conversations['fa']}",
        "/reports",
        "/notifications",
        "/settings/notifications",
        f"/conversations/{world.conversations['ar']}?pane=1",  # the inbox's reading pane
    ]


@pytest.mark.parametrize("locale", LANGUAGES)
def test_every_page_passes_axe_in_every_language(browser: Any, world: World, locale: str) -> None:
    page = _login(browser, world, "admin@test.example")
    if page.evaluate("document.documentElement.lang") != locale:
        with page.expect_navigation():
            page.select_option("form.prefs select[name=locale]", locale)
    found = {}
    for path in _pages(world):
        page.goto(f"{world.url}{path}")
        problems = _problems(page)
        if problems:
            found[path] = problems
    page.context.close()
    login = browser.new_page()
    login.goto(f"{world.url}/language?set={locale}&next=/login")
    if _problems(login):
        found["/login"] = _problems(login)
    login.context.close()
    assert not found, f"{locale} ({i18n.NAMES[locale]}): {found}"
