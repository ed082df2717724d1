"""Channel accounts through the service: who may do what, validation as `config apply` does it,
write-only credentials, the audit, and the status (last event, last failed reply). SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.auth.scopes import Scope
from relaydesk.auth.service import scope_for
from relaydesk.channels.account_service import account_service
from relaydesk.channels.base import OutboundRequest, SendResult
from relaydesk.channels.outbox import OutboxWorker
from relaydesk.channels.schemas import AccountIn, AccountOut, AccountPatch
from relaydesk.config.service import export_config
from relaydesk.container import Container
from relaydesk.core.errors import Conflict, Forbidden, NotFound, Refused
from relaydesk.db import transaction
from relaydesk.models import AuditEntry, ChannelAccount, Location, Organization, User
from tests.api.conftest import login
from tests.api.test_webhook_and_inbox import account, post_signed

BASE = "https://care.example"
TOKEN, SECRET = "123456:BOT-token-value", "tg-webhook-secret-value"


def scope_of(container: Container, email: str) -> Scope:
    with container.sessions() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        return scope_for(session, user)


def telegram(key: str = "north-bot", **extra: Any) -> AccountIn:
    values: dict[str, Any] = {
        "key": key,
        "network": "telegram",
        "handle": "northbot",
        "external_id": "7000000001",
        "name": "North bot",
        "location": "north-shop",
        "credentials": {"bot_token": TOKEN, "webhook_secret": SECRET},
        **extra,
    }
    return AccountIn(**values)


def connect(container: Container, scope: Scope, body: AccountIn, via: str = "web") -> AccountOut:
    with transaction(container.sessions) as session:
        return account_service.connect(session, scope, container.box, BASE, body, via=via)


def update(container: Container, scope: Scope, key: str, body: AccountPatch) -> AccountOut:
    with transaction(container.sessions) as session:
        return account_service.update(session, scope, container.box, BASE, key, body, via="web")


def listed(container: Container, scope: Scope, search: str = "") -> list[AccountOut]:
    with container.sessions() as session:
        return account_service.accounts(session, scope, container.box, BASE, search)


def stored(container: Container, key: str) -> tuple[ChannelAccount, dict[str, Any]]:
    with container.sessions() as session:
        row = session.scalars(select(ChannelAccount).where(ChannelAccount.key == key)).one()
        return row, container.box.open(row.credentials_encrypted) if row.credentials_encrypted else {}


def audit_of(container: Container, key: str) -> list[AuditEntry]:
    with container.sessions() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.kind == "account", AuditEntry.key.in_([key]))
                .order_by(AuditEntry.id)
            )
        )  # fmt: skip


# -- who may do what ---------------------------------------------------------------------------

ACTIONS = ("list", "get", "check", "connect", "edit", "switch")
MATRIX = {
    "admin@test.example": set(ACTIONS),
    "nora@test.example": {"list", "get", "check"},  # a manager
    "sam@test.example": set(),  # an agent
    "vic@test.example": set(),  # a viewer
}


def _attempt(container: Container, scope: Scope, action: str, n: int) -> None:
    with transaction(container.sessions) as session:
        box = container.box
        if action == "list":
            account_service.accounts(session, scope, box, BASE)
        elif action == "get":
            account_service.get(session, scope, box, BASE, "north-generic")
        elif action == "check":
            account_service.check(session, scope, box, BASE, "north-generic")
        elif action == "connect":
            body = telegram(f"bot-{n}", external_id=f"70000000{n}")
            account_service.connect(session, scope, box, BASE, body)
        elif action == "edit":
            account_service.update(
                session, scope, box, BASE, "north-generic", AccountPatch(name=f"Reviews {n}")
            )
        else:
            account_service.update(session, scope, box, BASE, "north-generic", AccountPatch(active=True))


@pytest.mark.parametrize("email", sorted(MATRIX))
def test_the_permission_matrix(container: Container, email: str) -> None:
    scope = scope_of(container, email)
    for n, action in enumerate(ACTIONS):
        if action in MATRIX[email]:
            _attempt(container, scope, action, n)
        else:
            with pytest.raises(Forbidden):
                _attempt(container, scope, action, n)


def test_a_manager_sees_the_accounts_of_her_region_only(container: Container) -> None:
    nora = scope_of(container, "nora@test.example")  # limited to the north region
    assert [a.key for a in listed(container, nora)] == ["north-generic", "north-webchat"]
    with container.sessions() as session, pytest.raises(NotFound):
        account_service.get(session, nora, container.box, BASE, "south-generic")
    admin = scope_of(container, "admin@test.example")
    assert [a.key for a in listed(container, admin, "SOUTH")] == ["south-generic"]
    assert [a.key for a in listed(container, admin, "north shop")] == ["north-generic", "north-webchat"]
    assert listed(container, admin, "100%_") == []  # LIKE wildcards are searched as written


# -- connecting and validation --------------------------------------------------------------------


def test_an_account_is_validated_as_config_apply_does(container: Container) -> None:
    admin = scope_of(container, "admin@test.example")
    with pytest.raises(Refused, match="not a valid key"):
        connect(container, admin, telegram("North Bot"))
    with pytest.raises(Refused, match="network"):
        connect(container, admin, telegram(network="myspace"))
    with pytest.raises(Refused, match="no location 'nowhere'"):
        connect(container, admin, telegram(location="nowhere"))
    with pytest.raises(Refused, match="credential name"):
        connect(container, admin, telegram(credentials={"Bot Token": "x"}))
    with pytest.raises(Conflict, match="exists already"):
        connect(container, admin, telegram("north-generic"))
    # The generic account north-1 is ours: said with its key.
    with pytest.raises(Conflict, match="account 'north-generic'") as ours:
        connect(container, admin, telegram(network="generic", external_id="north-1"))
    assert ours.value.key == "account_identity_ours"
    with container.sessions() as session:
        assert (
            session.scalars(select(ChannelAccount).where(ChannelAccount.key == "north-bot")).first() is None
        )


def test_a_network_identity_of_another_organisation_is_refused_without_naming_it(
    container: Container,
) -> None:
    with transaction(container.sessions) as session:
        other = Organization(key="otherco", name="Other Co")
        session.add(other)
        session.flush()
        place = Location(org_id=other.id, kind="location", key="shop", name="Shop", path="/")
        session.add(place)
        session.flush()
        session.add(
            ChannelAccount(
                org_id=other.id, location_id=place.id, key="theirs", network="telegram",
                handle="theirs", external_id="7000000001",
            )
        )  # fmt: skip
    admin = scope_of(container, "admin@test.example")
    with pytest.raises(Conflict) as refused:
        connect(container, admin, telegram())
    assert "another organisation" in str(refused.value) and "otherco" not in str(refused.value)
    assert "theirs" not in str(refused.value)


def test_a_region_admin_connects_only_inside_her_region(container: Container) -> None:
    with transaction(container.sessions) as session:
        ada = session.scalars(select(User).where(User.email == "admin@test.example")).one()
        north = session.scalars(select(Location).where(Location.key == "north")).one()
        ada.location_id = north.id
    admin = scope_of(container, "admin@test.example")
    with pytest.raises(Forbidden):
        connect(container, admin, telegram(location="south-shop"))
    assert connect(container, admin, telegram()).location == "north-shop"


# -- credentials, sandbox, audit ------------------------------------------------------------------


def test_credentials_are_write_only_and_audited_as_secret(container: Container) -> None:
    admin = scope_of(container, "admin@test.example")
    made = connect(container, admin, telegram(sandbox=True))
    shown = made.model_dump_json()
    assert TOKEN not in shown and SECRET not in shown
    assert made.credentials == ["bot_token", "webhook_secret"]
    assert made.status.ok and made.status.replies_state == "ready"
    assert made.status.webhook_address == f"{BASE}/webhooks/telegram/{made.id}"
    assert made.sandbox and "SANDBOX" in made.status.replies
    row, opened = stored(container, "north-bot")
    assert opened == {"bot_token": TOKEN, "webhook_secret": SECRET}
    assert TOKEN not in (row.credentials_encrypted or "") and row.settings == {"sandbox": True}
    [created] = audit_of(container, "North bot")
    assert created.action == "created" and created.via == "web" and created.actor_name == "Ada Admin"
    assert created.after is not None and created.after["credentials_encrypted"] == "(secret)"
    assert TOKEN not in str(created.after) and SECRET not in str(created.after)

    # An empty field keeps the stored value; a change of name only is not a change of secret.
    update(
        container,
        admin,
        "north-bot",
        AccountPatch(name="North bot", handle="northbot2", credentials={"bot_token": ""}),
    )
    assert stored(container, "north-bot")[1]["bot_token"] == TOKEN
    renamed = audit_of(container, "North bot")[-1]
    assert renamed.before == {"handle": "northbot"} and renamed.after == {"handle": "northbot2"}

    # A new value replaces, a ticked removal deletes; the log says "changed", never to what.
    update(
        container,
        admin,
        "north-bot",
        AccountPatch(credentials={"bot_token": "9:NEW"}, remove_credentials=["webhook_secret"]),
    )
    assert stored(container, "north-bot")[1] == {"bot_token": "9:NEW"}
    changed = audit_of(container, "North bot")[-1]
    assert changed.after == {"credentials_encrypted": "(secret)"}
    checked = update(container, admin, "north-bot", AccountPatch(sandbox=False))
    assert checked.status.webhook_state == "missing" and checked.status.missing == ["webhook_secret"]
    assert stored(container, "north-bot")[0].settings == {}


def test_an_account_made_in_the_page_is_exported_without_its_secrets(container: Container) -> None:
    admin = scope_of(container, "admin@test.example")
    connect(container, admin, telegram(sandbox=True))
    with container.sessions() as session:
        exported = export_config(session, "testco", box=container.box)
    [bot] = [a for a in exported["accounts"] if a["key"] == "north-bot"]
    assert bot["settings"] == {"sandbox": True} and bot["location"] == "north-shop"
    assert bot["credentials"] == {"bot_token": "***", "webhook_secret": "***"}


def test_switching_off_and_on(container: Container) -> None:
    admin = scope_of(container, "admin@test.example")
    off = update(container, admin, "north-generic", AccountPatch(active=False))
    assert not off.active and off.status.badge == "off"
    # On again, and its check speaks: the fixture account has no `url` to send replies to.
    assert update(container, admin, "north-generic", AccountPatch(active=True)).status.badge == "setup"
    assert [e.after for e in audit_of(container, "north-generic")][-2:] == [
        {"active": False},
        {"active": True},
    ]


# -- status: the last event received and the last reply that failed --------------------------------


class Refusing:
    async def send(self, req: OutboundRequest, credentials: dict[str, Any]) -> SendResult:
        return SendResult(ok=False, error="the review site answered 410 Gone", code="undeliverable")


def test_the_status_shows_the_last_event_and_the_last_failed_reply(
    app_client: TestClient, container: Container
) -> None:
    admin = scope_of(container, "admin@test.example")
    before = update(
        container, admin, "north-generic", AccountPatch(credentials={"url": "https://reviews.example/r"})
    )
    assert before.status.last_event_at is None and before.status.last_error is None
    assert before.status.badge == "ready"
    payload = {"id": "rev-9", "author": {"id": "c9", "name": "Ann"}, "text": "Cold coffee"}
    answer = post_signed(app_client, account(container, "north-generic"), payload, "north-secret")
    conversation = answer.json()["accepted"][0]["conversation_id"]  # type: ignore[attr-defined]
    sam = login(app_client, "sam@test.example")
    sent = app_client.post(
        f"/api/v1/conversations/{conversation}/reply", json={"text": "Sorry!"}, headers=sam
    )
    assert sent.status_code == 201, sent.text
    worker = OutboxWorker(container.sessions, container.box, {"generic": Refusing()})
    assert asyncio.run(worker.run_once()) == 1
    after = {a.key: a for a in listed(container, admin)}["north-generic"]
    assert after.status.last_event_at is not None
    assert after.status.last_error is not None and after.status.last_error.status == "failed"
    assert "410 Gone" in after.status.last_error.message
    assert after.status.badge == "failing"
    with container.sessions() as session:
        again = account_service.check(session, admin, container.box, BASE, "north-generic")
    assert again.status.last_error == after.status.last_error
