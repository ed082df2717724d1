"""The listening queries page without JavaScript: list with counts, new query, edit keywords one per
line, pause/resume, the try box; region managers stay in their part; agents are refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.models import AuditEntry, ListeningQuery
from tests.web.test_pages import browser_login, csrf_of

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

PAGE = "/settings/listening"


def query(container: Container, name: str) -> ListeningQuery | None:
    with container.sessions() as session:
        return session.scalars(select(ListeningQuery).where(ListeningQuery.name == name)).first()


def form(csrf: str, **values: object) -> dict[str, object]:
    data: dict[str, object] = {
        "csrf": csrf,
        "new": "1",
        "name": "Saffron brand",
        "keywords": "saffron\nزعفران\n\n",
        "exclude": "recipe",
        "networks": ["x"],
        "languages": ["en", "fa"],
        "other_languages": "",
        "location": "brand",
        "active": "1",
    }
    data.update(values)
    return data


def test_an_admin_makes_edits_tries_and_pauses_a_query(app_client: TestClient, container: Container) -> None:
    browser_login(app_client, "admin@test.example")
    listing = app_client.get(PAGE)
    assert listing.status_code == 200 and "No listening queries yet." in listing.text
    blank = app_client.get(f"{PAGE}/new")
    assert blank.status_code == 200 and 'name="keywords"' in blank.text
    saved = app_client.post(PAGE, data=form(csrf_of(blank.text)), follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"{PAGE}/Saffron%20brand"
    stored = query(container, "Saffron brand")
    assert stored is not None
    assert (stored.keywords, stored.exclude, stored.networks, stored.languages) == (
        ["saffron", "زعفران"],
        ["recipe"],
        ["x"],
        ["en", "fa"],
    )

    page = app_client.get(f"{PAGE}/Saffron%20brand")
    assert page.status_code == 200 and "0 posts found so far." in page.text
    csrf = csrf_of(page.text)
    edited = app_client.post(
        PAGE,
        data=form(csrf, new="0", keywords="saffron\nlatte", languages=[], other_languages="de, tr"),
        follow_redirects=False,
    )
    assert edited.status_code == 303, edited.text
    stored = query(container, "Saffron brand")
    assert stored is not None and stored.keywords == ["saffron", "latte"] and stored.languages == ["de", "tr"]

    tried = app_client.post(
        f"{PAGE}/Saffron%20brand/try",
        data={"csrf": csrf, "text": "A LATTE with saffron", "network": "x", "lang": ""},
    )
    assert tried.status_code == 200 and 'data-result="no-match"' in tried.text  # English is not de/tr
    assert "A LATTE with saffron" in tried.text
    tried = app_client.post(
        f"{PAGE}/Saffron%20brand/try",
        data={"csrf": csrf, "text": "saffron recipe", "network": "x", "lang": "en"},
    )
    assert 'data-result="no-match"' in tried.text and "Left out because it contains:" in tried.text
    app_client.post(PAGE, data=form(csrf, new="0", languages=[]), follow_redirects=False)
    tried = app_client.post(
        f"{PAGE}/Saffron%20brand/try",
        data={"csrf": csrf, "text": "I love Saffron!", "network": "x", "lang": ""},
    )
    assert 'data-result="match"' in tried.text and "It matches" in tried.text

    paused = app_client.post(f"{PAGE}/Saffron%20brand/pause", data={"csrf": csrf}, follow_redirects=True)
    assert "is paused" in paused.text and 'data-status="paused"' in paused.text
    stored = query(container, "Saffron brand")
    assert stored is not None and not stored.active
    resumed = app_client.post(f"{PAGE}/Saffron%20brand/resume", data={"csrf": csrf}, follow_redirects=True)
    assert "listening again" in resumed.text
    listing = app_client.get(PAGE, params={"q": "saffron"})
    assert "Saffron brand" in listing.text and "0 posts" in listing.text and "Test Brand" in listing.text
    with container.sessions() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.kind == "listening_query")).all()
    assert [e.action for e in entries][:2] == ["created", "updated"] and all(e.via == "web" for e in entries)
    assert entries[1].after is not None and entries[1].after["keywords"] == ["saffron", "latte"]


def test_mistakes_are_said_and_keep_what_was_typed(app_client: TestClient, container: Container) -> None:
    browser_login(app_client, "admin@test.example")
    csrf = csrf_of(app_client.get(f"{PAGE}/new").text)
    empty = app_client.post(PAGE, data=form(csrf, keywords="  \n", exclude="keep me typed"))
    assert empty.status_code == 422 and "at least one keyword" in empty.text and "keep me typed" in empty.text
    bad_lang = app_client.post(PAGE, data=form(csrf, other_languages="??"))
    assert bad_lang.status_code == 422 and "not a language code" in bad_lang.text
    nowhere = app_client.post(PAGE, data=form(csrf, location="atlantis"))
    assert nowhere.status_code == 422 and "atlantis" in nowhere.text and "زعفران" in nowhere.text
    assert app_client.post(PAGE, data=form(csrf, name="new")).status_code == 422
    assert query(container, "Saffron brand") is None
    assert app_client.get(f"{PAGE}/nope").status_code == 404
    tried = app_client.post(f"{PAGE}/nope/try", data={"csrf": csrf, "text": "x"}, follow_redirects=False)
    assert tried.status_code == 303


def test_a_region_manager_stays_in_her_part_and_agents_are_refused(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "admin@test.example")
    csrf = csrf_of(app_client.get(f"{PAGE}/new").text)
    app_client.post(PAGE, data=form(csrf, name="south", location="south-shop"))
    app_client.post(PAGE, data=form(csrf, name="north", location="north-shop"))
    app_client.cookies.clear()
    browser_login(app_client, "nora@test.example")  # manager of the north region
    listing = app_client.get(PAGE)
    assert (
        listing.status_code == 200
        and 'data-name="north"' in listing.text
        and 'data-name="south"' not in listing.text
    )
    assert app_client.get(f"{PAGE}/south").status_code == 404
    csrf = csrf_of(listing.text)
    taken = app_client.post(
        PAGE, data=form(csrf, new="0", name="south", location="north-shop"), follow_redirects=False
    )
    assert taken.status_code == 303  # a name she cannot see: "no such query", never replaced
    south = query(container, "south")
    assert south is not None and south.keywords == ["saffron", "زعفران"]
    outside = app_client.post(PAGE, data=form(csrf, name="mine", location="south-shop"))
    assert outside.status_code == 403 and query(container, "mine") is None
    inside = app_client.post(
        PAGE, data=form(csrf, name="mine", location="north-shop"), follow_redirects=False
    )
    assert inside.status_code == 303 and query(container, "mine") is not None
    paused = app_client.post(f"{PAGE}/south/pause", data={"csrf": csrf}, follow_redirects=False)
    assert paused.status_code == 303 and south.active
    south = query(container, "south")
    assert south is not None and south.active
    app_client.cookies.clear()
    browser_login(app_client, "sam@test.example")
    assert app_client.get(PAGE).status_code == 403
    assert app_client.get(f"{PAGE}/north").status_code == 403
