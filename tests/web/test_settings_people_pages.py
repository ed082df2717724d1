"""The people pages without JavaScript: list, search and filters, a person's form with shift rows,
errors per row, invite and the one-time link, tokens, deactivation, 403s."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.models import ApiToken, AuditEntry, User
from tests.web.test_pages import browser_login, csrf_of

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def person(container: Container, handle: str) -> User:
    with container.sessions() as session:
        return session.scalars(select(User).where(User.handle == handle)).one()


def test_the_list_searches_filters_and_links_to_people(app_client: TestClient) -> None:
    browser_login(app_client, "admin@test.example")
    assert 'href="/settings/people"' in app_client.get("/settings").text
    listing = app_client.get("/settings/people")
    assert listing.status_code == 200 and "9 people" in listing.text
    assert 'id="person-sam"' in listing.text and "Invite a person" in listing.text
    found = app_client.get("/settings/people", params={"q": "sal"})
    assert 'id="person-sally"' in found.text and 'id="person-sam"' not in found.text
    managers = app_client.get("/settings/people", params={"role": "manager"})
    assert 'id="person-nora"' in managers.text and 'id="person-sam"' not in managers.text
    in_hr = app_client.get("/settings/people", params={"department": "hr"})
    assert 'id="person-hank"' in in_hr.text and "1 person" in in_hr.text


def test_an_admin_saves_shifts_and_a_bad_row_comes_back_with_what_was_typed(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "admin@test.example")
    sam = person(container, "sam").id
    page = app_client.get(f"/settings/people/{sam}")
    assert page.status_code == 200 and 'name="shift-0-start"' in page.text
    form = {
        "csrf": csrf_of(page.text),
        "shifts_shown": "1",
        "max_concurrent_shown": "1",
        "departments_shown": "1",
        "shift-0-days": ["mon", "tue"],
        "shift-0-start": "09:00",
        "shift-0-end": "17:00",
        "shift-1-days": ["sat"],
        "shift-1-start": "25:00",
        "shift-1-end": "18:00",
        "time_off": "2026-12-24\n2026-12-31",
        "max_concurrent": "4",
        "departments": ["service", "sales"],
    }
    bad = app_client.post(f"/settings/people/{sam}", data=form)
    assert bad.status_code == 422
    assert 'id="problem-shifts-2"' in bad.text and "25:00" in bad.text
    assert 'value="25:00"' in bad.text and "2026-12-31" in bad.text  # what was typed stays
    assert person(container, "sam").max_concurrent == 2  # nothing saved
    form["shift-1-start"] = "10:00"
    saved = app_client.post(f"/settings/people/{sam}", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    stored = person(container, "sam")
    assert stored.max_concurrent == 4
    assert stored.shifts == [
        {"days": ["mon", "tue"], "start": "09:00", "end": "17:00"},
        {"days": ["sat"], "start": "10:00", "end": "18:00"},
        {"time_off": ["2026-12-24", "2026-12-31"]},
    ]
    shown = app_client.get(f"/settings/people/{sam}")
    assert "Sam Service is saved" in shown.text and 'value="10:00"' in shown.text
    # Unticking every department says "none" because the part was shown.
    del form["departments"]
    app_client.post(f"/settings/people/{sam}", data=form, follow_redirects=False)
    listing = app_client.get("/settings/people", params={"q": "sam"})
    assert "none" in listing.text


def test_a_manager_edits_her_agent_and_gets_403_for_another_department(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "admin@test.example")
    page = app_client.get("/settings/people/new")
    invited = app_client.post(
        "/settings/people",
        data={
            "csrf": csrf_of(page.text),
            "name_shown": "1",
            "email_shown": "1",
            "handle_shown": "1",
            "departments_shown": "1",
            "role_shown": "1",
            "name": "Pia PR",
            "email": "pia@test.example",
            "role": "agent",
            "departments": ["pr"],
        },
    )
    assert invited.status_code == 201 and "/welcome/rw_" in invited.text
    app_client.cookies.clear()
    browser_login(app_client, "petra@test.example")
    pia = person(container, "pia").id
    listing = app_client.get("/settings/people")
    assert 'id="person-pia"' in listing.text and 'id="person-sam"' not in listing.text
    page = app_client.get(f"/settings/people/{pia}")
    assert 'name="shift-0-start"' in page.text and 'name="email"' not in page.text
    saved = app_client.post(
        f"/settings/people/{pia}",
        data={"csrf": csrf_of(page.text), "max_concurrent_shown": "1", "max_concurrent": "3"},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and person(container, "pia").max_concurrent == 3
    # A field she may not change, sent by hand, is refused in words.
    sneaky = app_client.post(
        f"/settings/people/{pia}",
        data={"csrf": csrf_of(page.text), "name_shown": "1", "name": "Renamed"},
    )
    assert sneaky.status_code == 403 and person(container, "pia").name == "Pia PR"
    sam = person(container, "sam").id
    assert app_client.get(f"/settings/people/{sam}").status_code == 403
    refused = app_client.post(
        f"/settings/people/{sam}",
        data={"csrf": csrf_of(page.text), "max_concurrent_shown": "1", "max_concurrent": "9"},
    )
    assert refused.status_code == 403 and person(container, "sam").max_concurrent == 2
    assert app_client.get("/settings/people/99999").status_code == 404


def test_the_welcome_link_sets_a_password_once(app_client: TestClient, container: Container) -> None:
    browser_login(app_client, "admin@test.example")
    page = app_client.get("/settings/people/new")
    invited = app_client.post(
        "/settings/people",
        data={
            "csrf": csrf_of(page.text),
            "name_shown": "1",
            "email_shown": "1",
            "departments_shown": "1",
            "name": "Wes Welcome",
            "email": "wes@test.example",
            "departments": ["service"],
        },
    )
    found = re.search(r"http://testserver(/welcome/rw_[A-Za-z0-9_-]+)", invited.text)
    assert found is not None
    link = found.group(1)
    app_client.cookies.clear()
    form = app_client.get(link)
    assert form.status_code == 200 and "Wes Welcome" in form.text
    short = app_client.post(link, data={"password": "short", "confirm": "short"})
    assert short.status_code == 422
    differ = app_client.post(link, data={"password": "a long password 1", "confirm": "a long password 2"})
    assert differ.status_code == 422 and "differ" in differ.text
    done = app_client.post(
        link, data={"password": "a long password 1", "confirm": "a long password 1"}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/login"
    again = app_client.get(link)
    assert again.status_code == 410 and "used already" in again.text
    assert app_client.get("/welcome/rw_not-a-real-one").status_code == 404
    stored = person(container, "wes")
    assert stored.password_hash is not None and stored.password_hash.startswith("scrypt$")


def test_an_agent_reads_their_own_page_and_keeps_their_tokens(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "sam@test.example")
    sam = person(container, "sam").id
    assert app_client.get("/settings/people", follow_redirects=False).headers["location"] == (
        f"/settings/people/{sam}"
    )
    page = app_client.get(f"/settings/people/{sam}")
    assert page.status_code == 200 and 'name="shift-0-start"' not in page.text and 'id="tokens"' in page.text
    assert app_client.get(f"/settings/people/{person(container, 'sia').id}").status_code == 403
    minted = app_client.post(
        f"/settings/people/{sam}/tokens", data={"csrf": csrf_of(page.text), "token_name": "laptop"}
    )
    assert minted.status_code == 201
    secret = re.search(r'data-result="new-token">(rd_[A-Za-z0-9_-]+)<', minted.text)
    assert secret is not None
    assert (
        app_client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret.group(1)}"}).status_code
        == 200
    )
    again = app_client.get(f"/settings/people/{sam}")
    assert secret.group(1) not in again.text and "laptop" in again.text  # shown once
    with container.sessions() as session:
        token = session.scalars(select(ApiToken).where(ApiToken.name == "laptop")).one()
    revoked = app_client.post(
        f"/settings/people/{sam}/tokens/{token.id}/revoke",
        data={"csrf": csrf_of(again.text)},
        follow_redirects=True,
    )
    assert "revoked" in revoked.text
    assert (
        app_client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret.group(1)}"}).status_code
        == 401
    )
    # Deactivating yourself is refused; no button is offered.
    assert "Deactivate" not in again.text


def test_deactivate_and_reactivate_with_the_audit(app_client: TestClient, container: Container) -> None:
    browser_login(app_client, "admin@test.example")
    hank = person(container, "hank").id
    page = app_client.get(f"/settings/people/{hank}")
    assert "Deactivate" in page.text and "0 open conversations" in page.text
    off = app_client.post(
        f"/settings/people/{hank}/deactivate", data={"csrf": csrf_of(page.text)}, follow_redirects=True
    )
    assert "deactivated" in off.text and not person(container, "hank").active
    ada = person(container, "ada").id
    me = app_client.post(
        f"/settings/people/{ada}/deactivate", data={"csrf": csrf_of(page.text)}, follow_redirects=True
    )
    assert "yourself" in me.text and person(container, "ada").active
    on = app_client.post(
        f"/settings/people/{hank}/activate", data={"csrf": csrf_of(page.text)}, follow_redirects=True
    )
    assert "active again" in on.text and person(container, "hank").active
    with container.sessions() as session:
        changes = session.scalars(
            select(AuditEntry).where(AuditEntry.kind == "person", AuditEntry.via == "web")
        ).all()
    assert [(c.before, c.after) for c in changes] == [
        ({"active": True}, {"active": False}),
        ({"active": False}, {"active": True}),
    ]
    audit = app_client.get("/settings/audit", params={"kind": "person"})
    assert "Hank HR" in audit.text
