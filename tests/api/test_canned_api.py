"""GET /api/v1/conversations/{id}/canned: saved replies filled for the conversation, scoped."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from relaydesk.container import Container
from tests.api.conftest import login
from tests.api.test_webhook_and_inbox import account, post_signed
from tests.orgconfig import apply_variant

NO_ACTIONS = {"status": None, "tags": [], "priority": None, "transfer": None}  # a plain saved reply


def with_sales_reply(config: dict[str, Any]) -> None:
    config["canned_responses"].append(
        {
            "key": "price-list",
            "title": "Price list",
            "texts": {"en": "Dear {customer.name}, our prices are at shop.example/prices."},
            "departments": ["sales"],
        }
    )


def persian_conversation(client: TestClient, container: Container) -> int:
    payload = {
        "id": "fa-1",
        "author": {"id": "maryam", "name": "مریم احمدی"},
        "text": "سلام، سفارشم دیر رسید و قهوه سرد بود. لطفاً پولم را برگردانید.",
    }
    response = post_signed(client, account(container, "north-generic"), payload, "north-secret")
    assert response.status_code == 202, response.text  # type: ignore[attr-defined]
    return int(response.json()["accepted"][0]["conversation_id"])  # type: ignore[attr-defined]


def test_saved_replies_are_filled_in_the_conversations_language(
    app_client: TestClient, container: Container
) -> None:
    apply_variant(container, with_sales_reply)
    conv = persian_conversation(app_client, container)
    sam = login(app_client, "sam@test.example")  # service: not a member of sales
    response = app_client.get(f"/api/v1/conversations/{conv}/canned", headers=sam)
    assert response.status_code == 200, response.text
    assert response.json() == [
        {
            "key": "refund",
            "title": "Refund on its way",
            "language": "fa",
            "text": "سلام مریم، بازپرداخت شما در راه است. Sam",
            "actions": NO_ACTIONS,
        }
    ]


def test_department_restriction_and_org_wide_roles(app_client: TestClient, container: Container) -> None:
    apply_variant(container, with_sales_reply)
    conv = persian_conversation(app_client, container)
    admin = login(app_client, "admin@test.example")  # sees every department
    listed = app_client.get(f"/api/v1/conversations/{conv}/canned", headers=admin).json()
    assert [r["key"] for r in listed] == ["refund", "price-list"]
    # The only variant is English; the customer's whole name is filled in.
    assert listed[1] == {
        "key": "price-list",
        "title": "Price list",
        "language": "en",
        "text": "Dear مریم احمدی, our prices are at shop.example/prices.",
        "actions": NO_ACTIONS,
    }
    nora = login(app_client, "nora@test.example")  # manager in service and sales
    assert [
        r["key"] for r in app_client.get(f"/api/v1/conversations/{conv}/canned", headers=nora).json()
    ] == [
        "refund",
        "price-list",
    ]


def test_a_conversation_the_caller_cannot_see_is_404(app_client: TestClient, container: Container) -> None:
    conv = persian_conversation(app_client, container)
    sally = login(app_client, "sally@test.example")  # sales only: the conversation is service's
    response = app_client.get(f"/api/v1/conversations/{conv}/canned", headers=sally)
    assert response.status_code == 404
    assert app_client.get("/api/v1/conversations/999999/canned", headers=sally).status_code == 404
    assert app_client.get(f"/api/v1/conversations/{conv}/canned").status_code == 401
