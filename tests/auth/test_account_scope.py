"""A person limited to named channel accounts sees, is given and reports on those accounts only.

Sally (sales) is limited to the north shop's account: conversations of the south shop's account
stay out of every read (list, one conversation, the live push, contacts, reports and their
downloads), out of her automatic assignments and out of manual ones.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.auth.service import scope_for
from relaydesk.config.loader import load_config, load_config_text
from relaydesk.config.service import apply_config, export_config
from relaydesk.container import Container
from relaydesk.db import transaction
from relaydesk.models import ChannelAccount, Conversation, User, UserAccount
from tests.api.conftest import login
from tests.api.test_webhook_and_inbox import ingest

ORG_YAML = Path(__file__).resolve().parents[1] / "fixtures" / "org.yaml"
BUY = "How much is the gift box? I want to buy two for my office"


def _limit(container: Container, email: str, *account_keys: str) -> None:
    with transaction(container.sessions) as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        for key in account_keys:
            account_id = session.scalars(select(ChannelAccount.id).where(ChannelAccount.key == key)).one()
            session.add(UserAccount(user_id=user.id, account_id=account_id))


def _sales_pair(client: TestClient, container: Container) -> tuple[int, int]:
    north = ingest(client, container, "north-generic", "acc-n", BUY, "buyer-n")
    south = ingest(client, container, "south-generic", "acc-s", BUY, "buyer-s")
    with container.sessions() as session:
        departments = {session.get(Conversation, c).department_id for c in (north, south)}  # type: ignore[union-attr]
    assert len(departments) == 1  # both went to sales: only the account tells them apart
    return north, south


def test_reads_push_contacts_and_reports_stop_at_her_accounts(
    app_client: TestClient, container: Container
) -> None:
    _limit(container, "sally@test.example", "north-generic")
    north, south = _sales_pair(app_client, container)
    sally = login(app_client, "sally@test.example")

    listed = {
        c["id"] for c in app_client.get("/api/v1/conversations?status=all", headers=sally).json()["items"]
    }
    assert north in listed and south not in listed
    assert app_client.get(f"/api/v1/conversations/{south}", headers=sally).status_code == 404
    assert app_client.get(f"/api/v1/conversations/{north}", headers=sally).status_code == 200

    with container.sessions() as session:
        scope = scope_for(
            session, session.scalars(select(User).where(User.email == "sally@test.example")).one()
        )
    assert container.conversations.visible_ids(scope, [north, south]) == {north}  # the live push's check

    contacts = app_client.get("/api/v1/contacts?q=buyer", headers=sally)
    assert contacts.status_code == 200 and "buyer-s" not in contacts.text and "buyer-n" in contacts.text

    container.rollups.run_once()
    summary = app_client.get("/api/v1/reports/summary", headers=sally).json()
    assert summary["totals"]["conversations"] == 1
    lines = app_client.get("/api/v1/reports/conversations.csv", headers=sally).text.strip().splitlines()
    assert len(lines) == 2 and "north-generic" in lines[1]
    admin = login(app_client, "admin@test.example")
    assert app_client.get("/api/v1/reports/summary", headers=admin).json()["totals"]["conversations"] == 2


def test_she_is_not_given_nor_assigned_conversations_of_other_accounts(
    app_client: TestClient, container: Container
) -> None:
    _limit(container, "sally@test.example", "north-generic")
    north, south = _sales_pair(app_client, container)
    with container.sessions() as session:
        sally_id = session.scalars(select(User.id).where(User.email == "sally@test.example")).one()
        assignees = {c: session.get(Conversation, c).assignee_id for c in (north, south)}  # type: ignore[union-attr]
    assert assignees[north] == sally_id and assignees[south] is None  # nobody else sells in the south

    admin = login(app_client, "admin@test.example")
    refused = app_client.post(
        f"/api/v1/conversations/{south}/assign", json={"assignee_id": sally_id}, headers=admin
    )
    assert refused.status_code == 422 and "answers other accounts only" in refused.text


def test_the_limit_is_configuration_as_code(container: Container, tmp_path: Path) -> None:
    data = yaml.safe_load(ORG_YAML.read_text(encoding="utf-8"))
    for agent in data["agents"]:
        if agent["email"] == "sally@test.example":
            agent["accounts"] = ["north-generic"]
    limited = tmp_path / "org.yaml"
    limited.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    loaded = load_config(limited, allow_plain_passwords=True)
    assert loaded.config is not None, loaded.problems
    with transaction(container.sessions) as session:
        apply_config(session, loaded.config, container.box)
    with container.sessions() as session:
        exported = export_config(session, "testco")
    sally = next(a for a in exported["agents"] if a["email"] == "sally@test.example")
    assert sally["accounts"] == ["north-generic"]
    assert all("accounts" not in a for a in exported["agents"] if a["email"] != "sally@test.example")
    with transaction(container.sessions) as session:
        again = apply_config(session, loaded.config, container.box)
    assert not again.changed  # applying the same file again changes nothing

    wrong = limited.read_text(encoding="utf-8").replace("- north-generic", "- nort-generic", 1)
    checked = load_config_text(wrong, "org.yaml", allow_plain_passwords=True)
    assert checked.config is None
    assert any("nort-generic" in str(p) and "north-generic" in str(p) for p in checked.problems)


def test_an_owner_placed_at_a_brand_is_still_the_whole_organisations(container: Container) -> None:
    # The demo's owner has `location: saffron`: the destinations page took her for a region admin
    # and offered no form to add one.
    from relaydesk.auth.service import scope_for
    from relaydesk.models import Location, User

    with transaction(container.sessions) as session:
        owner = session.scalars(select(User).where(User.handle == "ada")).one()
        owner.role = "owner"
        owner.location_id = session.scalars(select(Location.id).where(Location.key == "brand")).one()
    with container.sessions() as session:
        scope = scope_for(session, session.scalars(select(User).where(User.handle == "ada")).one())
    assert scope.location_path is None and scope.location_ids is None
