"""The workspace in each of its five languages, in a real browser: direction, mirroring, dates.

Screenshots of every page in every language go to /tmp/relaydesk-shots/<lang>-<page>.png, for
people to look at; the assertions check what a reader would notice first: the page's direction,
the bar mirrored (brand at the reading start), the words in the reader's language, and the
choice kept in a new browser.
"""

from __future__ import annotations

from typing import Any

import pytest

from relaydesk.web import i18n
from tests.e2e.test_inbox_browser import SHOTS, World, _login, browser, world

__all__ = ["browser", "world"]  # the module's server and browser fixtures, shared by import

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

LANGUAGES = ("en", "fa", "ar", "he", "th")


def _shot(page: Any, path: str) -> None:
    """A full-page screenshot for people to look at; Chromium under load sometimes answers "Unable to
    capture screenshot" once (CI saw it on a loaded machine), so a second try, never a skipped page."""
    from playwright.sync_api import Error

    try:
        page.screenshot(path=path, full_page=True)
    except Error:
        page.wait_for_timeout(500)
        page.screenshot(path=path, full_page=True)


def _switch(page: Any, world: World, locale: str) -> None:
    if page.evaluate("document.documentElement.lang") == locale:
        return  # choosing the language already shown changes nothing, so nothing reloads
    with page.expect_navigation():
        page.select_option("form.prefs select[name=locale]", locale)  # applies on change (JS)


@pytest.mark.parametrize("locale", LANGUAGES)
def test_each_language_mirrors_the_layout_and_speaks_the_readers_words(
    browser: Any, world: World, locale: str
) -> None:
    page = _login(browser, world, "admin@test.example", width=1280, height=900)
    _switch(page, world, locale)
    rtl = locale in i18n.RIGHT_TO_LEFT
    assert page.evaluate("document.documentElement.lang") == locale
    assert page.evaluate("document.documentElement.dir") == ("rtl" if rtl else "ltr")
    words = i18n.catalogue(locale)
    assert page.locator("header.top nav a").first.inner_text() == words.gettext("Inbox")
    # The bar mirrors: the brand sits at the start of the reading direction.
    brand = page.locator("header.top .brand").bounding_box()
    assert brand is not None
    assert (brand["x"] > 640) == rtl, f"brand at x={brand['x']} in {locale}"
    page.screenshot(path=str(SHOTS / f"{locale}-inbox.png"), full_page=True)

    page.goto(f"{world.url}/conversations/{world.conversations['fa']}")
    thread = page.locator("section.thread-col").bounding_box()
    side = page.locator("aside.side").bounding_box()
    assert thread is not None and side is not None
    # The details column follows the thread in the reading direction.
    assert (side["x"] < thread["x"]) == rtl, locale
    assert page.locator("#timeline-title").inner_text() == words.gettext("Timeline")
    page.screenshot(path=str(SHOTS / f"{locale}-conversation.png"), full_page=True)

    world.container.rollups.run_once()
    page.goto(f"{world.url}/reports")
    assert page.locator("h1").inner_text() == words.gettext("How the team is doing")
    # The charts draw in every language: bars for the days, a shaded week, their captions translated.
    assert page.locator("figure.chart svg rect.bar").count() == 30
    assert page.locator("figure.heat svg rect.heat-cell").count() == 7 * 24
    assert page.locator("figure.chart figcaption").first.inner_text() == words.gettext(
        "Conversations started"
    )
    page.screenshot(path=str(SHOTS / f"{locale}-reports.png"), full_page=True)

    for path, title in (
        ("/settings/rules", "Routing rules"),
        ("/settings/rules/leads/edit", "Edit rule"),
        ("/settings/audit", "Audit log"),
        ("/alerts", "Crisis alerts"),
    ):
        page.goto(f"{world.url}{path}")
        assert page.locator("h1").inner_text().startswith(words.gettext(title)), (locale, path)
        _shot(page, str(SHOTS / f"{locale}-{path.strip('/').replace('/', '-')}.png"))
    page.context.close()


def test_persian_dates_and_the_choice_survive_a_new_browser(browser: Any, world: World) -> None:
    page = _login(browser, world, "admin@test.example")
    _switch(page, world, "fa")
    page.goto(f"{world.url}/reports")
    generated = page.locator("p.muted time").first.inner_text()
    assert any("۰" <= ch <= "۹" for ch in generated), generated  # Persian digits by default
    with page.expect_navigation():
        page.select_option("form.prefs select[name=calendar]", "gregorian")
    assert any("0" <= ch <= "9" for ch in page.locator("p.muted time").first.inner_text())
    page.context.close()
    # A new browser (no cookie): the person's stored choice, not the browser's English.
    again = _login(browser, world, "admin@test.example")
    assert again.evaluate("document.documentElement.dir") == "rtl"
    with again.expect_navigation():
        again.select_option("form.prefs select[name=locale]", "en")
    again.context.close()


def test_the_login_page_offers_every_language_before_signing_in(browser: Any, world: World) -> None:
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    page.goto(f"{world.url}/login")
    with page.expect_navigation():
        page.click("nav.prefs a[lang=he]")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.locator("h1").inner_text() == i18n.catalogue("he").gettext("Log in")
    page.screenshot(path=str(SHOTS / "he-login.png"))
    page.context.close()
