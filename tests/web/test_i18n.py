"""The pages in English, Persian, Arabic, Hebrew and Thai: choosing, catalogues, calendars, direction."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from relaydesk.container import Container
from relaydesk.models import User
from relaydesk.web import i18n
from relaydesk.web.calendars import date_text, native_digits
from relaydesk.web.formatting import format_time
from relaydesk.web.labels import LABELS, label
from tests.web.test_pages import browser_login, csrf_of, ingest

ROOT = Path(__file__).resolve().parents[2]
LOCALE_DIR = ROOT / "src" / "relaydesk" / "web" / "locale"
TRANSLATED = ("fa", "ar", "he", "th")


def _catalog(locale: str):  # type: ignore[no-untyped-def]
    with (LOCALE_DIR / f"{locale}.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def _translation(locale: str, message: str) -> str:
    return i18n.catalogue(locale).gettext(message)


# -- choosing the language ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fa-IR,fa;q=0.9,en-US;q=0.8,en;q=0.7", "fa"),
        ("en-GB;q=0.5, he;q=0.9", "he"),
        ("de-DE,de;q=0.9,th;q=0.3", "th"),
        ("de-DE,fr;q=0.9", None),
        ("ar;q=0, en;q=0.1", "en"),
        ("ar;q=abc, th", "th"),
        ("", None),
    ],
)
def test_accept_language_picks_the_best_language_we_have(header: str, expected: str | None) -> None:
    assert i18n.from_accept_language(header) == expected


def test_a_stored_choice_beats_the_browser_cookie_and_header() -> None:
    assert i18n.choose("he", "fa", "ar") == "he"
    assert i18n.choose(None, "fa", "ar") == "fa"
    assert i18n.choose(None, "xx", "ar-AE") == "ar"
    assert i18n.choose("zz", None, None) == "en"
    assert i18n.Reading("fa").direction == "rtl" and i18n.Reading("th").direction == "ltr"


# -- catalogues ---------------------------------------------------------------------------------


def test_the_template_holds_every_string_the_pages_show(tmp_path: Path) -> None:
    """A string added to a page but not extracted would stay English in every language."""
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [
            *(sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg"),
            *("--no-location", "--omit-header", "--sort-output", "-o", str(fresh), "."),
        ],
        cwd=ROOT,
        check=True,
    )
    with fresh.open("rb") as handle:
        extracted = {m.id for m in read_po(handle) if m.id}
    with (LOCALE_DIR / "messages.pot").open("rb") as handle:
        committed = {m.id for m in read_po(handle) if m.id}
    assert extracted == committed, "run `make messages` and translate what it adds"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_string_is_translated_with_its_placeholders(locale: str) -> None:
    catalog = _catalog(locale)
    with (LOCALE_DIR / "messages.pot").open("rb") as handle:
        wanted = {m.id for m in read_po(handle) if m.id}
    present = {m.id for m in catalog if m.id}
    assert wanted <= present, f"{locale}.po lacks {sorted(map(str, wanted - present))[:5]}"
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{locale}: {message.id!r} is not translated"
        assert not message.fuzzy, f"{locale}: {message.id!r} is fuzzy (unreviewed)"
        assert not list(message.check(catalog)), f"{locale}: {message.id!r}: {list(message.check(catalog))}"
        # Same placeholders by name: a renamed one would raise KeyError on the page.
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        names = set(re.findall(r"%\((\w+)\)", ids[0]))
        for text in strings:
            assert set(re.findall(r"%\((\w+)\)", text)) <= names | {"num"}, (locale, message.id, text)


def test_every_label_has_its_translations() -> None:
    for locale in TRANSLATED:
        i18n.use(i18n.Reading(locale))
        for key, english in LABELS.items():
            assert label(key) == _translation(locale, english)
            # Acronyms such as "SLA" are what professionals write in every one of these languages.
            assert label(key) != english or english.isupper(), (locale, key)
    i18n.use(i18n.Reading())
    assert label("order_issue") == "order issue" and label("my_own_intent") == "my own intent"


# -- dates and digits ------------------------------------------------------------------------------


def test_persian_readers_get_the_solar_hijri_calendar_and_persian_digits() -> None:
    moment = datetime(2026, 12, 6, 14, 5, tzinfo=UTC)
    assert date_text(moment, "fa", "local", with_year=True) == "۱۵ آذر ۱۴۰۵"
    assert date_text(datetime(2026, 3, 21), "fa", "local", with_year=True) == "۱ فروردین ۱۴۰۵"
    # The Gregorian option: Gregorian months in Persian, Latin digits.
    gregorian = date_text(moment, "fa", "gregorian", with_year=True)
    assert gregorian.startswith("6 ") and gregorian.endswith(" 2026")


def test_thai_readers_get_the_buddhist_era_and_arabic_readers_arabic_indic_digits() -> None:
    moment = datetime(2026, 12, 6, 14, 5, tzinfo=UTC)
    assert date_text(moment, "th", "local", with_year=True).endswith(" 2569")
    assert date_text(moment, "th", "gregorian", with_year=True).endswith(" 2026")
    assert native_digits("12:05", "ar", "local") == "١٢:٠٥"
    assert native_digits("12:05", "ar", "gregorian") == "12:05"
    assert native_digits("12:05", "he", "local") == "12:05"


def test_times_keep_their_zone_and_year_rules_in_every_calendar() -> None:
    tehran = ZoneInfo("Asia/Tehran")
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    assert format_time(datetime(2026, 12, 6, 10, 30, tzinfo=UTC), tehran, now, locale="fa") == "۱۴:۰۰"
    # 20 March 2026 is still 1404 in Tehran: the year shows, though the Gregorian year is the same.
    last_year = format_time(datetime(2026, 3, 20, 8, 0, tzinfo=UTC), tehran, now, locale="fa")
    assert last_year == "۲۹ اسفند ۱۴۰۴ ۱۱:۳۰"
    english = format_time(datetime(2026, 3, 20, 8, 0, tzinfo=UTC), tehran, now)
    assert english == "20 Mar 11:30"


# -- the pages --------------------------------------------------------------------------------------

pytestmark_pages = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def _visible_text(page: str) -> str:
    """The page's words, without what the services wrote in English into stored records.

    The timeline speaks the reader's language from each entry's facts; an administrator also
    sees the stored English reason under it, and the triage explanations are still English.
    """
    body = page.split("<body", 1)[1]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r'<small class="reason-raw.*?</small>', " ", body, flags=re.S)
    body = re.sub(r'<details class="why".*?</details>', " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


@pytestmark_pages
@pytest.mark.parametrize("locale", TRANSLATED)
def test_the_browser_language_chooses_the_login_page_and_its_direction(
    app_client: TestClient, locale: str
) -> None:
    page = app_client.get("/login", headers={"Accept-Language": f"{locale};q=0.9,en;q=0.5"}).text
    direction = "rtl" if locale in ("fa", "ar", "he") else "ltr"
    assert f'<html lang="{locale}" dir="{direction}">' in page
    assert _translation(locale, "Log in") in page and "Password" not in _visible_text(page)


@pytestmark_pages
@pytest.mark.parametrize("locale", TRANSLATED)
def test_no_english_is_left_on_the_pages_a_signed_in_agent_reads(
    app_client: TestClient, container: Container, locale: str
) -> None:
    conversation = ingest(container, f"i18n-{locale}", "My order arrived broken", "Pat")
    assert browser_login(app_client, "admin@test.example").status_code == 303
    english = {
        str(m.id)
        for m in _catalog(locale)
        if isinstance(m.id, str) and len(m.id.split()) >= 2 and "%" not in m.id
    }
    # One-word labels are checked where they stand alone: options, buttons, column heads, badges.
    words = {
        str(m.id)
        for m in _catalog(locale)
        if isinstance(m.id, str) and "%" not in m.id and _translation(locale, m.id) != m.id
    }
    for path in ("/", f"/conversations/{conversation}", "/reports"):
        page = app_client.get(path, headers={"Accept-Language": locale}).text
        text = _visible_text(page)
        left = sorted(s for s in english if s in text and s not in "My order arrived broken")
        assert not left, f"{path} in {locale} still shows {left[:5]}"
        controls = re.findall(r"<(option|button|th|summary|h1|h2)\b[^>]*>([^<]+)<", page)
        alone = sorted({html.unescape(t).strip() for _tag, t in controls} & words)
        assert not alone, f"{path} in {locale} still shows {alone[:5]}"
        badges = re.findall(r'<span class="(?:status|prio|pill|sla)[^"]*"[^>]*>([^<]+)<', page)
        assert not {b.strip() for b in badges} & words, f"{path} in {locale}: {badges}"


@pytestmark_pages
def test_the_choice_is_stored_for_the_person_and_survives_a_new_browser(
    app_client: TestClient, container: Container
) -> None:
    assert browser_login(app_client, "admin@test.example").status_code == 303
    inbox = app_client.get("/").text
    saved = app_client.post(
        "/preferences",
        data={"csrf": csrf_of(inbox), "locale": "fa", "calendar": "gregorian", "next": "/reports"},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/reports"
    assert _translation("fa", "How the team is doing") in app_client.get("/reports").text
    with container.sessions() as session:
        user = session.query(User).filter_by(email="admin@test.example").one()
        assert (user.ui_locale, user.calendar) == ("fa", "gregorian")
    # Another browser, in English, without the cookie: the stored choice wins over its header.
    app_client.cookies.clear()
    assert browser_login(app_client, "admin@test.example").status_code == 303
    page = app_client.get("/", headers={"Accept-Language": "en"}).text
    assert '<html lang="fa" dir="rtl">' in page


@pytestmark_pages
def test_a_bad_choice_or_a_stale_form_is_a_message_not_an_error(app_client: TestClient) -> None:
    assert browser_login(app_client, "admin@test.example").status_code == 303
    token = csrf_of(app_client.get("/").text)
    bad = app_client.post("/preferences", data={"csrf": token, "locale": "xx", "next": "/"})
    assert bad.status_code == 200 and "Choose one of the languages in the list." in bad.text
    stale = app_client.post("/preferences", data={"csrf": "0" * 64, "locale": "fa", "next": "/"})
    assert stale.status_code == 200 and "This form expired" in stale.text
    # The login page's links only set this browser's cookie, and only to a language we have.
    switched = app_client.get(
        "/language", params={"set": "th", "next": "//evil.example"}, follow_redirects=False
    )
    assert switched.headers["location"] == "/" and switched.cookies.get(i18n.COOKIE) == "th"


@pytestmark_pages
def test_the_timeline_tells_what_happened_in_the_readers_language(
    app_client: TestClient, container: Container
) -> None:
    conversation = ingest(container, "timeline-fa", "Where is my order? It is late", "Pat")
    assert browser_login(app_client, "sam@test.example").status_code == 303
    page = app_client.get(f"/conversations/{conversation}", headers={"Accept-Language": "fa"}).text
    timeline = page.split('class="timeline"', 1)[1].split("</ol>", 1)[0]
    routed = _translation("fa", "Routed to %(department)s").split("%(department)s")[0]
    assert routed.strip() and routed.strip() in html.unescape(timeline)
    # Every entry has its sentence: no stored English reason stands in for one.
    assert 'class="reason"' not in timeline
    # The stored reason is for administrators reading the audit trail, not for agents.
    assert "reason-raw" not in timeline
    app_client.cookies.clear()
    assert browser_login(app_client, "admin@test.example").status_code == 303
    page = app_client.get(f"/conversations/{conversation}", headers={"Accept-Language": "fa"}).text
    assert 'class="reason-raw' in page.split('class="timeline"', 1)[1]


@pytestmark_pages
def test_a_refused_change_is_said_in_the_readers_language(
    app_client: TestClient, container: Container
) -> None:
    conversation = ingest(container, "refused-fa", "Where is my order?", "Pat")
    assert browser_login(app_client, "admin@test.example").status_code == 303
    page = app_client.get(f"/conversations/{conversation}", headers={"Accept-Language": "fa"}).text
    token = csrf_of(page)
    done = app_client.post(f"/conversations/{conversation}/status", data={"csrf": token, "action": "resolve"})
    assert done.status_code == 200
    again = app_client.post(
        f"/conversations/{conversation}/status",
        data={"csrf": token, "action": "resolve"},
        headers={"Accept-Language": "fa"},
    )
    assert again.status_code == 409
    said = _translation(
        "fa", "This conversation is %(status)s now, so that change does not apply: see what changed."
    )
    resolved = _translation("fa", "resolved")
    assert said.replace("%(status)s", resolved) in html.unescape(again.text)
    assert "cannot resolve" not in again.text  # the API's English detail stays out of the page
