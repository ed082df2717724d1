"""The saved replies page without JavaScript: a manager adds one for her department, an agent
reads, an admin sets a macro's actions on the form (with the file's rules)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.db import transaction
from relaydesk.models import CannedResponse
from tests.voice_people import add_person
from tests.web.test_pages import browser_login, csrf_of

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

FORM = {
    "new": "1",
    "key": "delay",
    "title": "Delivery delay",
    "text_en": "Hi {customer.first_name}, your parcel is late.",
    "text_ar": "مرحبا {customer.first_name}، طردك متأخر.",
    "text_fa": "",
    "departments": "service",
}


def stored(container: Container, key: str) -> CannedResponse | None:
    with container.sessions() as session:
        return session.scalars(select(CannedResponse).where(CannedResponse.key == key)).first()


def test_a_manager_adds_a_reply_for_her_department(app_client: TestClient, container: Container) -> None:
    add_person(container.sessions, "mo", "manager", ["service"])
    browser_login(app_client, "mo@test.example")
    page = app_client.get("/settings/canned/new")
    assert page.status_code == 200
    for_everyone = app_client.post(
        "/settings/canned",
        data={**FORM, "departments": "", "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert for_everyone.status_code == 403 and "Delivery delay" in for_everyone.text
    assert stored(container, "delay") is None
    saved = app_client.post(
        "/settings/canned", data={**FORM, "csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert saved.status_code == 303, saved.text
    row = stored(container, "delay")
    assert row is not None and row.department_keys == ["service"]
    assert row.texts == {"en": FORM["text_en"], "ar": FORM["text_ar"]}
    bad = app_client.post(
        "/settings/canned",
        data={**FORM, "new": "0", "text_en": "Hi {customer.age}", "csrf": csrf_of(page.text)},
    )
    assert bad.status_code == 422 and "customer.age" in bad.text


def test_an_agent_reads_and_an_admin_sets_a_macros_actions(
    app_client: TestClient, container: Container
) -> None:
    with transaction(container.sessions) as session:
        refund = session.scalars(select(CannedResponse).where(CannedResponse.key == "refund")).one()
        refund.actions = {"status": "resolved", "tags": ["refunded"]}
    browser_login(app_client, "sam@test.example")
    listing = app_client.get("/settings/canned")
    assert listing.status_code == 200 and 'id="canned-refund"' in listing.text
    assert "refunded" in listing.text and 'href="/settings/canned/new"' not in listing.text
    view = app_client.get("/settings/canned/refund")
    assert view.status_code == 200 and 'name="title"' not in view.text
    refused = app_client.post(
        "/settings/canned",
        data={**FORM, "new": "0", "key": "refund", "departments": "", "csrf": csrf_of(listing.text)},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    app_client.cookies.clear()
    browser_login(app_client, "admin@test.example")
    page = app_client.get("/settings/canned/refund")
    assert 'name="title"' in page.text
    # the stored actions are on the form, so saving it unchanged keeps them
    assert '<option value="resolved" selected>' in page.text and 'value="refunded"' in page.text
    edit = {**FORM, "new": "0", "key": "refund", "departments": "", "csrf": csrf_of(page.text)}
    macro = {"status": "resolved", "priority": "high", "tags": "refunded, vip،  vip", "transfer": ""}
    saved = app_client.post("/settings/canned", data={**edit, **macro}, follow_redirects=False)
    assert saved.status_code == 303
    row = stored(container, "refund")
    assert row is not None and row.title == "Delivery delay"
    assert row.actions == {"status": "resolved", "priority": "high", "tags": ["refunded", "vip"]}
    both = app_client.post("/settings/canned", data={**edit, **macro, "transfer": "sales"})
    assert both.status_code == 422 and "not both" in both.text
    unknown = app_client.post("/settings/canned", data={**edit, "status": "", "transfer": "nowhere"})
    assert unknown.status_code == 422 and "nowhere" in unknown.text
    cleared = app_client.post(
        "/settings/canned", data={**edit, "status": "", "priority": "", "tags": "", "transfer": "sales"}
    )
    assert cleared.status_code == 200  # followed to the saved reply's page
    row = stored(container, "refund")
    assert row is not None and row.actions == {"transfer": "sales"}
    app_client.cookies.clear()
    browser_login(app_client, "vic@test.example")
    assert app_client.get("/settings/canned").status_code == 403
