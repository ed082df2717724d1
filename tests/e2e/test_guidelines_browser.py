"""The guideline form in a real browser: only the chosen kind's fields show, switching the kind
shows its own, and a tone guideline saved there marks a draft in the test box in Persian."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_inbox_browser import _build_container, browser
from tests.e2e.test_settings_browser import Server, _login, data_dir

__all__ = ["browser", "data_dir"]

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


def test_the_form_shows_the_chosen_kinds_fields_and_the_findings_speak_persian(
    browser: Any, data_dir: Path
) -> None:
    server = Server(_build_container(data_dir))
    problems: list[str] = []
    try:
        petra = _login(browser, server.url, "petra@test.example")
        petra.on("pageerror", lambda error: problems.append(str(error)))
        petra.goto(f"{server.url}/settings/guidelines/new")
        expect(petra.locator("textarea[name=phrases]")).to_be_visible()  # banned phrases, the default kind
        expect(petra.locator("input[name=pattern]")).to_be_hidden()
        expect(petra.locator("[data-kind-hint]")).to_be_hidden()
        petra.select_option("select[name=kind]", "tone")
        expect(petra.locator("textarea[name=phrases]")).to_be_hidden()
        expect(petra.locator("input[name=tones][value=blame]")).to_be_visible()
        petra.fill("input[name=name]", "calm")
        petra.check("input[name=tones][value=blame]")
        petra.click("form.guideline-form button[type=submit]")
        expect(petra.locator(".flash")).to_contain_text("calm")
        petra.select_option("form.prefs select[name=locale]", "fa")  # applies on change
        expect(petra.locator("html")).to_have_attribute("dir", "rtl")
        petra.goto(f"{server.url}/settings/guidelines")
        petra.fill("textarea[name=draft]", "It is your fault.")
        petra.click("section#try button[type=submit]")
        expect(petra.locator("li[data-guideline=calm]")).to_contain_text("مقصر دانستن مشتری")
        assert problems == []
    finally:
        server.stop()
