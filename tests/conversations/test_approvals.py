"""Replies held for approval: who may release them, through the API and the inbox page (issue 9 #6)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.config.loader import load_config_text
from relaydesk.container import Container
from relaydesk.conversations.approvals import Hold, approvers_from_tags, describe_approvers, matches, refusal
from relaydesk.models import Notification, User
from tests.api.conftest import login
from tests.api.test_webhook_and_inbox import ingest
from tests.orgconfig import apply_variant, config_text, fixture_config
from tests.web.test_pages import browser_login, csrf_of

# --- the rule (pure) -----------------------------------------------------------------------------


def test_a_role_covers_itself_and_the_roles_above_it() -> None:
    assert matches(["manager"], "manager", "x") and matches(["manager"], "owner", "x")
    assert not matches(["manager"], "agent", "x")
    assert matches(["admin"], "owner", "x") and not matches(["admin"], "manager", "x")
    assert matches(["@hannah"], "agent", "Hannah") and not matches(["@hannah"], "owner", "maryam")


def test_nobody_approves_their_own_reply_whatever_their_role() -> None:
    hold = Hold("crisis", ("manager",))
    why = refusal(hold, user_id=7, role="owner", handle="boss", agency_id=None, author_id=7)
    assert why is not None and "your own reply" in why
    assert refusal(hold, user_id=8, role="owner", handle="boss", agency_id=None, author_id=7) is None


def test_an_agency_hold_is_released_by_the_brand_not_the_agency() -> None:
    hold = Hold("contract", ("manager",), excluded_agency_id=3, excluded_agency="OutCo")
    why = refusal(hold, user_id=9, role="manager", handle="olga", agency_id=3, author_id=5)
    assert why is not None and "OutCo" in why
    assert refusal(hold, user_id=9, role="manager", handle="nora", agency_id=None, author_id=5) is None


def test_approvers_read_from_tags_and_described_for_people() -> None:
    assert approvers_from_tags(["crisis", "approver:@hannah", "approver:manager"]) == ("@hannah", "manager")
    assert approvers_from_tags(["needs-approval"]) == ("manager",)
    assert describe_approvers(["@hannah", "@james", "admin"]) == "@hannah, @james or an admin"
    assert Hold.from_dict(Hold("x", ("@a",), 2, "Ag").as_dict()) == Hold("x", ("@a",), 2, "Ag")


# --- through the API, on both databases ---------------------------------------------------------


def _held_rule(approvers: list[str] | None) -> Any:
    """A first rule that holds replies to 'vipcode' messages in the service department."""

    def change(config: dict[str, Any]) -> None:
        then: dict[str, Any] = {"department": "service", "require_approval": True}
        if approvers is not None:
            then["approvers"] = approvers
        rule = {"name": "vip-hold", "when": {"keywords": ["vipcode"]}, "then": then, "stop": True}
        config["routing_rules"].insert(0, rule)

    return change


def _approve(client: TestClient, conv: int, message_id: int, headers: dict[str, str]) -> Any:
    return client.post(
        f"/api/v1/conversations/{conv}/messages/{message_id}/approve", json={}, headers=headers
    )


def test_a_held_reply_says_who_approves_and_its_author_cannot(
    app_client: TestClient, container: Container
) -> None:
    conv = ingest(app_client, container, "north-generic", "ap-1", "Your food poisoned me, I will sue", "p1")
    ada = login(app_client, "admin@test.example")
    reply = app_client.post(f"/api/v1/conversations/{conv}/reply", json={"text": "So sorry"}, headers=ada)
    assert reply.status_code == 201
    body = reply.json()
    assert "queued for sending" not in body["detail"]
    assert body["detail"].startswith("reply waits for approval by a manager")
    assert body["approval"]["people"] == ["@petra"]  # the PR desk's manager; not the author
    assert body["approval"]["can_approve"] is False
    own = _approve(app_client, conv, body["message_id"], ada)
    assert own.status_code == 403
    assert own.json()["detail"] == "you cannot approve your own reply; it waits for a manager"
    with container.sessions() as session:
        petra = session.scalars(select(User.id).where(User.handle == "petra")).one()
        told = list(session.scalars(select(Notification.user_id).where(Notification.kind == "approval")))
    assert told == [petra]  # the approver hears of it, not the author
    petra_token = login(app_client, "petra@test.example")
    assert _approve(app_client, conv, body["message_id"], petra_token).status_code == 200


def test_only_the_roles_the_rule_names_may_approve(app_client: TestClient, container: Container) -> None:
    apply_variant(container, _held_rule(["admin"]))
    conv = ingest(app_client, container, "north-generic", "ap-2", "hello vipcode, where is my order?", "p2")
    sam = login(app_client, "sam@test.example")
    reply = app_client.post(f"/api/v1/conversations/{conv}/reply", json={"text": "On its way"}, headers=sam)
    assert reply.status_code == 201 and reply.json()["approval"]["waiting_for"] == "an admin"
    message_id = reply.json()["message_id"]
    nora = login(app_client, "nora@test.example")  # a manager of service, but the rule wants an admin
    refused = _approve(app_client, conv, message_id, nora)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "this reply waits for approval by an admin"
    assert _approve(app_client, conv, message_id, login(app_client, "admin@test.example")).status_code == 200


def test_a_rule_may_name_the_person_who_approves(app_client: TestClient, container: Container) -> None:
    apply_variant(container, _held_rule(["@nora"]))
    conv = ingest(app_client, container, "north-generic", "ap-3", "vipcode: can I change my order?", "p3")
    sam = login(app_client, "sam@test.example")
    reply = app_client.post(f"/api/v1/conversations/{conv}/reply", json={"text": "Yes"}, headers=sam)
    message_id = reply.json()["message_id"]
    assert reply.json()["approval"]["people"] == ["@nora"]
    ada = login(app_client, "admin@test.example")
    assert _approve(app_client, conv, message_id, ada).status_code == 403  # an admin, but not named
    assert _approve(app_client, conv, message_id, login(app_client, "nora@test.example")).status_code == 200


def test_an_approver_who_cannot_see_the_conversation_is_warned_about_and_not_counted(
    app_client: TestClient, container: Container
) -> None:
    config = fixture_config()
    _held_rule(["@petra"])(config)  # Petra works in PR; the rule holds service conversations
    warned = load_config_text(config_text(config), "org.yaml", allow_plain_passwords=True).warnings
    assert [(w.field, "will not see" in w.message) for w in warned] == [
        ("routing_rules[0].then.approvers[0]", True)
    ]
    apply_variant(container, _held_rule(["@petra"]))
    conv = ingest(app_client, container, "north-generic", "ap-5", "vipcode: order 77?", "p5")
    sam = login(app_client, "sam@test.example")
    reply = app_client.post(f"/api/v1/conversations/{conv}/reply", json={"text": "Soon"}, headers=sam)
    assert reply.json()["approval"]["people"] == []
    assert "(nobody can approve it yet)" in reply.json()["detail"]


def test_a_rule_naming_an_unknown_approver_is_refused_at_validation(container: Container) -> None:
    with pytest.raises(AssertionError, match=r"approvers\[0\].*nobody"):
        apply_variant(container, _held_rule(["@nobody"]))
    with pytest.raises(AssertionError, match=r"approvers\[0\].*not an approver"):
        apply_variant(container, _held_rule(["spokesperson"]))


# --- the inbox page ------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_page_says_who_must_approve_and_hides_the_button_from_the_author(
    app_client: TestClient, container: Container
) -> None:
    apply_variant(container, _held_rule(None))
    conv = ingest(app_client, container, "north-generic", "ap-4", "vipcode: my parcel is late", "p4")
    browser_login(app_client, "sam@test.example")
    base = f"/conversations/{conv}"
    sent = app_client.post(
        f"{base}/reply", data={"text": "Checking now", "csrf": csrf_of(app_client.get(base).text)}
    )
    assert sent.status_code == 200
    assert "Reply sent." not in sent.text
    flash = re.search(r'<p class="flash ok"[^>]*>(.*?)</p>', sent.text, re.S)
    assert flash is not None
    assert "Reply not sent yet: it waits for approval by a manager (@ada, @nora)" in flash.group(1)
    assert "Waits for approval by" in sent.text
    assert "Approve and send" not in sent.text  # the author never sees the button

    app_client.cookies.clear()
    browser_login(app_client, "nora@test.example")
    page = app_client.get(base).text
    assert "Approve and send" in page
    approved = app_client.post(
        f"{base}/messages/{_draft_id(page)}/review", data={"decision": "approve", "csrf": csrf_of(page)}
    )
    assert "Reply approved and sent." in approved.text


def _draft_id(page: str) -> int:
    found = re.search(r'/messages/(\d+)/review"', page)
    assert found is not None
    return int(found.group(1))
