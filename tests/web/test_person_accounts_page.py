"""A person's page limits them to named channel accounts; who may, and what follows from it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.db import transaction
from relaydesk.models import AuditEntry, ChannelAccount, Location, User, UserAccount
from tests.web.test_pages import browser_login, csrf_of

pytestmark = pytest.mark.parametrize(
    "engine", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


def _ids(container: Container, handle: str) -> tuple[int, set[str]]:
    with container.sessions() as session:
        user = session.scalars(select(User).where(User.handle == handle)).one()
        keys = set(
            session.scalars(
                select(ChannelAccount.key)
                .join(UserAccount, UserAccount.account_id == ChannelAccount.id)
                .where(UserAccount.user_id == user.id)
            )
        )
        return user.id, keys


def test_an_admin_limits_an_agent_to_an_account_and_lifts_it_again(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "admin@test.example")
    sally, _ = _ids(container, "sally")
    page = app_client.get(f"/settings/people/{sally}")
    assert 'id="accounts"' in page.text and 'list="account-choices"' in page.text
    wrong = app_client.post(
        f"/settings/people/{sally}/accounts", data={"csrf": csrf_of(page.text), "add": "nort-generic"}
    )
    assert wrong.status_code == 422 and "nort-generic" in wrong.text and _ids(container, "sally")[1] == set()
    saved = app_client.post(
        f"/settings/people/{sally}/accounts",
        data={"csrf": csrf_of(page.text), "add": "north-generic"},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and _ids(container, "sally")[1] == {"north-generic"}
    shown = app_client.get(f"/settings/people/{sally}").text
    assert 'name="keep" value="north-generic" checked' in shown
    with container.sessions() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.kind == "account_access")).all()
    assert [(e.action, e.key, e.via) for e in entries] == [("created", "sally → north-generic", "web")]
    lifted = app_client.post(
        f"/settings/people/{sally}/accounts", data={"csrf": csrf_of(shown)}, follow_redirects=False
    )
    assert lifted.status_code == 303 and _ids(container, "sally")[1] == set()


def test_a_region_manager_hands_out_only_her_places_accounts_and_agents_cannot(
    app_client: TestClient, container: Container
) -> None:
    with transaction(container.sessions) as session:  # sam works at the north shop: nora's team
        north = session.scalars(select(Location.id).where(Location.key == "north-shop")).one()
        session.scalars(select(User).where(User.handle == "sam")).one().location_id = north
    browser_login(app_client, "nora@test.example")  # service + sales, the north locations
    sam, _ = _ids(container, "sam")
    page = app_client.get(f"/settings/people/{sam}")
    assert page.status_code == 200 and f'action="/settings/people/{sam}/accounts"' in page.text
    assert 'value="north-generic"' in page.text and 'value="south-generic"' not in page.text  # her choices
    outside = app_client.post(
        f"/settings/people/{sam}/accounts", data={"csrf": csrf_of(page.text), "add": "south-generic"}
    )
    assert "outside your part" in outside.text and _ids(container, "sam")[1] == set()
    inside = app_client.post(
        f"/settings/people/{sam}/accounts",
        data={"csrf": csrf_of(page.text), "add": "north-generic"},
        follow_redirects=False,
    )
    assert inside.status_code == 303 and _ids(container, "sam")[1] == {"north-generic"}

    app_client.cookies.clear()
    browser_login(app_client, "sam@test.example")
    own = app_client.get(f"/settings/people/{sam}")
    assert f'action="/settings/people/{sam}/accounts"' not in own.text and "north-generic" in own.text
    refused = app_client.post(f"/settings/people/{sam}/accounts", data={"csrf": csrf_of(own.text)})
    assert "Not allowed" in refused.text and _ids(container, "sam")[1] == {"north-generic"}
