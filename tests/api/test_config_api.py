"""The organisation's objects are editable through the API, validated like the CLI does."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.channels.base import InboundEvent
from relaydesk.container import Container
from relaydesk.models import ChannelAccount, Conversation
from tests.api.conftest import login


def test_add_an_intent_and_the_next_message_is_routed_by_it(
    app_client: TestClient, container: Container
) -> None:
    admin = login(app_client, "admin@test.example")
    put = app_client.put(
        "/api/v1/intents/franchise_lead",
        json={
            "department": "sales",
            "examples": ["I want to open a franchise", "franchise opportunity in my city"],
        },
        headers=admin,
    )
    assert put.status_code == 200, put.text
    with container.sessions() as session:
        acc = session.scalars(select(ChannelAccount.id).where(ChannelAccount.key == "north-generic")).one()
    result = container.pipeline.accept(
        acc,
        InboundEvent(network="generic", external_id="f1", author_id="fr", text="I want to open a franchise"),
    )
    with container.sessions() as session:
        conv = session.get(Conversation, result.conversation_id)
        assert conv is not None and conv.intent == "franchise_lead"
    detail = app_client.get(f"/api/v1/conversations/{result.conversation_id}", headers=admin).json()
    assert detail["conversation"]["department"]["key"] == "sales"


def test_rules_referencing_unknown_things_are_rejected(app_client: TestClient) -> None:
    admin = login(app_client, "admin@test.example")
    bad_dept = app_client.put(
        "/api/v1/rules/x", json={"when": {}, "then": {"department": "nope"}}, headers=admin
    )
    assert bad_dept.status_code == 422 and "nope" in bad_dept.json()["detail"]
    bad_field = app_client.put(
        "/api/v1/rules/x", json={"when": {"colour": ["red"]}, "then": {}}, headers=admin
    )
    assert bad_field.status_code == 422 and "colour" in bad_field.json()["detail"]
    good = app_client.put(
        "/api/v1/rules/vip",
        json={"when": {"contact": {"vip": True}}, "then": {"priority": "high"}},
        headers=admin,
    )
    assert good.status_code == 200
    assert "vip" in [r["name"] for r in app_client.get("/api/v1/rules", headers=admin).json()]


def test_only_admins_change_configuration(app_client: TestClient) -> None:
    sam = login(app_client, "sam@test.example")
    response = app_client.put("/api/v1/intents/x", json={"examples": ["a"]}, headers=sam)
    assert response.status_code == 403


def test_config_validate_reports_lines_and_apply_is_idempotent(app_client: TestClient) -> None:
    admin = login(app_client, "admin@test.example")
    exported = app_client.get("/api/v1/config", headers=admin)
    assert exported.status_code == 200
    assert exported.json()["organization"]["key"] == "testco"
    bad = "organization: {key: testco, name: T}\ndepartments:\n  - {key: service, name: S, default: true}\nagents:\n  - {email: a@b.c, name: A, handle: a, departments: [salez]}\n"
    result = app_client.post("/api/v1/config/validate", content=bad, headers=admin).json()
    assert not result["valid"]
    assert any(p["line"] == 5 and "salez" in p["message"] for p in result["problems"])


def test_route_dry_run_explains_without_storing(app_client: TestClient, container: Container) -> None:
    admin = login(app_client, "admin@test.example")
    response = app_client.post(
        "/api/v1/route/dry-run",
        json={"text": "How much does the large box cost? I want to buy it", "account": "north-generic"},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["decision"]["department"] == "sales"
    assert "leads" in body["explanation"]
    with container.sessions() as session:
        assert session.scalars(select(Conversation)).first() is None


def test_agent_corrections_are_stored_and_become_examples(
    app_client: TestClient, container: Container
) -> None:
    with container.sessions() as session:
        acc = session.scalars(select(ChannelAccount.id).where(ChannelAccount.key == "north-generic")).one()
    result = container.pipeline.accept(
        acc,
        InboundEvent(
            network="generic", external_id="k1", author_id="kc", text="the latte arrived spilled, sort it"
        ),
    )
    sam = login(app_client, "sam@test.example")
    base = f"/api/v1/conversations/{result.conversation_id}/messages/{result.message_id}/corrections"
    fixed = app_client.post(base, json={"field": "intent", "value": "refund_request"}, headers=sam)
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["conversation"]["intent"] == "refund_request"
    mood = app_client.post(base, json={"field": "sentiment", "value": "negative"}, headers=sam)
    assert mood.json()["conversation"]["sentiment"] == "negative"
    assert app_client.post(base, json={"field": "colour", "value": "x"}, headers=sam).status_code == 400
    assert app_client.post(base, json={"field": "sentiment", "value": "meh"}, headers=sam).status_code == 400
    admin = login(app_client, "admin@test.example")
    intents = {i["name"]: i for i in app_client.get("/api/v1/intents", headers=admin).json()}
    assert "the latte arrived spilled, sort it" in intents["refund_request"]["examples"]
    detail = app_client.get(f"/api/v1/conversations/{result.conversation_id}", headers=sam).json()
    assert sum(e["kind"] == "correction" for e in detail["timeline"]) == 2


def test_staffing_plan_from_recent_traffic(app_client: TestClient, container: Container) -> None:
    from datetime import UTC, datetime, timedelta

    with container.sessions() as session:
        acc = session.scalars(select(ChannelAccount.id).where(ChannelAccount.key == "north-generic")).one()
    today = datetime.now(UTC).replace(hour=14, minute=5, second=0, microsecond=0)
    if today > datetime.now(UTC):
        today -= timedelta(days=1)
    for i in range(30):
        container.pipeline.accept(
            acc,
            InboundEvent(
                network="generic", external_id=f"st{i}", author_id=f"s{i}", text="hello", sent_at=today
            ),
        )
    admin = login(app_client, "admin@test.example")
    plan = app_client.get("/api/v1/reports/staffing", params={"days": 1}, headers=admin).json()["hours"]
    assert plan[14]["arrivals_per_hour"] == 30 and plan[14]["agents"] >= 1
    assert plan[3]["agents"] == 0
    bad = app_client.get("/api/v1/reports/staffing", params={"tz": "Mars/Base"}, headers=admin)
    assert bad.status_code == 422


def test_conversation_json_keeps_the_routed_reading_and_shows_the_latest(
    app_client: TestClient, container: Container
) -> None:
    with container.sessions() as session:
        acc = session.scalars(select(ChannelAccount.id).where(ChannelAccount.key == "north-generic")).one()

    def send(external_id: str, text: str) -> tuple[int, int]:
        event = InboundEvent(network="generic", external_id=external_id, author_id="two-step", text=text)
        result = container.pipeline.accept(acc, event)
        return result.conversation_id, result.message_id

    conv_id, first = send("two-1", "My parcel never arrived, it is two weeks late")
    same, second = send("two-2", "Thanks! How much is the large gift box? I want to buy two")
    assert same == conv_id
    sam = login(app_client, "sam@test.example")
    url = f"/api/v1/conversations/{conv_id}"
    shown = app_client.get(url, headers=sam).json()["conversation"]
    assert (shown["intent"], shown["latest_intent"]) == ("order_issue", "purchase_interest")
    assert (shown["sentiment"], shown["latest_sentiment"]) == ("negative", "positive")
    # correcting the newest message changes the latest reading, not what it was routed on
    fixed = app_client.post(
        f"{url}/messages/{second}/corrections", json={"field": "intent", "value": "question"}, headers=sam
    ).json()["conversation"]
    assert (fixed["intent"], fixed["latest_intent"]) == ("order_issue", "question")
    # correcting the message it was routed on changes the routed reading
    fixed = app_client.post(
        f"{url}/messages/{first}/corrections", json={"field": "intent", "value": "complaint"}, headers=sam
    ).json()["conversation"]
    assert (fixed["intent"], fixed["latest_intent"]) == ("complaint", "question")
    listed = app_client.get("/api/v1/conversations", params={"intent": "complaint"}, headers=sam).json()
    assert [c["id"] for c in listed["items"]] == [conv_id]
