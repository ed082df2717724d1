"""The guidelines page without JavaScript: PR adds a banned phrase and the test box marks it in a
draft; an agent checks drafts but changes nothing; viewers are turned away."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.models import Guideline
from tests.web.test_pages import browser_login, csrf_of

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

FORM = {
    "new": "1",
    "name": "no-free",
    "kind": "banned_phrase",
    "phrases": "free forever\nرایگان برای همیشه\n",
    "max_chars": "",
    "greetings": "",
    "message": "Never promise free service",
}


def stored(container: Container, name: str) -> Guideline | None:
    with container.sessions() as session:
        return session.scalars(select(Guideline).where(Guideline.name == name)).first()


def test_pr_adds_a_banned_phrase_and_the_test_box_marks_it(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "petra@test.example")
    assert 'href="/settings/guidelines"' in app_client.get("/settings").text
    page = app_client.get("/settings/guidelines/new")
    assert page.status_code == 200
    saved = app_client.post(
        "/settings/guidelines", data={**FORM, "csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert saved.status_code == 303, saved.text
    row = stored(container, "no-free")
    assert row is not None and row.params == {"phrases": ["free forever", "رایگان برای همیشه"]}
    listing = app_client.get("/settings/guidelines")
    assert 'id="guideline-no-free"' in listing.text
    tried = app_client.post(
        "/settings/guidelines/try",
        data={
            "csrf": csrf_of(listing.text),
            "draft": "Hi! It is <b>free forever</b>.",
            "lang": "en",
            "public": "1",
        },
    )
    assert tried.status_code == 200
    assert 'data-guideline="no-free" data-severity="block"' in tried.text
    # The draft is shown escaped, the phrase marked.
    assert "<mark>free forever</mark>" in tried.text and "&lt;b&gt;" in tried.text


def test_an_agent_checks_drafts_but_changes_nothing(app_client: TestClient, container: Container) -> None:
    browser_login(app_client, "sam@test.example")
    listing = app_client.get("/settings/guidelines")
    assert listing.status_code == 200 and 'href="/settings/guidelines/new"' not in listing.text
    clean = app_client.post(
        "/settings/guidelines/try",
        data={"csrf": csrf_of(listing.text), "draft": "Hello, your order ships today.", "lang": "en"},
    )
    assert 'data-result="clean"' in clean.text
    assert app_client.get("/settings/guidelines/new").status_code == 403
    view = app_client.get("/settings/guidelines/no-guarantees")
    assert view.status_code == 200 and 'name="phrases"' not in view.text
    refused = app_client.post(
        "/settings/guidelines", data={**FORM, "csrf": csrf_of(listing.text)}, follow_redirects=False
    )
    assert refused.status_code == 403
    assert stored(container, "no-free") is None
    deleted = app_client.post(
        "/settings/guidelines/no-guarantees/delete",
        data={"csrf": csrf_of(listing.text)},
        follow_redirects=False,
    )
    assert deleted.status_code == 303 and stored(container, "no-guarantees") is not None
    app_client.cookies.clear()
    browser_login(app_client, "vic@test.example")
    assert app_client.get("/settings/guidelines").status_code == 403


def test_a_bad_form_keeps_what_was_typed(app_client: TestClient, container: Container) -> None:
    browser_login(app_client, "admin@test.example")
    page = app_client.get("/settings/guidelines/new")
    bad = app_client.post(
        "/settings/guidelines",
        data={**FORM, "kind": "max_length", "max_chars": "lots", "csrf": csrf_of(page.text)},
    )
    assert bad.status_code == 422 and "max_chars" in bad.text and "Never promise free service" in bad.text
    assert stored(container, "no-free") is None
    taken = app_client.post(
        "/settings/guidelines", data={**FORM, "name": "no-guarantees", "csrf": csrf_of(page.text)}
    )
    assert taken.status_code == 422 and "exists already" in taken.text


def test_a_guideline_for_one_region_is_saved_listed_and_tried_as_that_region(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "petra@test.example")
    page = app_client.get("/settings/guidelines/new")
    assert '<option value="north"' in page.text and '<option value="brand"' in page.text
    saved = app_client.post(
        "/settings/guidelines",
        data={**FORM, "name": "north-free", "place": "north", "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    row = stored(container, "north-free")
    assert row is not None and row.location_id is not None
    listing = app_client.get("/settings/guidelines")
    assert 'data-place="north"' in listing.text

    def tried(place: str) -> str:
        return app_client.post(
            "/settings/guidelines/try",
            data={
                "csrf": csrf_of(listing.text),
                "draft": "Hi, free forever",
                "lang": "en",
                "public": "1",
                "place": place,
            },
        ).text

    assert 'data-guideline="north-free"' in tried("north")
    assert 'data-guideline="north-free"' not in tried("south")


def test_pr_sets_tone_links_and_a_severity_on_the_form_and_tries_a_reply_on_x(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "petra@test.example")
    page = app_client.get("/settings/guidelines/new")
    assert 'name="tones" value="blame"' in page.text and 'name="severity"' in page.text
    for form in (
        {"name": "calm", "kind": "tone", "tones": ["blame", "all_caps"], "severity": "block"},
        {"name": "our-site", "kind": "allowed_links", "domains": "https://Shop.example/\n"},
        {"name": "fits", "kind": "network_length", "limits": "x: 100"},
    ):
        saved = app_client.post(
            "/settings/guidelines",
            data={"new": "1", "message": "", "csrf": csrf_of(page.text), **form},
            follow_redirects=False,
        )
        assert saved.status_code == 303, saved.text
    calm, site, fits = (stored(container, n) for n in ("calm", "our-site", "fits"))
    assert calm is not None and calm.params == {"tones": ["blame", "all_caps"]} and calm.severity == "block"
    assert site is not None and site.params == {"domains": ["shop.example"]} and site.severity is None
    assert fits is not None and fits.params == {"limits": {"x": 100}}
    edit = app_client.get("/settings/guidelines/calm")
    assert 'value="blame" checked' in edit.text and '<option value="block" selected' in edit.text
    listing = app_client.get("/settings/guidelines")
    tried = app_client.post(
        "/settings/guidelines/try",
        data={
            "csrf": csrf_of(listing.text),
            "draft": "It is your fault. See https://evil.test/x " + "a" * 80,
            "lang": "en",
            "network": "x",
            "public": "1",
        },
    )
    assert tried.status_code == 200
    for name, severity in (("calm", "block"), ("our-site", "block"), ("fits", "block")):
        assert f'data-guideline="{name}" data-severity="{severity}"' in tried.text


def test_a_slow_pattern_is_refused_with_the_reason_and_the_form_kept(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "petra@test.example")
    page = app_client.get("/settings/guidelines/new")
    refused = app_client.post(
        "/settings/guidelines",
        data={"new": "1", "name": "slow", "kind": "pattern", "pattern": "(a+)+$", "csrf": csrf_of(page.text)},
    )
    assert refused.status_code == 422
    assert "too slow" in refused.text and 'value="(a+)+$"' in refused.text
    assert stored(container, "slow") is None


def test_the_try_box_says_each_finding_in_the_readers_language(app_client: TestClient) -> None:
    browser_login(app_client, "petra@test.example")
    page = app_client.get("/settings/guidelines/new")
    app_client.post(
        "/settings/guidelines",
        data={"new": "1", "name": "calm", "kind": "tone", "tones": ["blame"], "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    listing = app_client.get("/settings/guidelines")
    app_client.post(
        "/preferences",
        data={"csrf": csrf_of(listing.text), "locale": "fa", "calendar": "gregorian", "next": "/"},
        follow_redirects=False,
    )
    listing = app_client.get("/settings/guidelines")
    assert 'dir="rtl"' in listing.text
    tried = app_client.post(
        "/settings/guidelines/try",
        data={"csrf": csrf_of(listing.text), "draft": "It is your fault.", "lang": "en", "public": "1"},
    )
    assert "مقصر دانستن مشتری: «your fault»" in tried.text
    assert "blame: " not in tried.text  # not the API's English detail
