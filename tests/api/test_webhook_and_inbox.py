"""The REST API end to end: signed ingest, the scoped inbox, and every agent action."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from relaydesk.channels.generic import sign
from relaydesk.container import Container
from relaydesk.models import ChannelAccount, Message, OutboxItem, SlaRecord
from tests.api.conftest import login


def account(container: Container, key: str) -> int:
    with container.sessions() as session:
        return session.scalars(select(ChannelAccount.id).where(ChannelAccount.key == key)).one()


def post_signed(client: TestClient, account_id: int, payload: object, secret: str) -> object:
    body = json.dumps(payload).encode()
    return client.post(
        f"/webhooks/generic/{account_id}",
        content=body,
        headers={"Content-Type": "application/json", "X-RelayDesk-Signature": sign(body, secret)},
    )


def ingest(
    client: TestClient, container: Container, key: str, msg_id: str, text: str, author: str = "c1"
) -> int:
    secret = "north-secret" if key.startswith("north") else "south-secret"
    payload = {"id": msg_id, "author": {"id": author, "name": "Customer"}, "text": text}
    response = post_signed(client, account(container, key), payload, secret)
    assert response.status_code == 202, response.text  # type: ignore[attr-defined]
    return int(response.json()["accepted"][0]["conversation_id"])  # type: ignore[attr-defined]


def test_signed_ingest_accepts_and_a_replay_is_not_duplicated(
    app_client: TestClient, container: Container
) -> None:
    acc = account(container, "north-generic")
    payload = {"id": "w1", "author": {"id": "a1", "name": "Ann"}, "text": "Where is my order?"}
    first = post_signed(app_client, acc, payload, "north-secret")
    again = post_signed(app_client, acc, payload, "north-secret")
    assert first.status_code == again.status_code == 202  # type: ignore[attr-defined]
    assert again.json()["accepted"][0]["duplicate"] is True  # type: ignore[attr-defined]
    with container.sessions() as session:
        assert session.scalar(select(func.count(Message.id)).where(Message.external_id == "w1")) == 1


def test_bad_webhook_input_gets_clear_4xx_and_stores_nothing(
    app_client: TestClient, container: Container
) -> None:
    acc = account(container, "north-generic")
    body = json.dumps({"id": "x", "author": {"id": "a"}, "text": "hi"}).encode()
    missing = app_client.post(f"/webhooks/generic/{acc}", content=body)
    assert missing.status_code == 401
    wrong = app_client.post(
        f"/webhooks/generic/{acc}",
        content=body,
        headers={"X-RelayDesk-Signature": sign(body, "not-the-secret")},
    )
    assert wrong.status_code == 403
    unknown = app_client.post(
        "/webhooks/generic/999999", content=body, headers={"X-RelayDesk-Signature": "x"}
    )
    assert unknown.status_code == 404 and "999999" in unknown.json()["detail"]
    garbled = b"{not json"
    bad_json = app_client.post(
        f"/webhooks/generic/{acc}",
        content=garbled,
        headers={"X-RelayDesk-Signature": sign(garbled, "north-secret")},
    )
    assert bad_json.status_code == 422
    invalid = post_signed(app_client, acc, {"messages": [{"id": "y", "author": {"id": "a"}}]}, "north-secret")
    assert invalid.status_code == 422  # type: ignore[attr-defined]
    assert "messages[0].text" in json.dumps(invalid.json())  # type: ignore[attr-defined]
    huge = b"{" + b" " * (1024 * 1024 + 10) + b"}"
    too_big = app_client.post(
        f"/webhooks/generic/{acc}", content=huge, headers={"X-RelayDesk-Signature": "x"}
    )
    assert too_big.status_code == 413
    with container.sessions() as session:
        assert session.scalar(select(func.count(Message.id))) == 0


def test_half_valid_batch_keeps_the_good_messages(app_client: TestClient, container: Container) -> None:
    acc = account(container, "north-generic")
    payload = {
        "messages": [
            {"id": "ok-1", "author": {"id": "a"}, "text": "first"},
            {"id": "bad", "author": {"id": "a"}},
            {"id": "ok-2", "author": {"id": "b"}, "text": "second"},
        ]
    }
    response = post_signed(app_client, acc, payload, "north-secret")
    assert response.status_code == 202  # type: ignore[attr-defined]
    data = response.json()  # type: ignore[attr-defined]
    assert [a["external_id"] for a in data["accepted"]] == ["ok-1", "ok-2"]
    assert any("messages[1].text" in e for e in data["errors"])


def test_an_agent_cannot_reach_another_departments_conversation(
    app_client: TestClient, container: Container
) -> None:
    service_conv = ingest(
        app_client, container, "north-generic", "s1", "My coffee arrived cold and late", "p1"
    )
    sally = login(app_client, "sally@test.example")  # sales only
    sam = login(app_client, "sam@test.example")  # service
    assert app_client.get(f"/api/v1/conversations/{service_conv}", headers=sam).status_code == 200
    listed = app_client.get("/api/v1/conversations", headers=sally).json()["items"]
    assert service_conv not in [c["id"] for c in listed]
    searched = app_client.get("/api/v1/conversations", params={"q": "coffee"}, headers=sally).json()["items"]
    assert searched == []
    base = f"/api/v1/conversations/{service_conv}"
    attempts = [
        ("get", base, None),
        ("post", f"{base}/reply", {"text": "hi"}),
        ("post", f"{base}/notes", {"text": "hi"}),
        ("post", f"{base}/assign", {"assignee_id": None}),
        ("post", f"{base}/transfer", {"department": "sales", "note": "mine now"}),
        ("post", f"{base}/resolve", None),
        ("post", f"{base}/reopen", None),
        ("post", f"{base}/pending", None),
        ("post", f"{base}/snooze", {"until": "2099-01-01T00:00:00Z"}),
    ]
    for method, url, body in attempts:
        response = app_client.request(method, url, json=body, headers=sally)
        assert response.status_code == 404, (url, response.status_code, response.text)
    with container.sessions() as session:
        assert session.scalar(select(func.count(Message.id)).where(Message.direction != "inbound")) == 0


def test_location_scope_hides_other_regions(app_client: TestClient, container: Container) -> None:
    north = ingest(app_client, container, "north-generic", "n1", "Is the shop open?", "p-north")
    south = ingest(app_client, container, "south-generic", "so1", "Is the shop open?", "p-south")
    nora = login(app_client, "nora@test.example")  # manager limited to the north subtree
    ids = [c["id"] for c in app_client.get("/api/v1/conversations", headers=nora).json()["items"]]
    assert north in ids and south not in ids
    assert app_client.get(f"/api/v1/conversations/{south}", headers=nora).status_code == 404
    admin = login(app_client, "admin@test.example")
    ids = [c["id"] for c in app_client.get("/api/v1/conversations", headers=admin).json()["items"]]
    assert {north, south} <= set(ids)
    by_location = app_client.get("/api/v1/conversations", params={"location": "south"}, headers=admin).json()
    assert [c["id"] for c in by_location["items"]] == [south]


def test_viewer_reads_but_cannot_reply(app_client: TestClient, container: Container) -> None:
    conv = ingest(app_client, container, "north-generic", "v1", "Do you have oat milk?", "p-v")
    vic = login(app_client, "vic@test.example")
    assert app_client.get(f"/api/v1/conversations/{conv}", headers=vic).status_code == 200
    assert (
        app_client.post(f"/api/v1/conversations/{conv}/reply", json={"text": "x"}, headers=vic).status_code
        == 403
    )


def test_reply_queues_once_and_records_the_first_response(
    app_client: TestClient, container: Container
) -> None:
    conv = ingest(app_client, container, "north-generic", "rep1", "Do you have oat milk?", "p-r")
    sam = login(app_client, "sam@test.example")
    headers = {**sam, "Idempotency-Key": "reply-abc"}
    first = app_client.post(
        f"/api/v1/conversations/{conv}/reply", json={"text": "Yes we do!"}, headers=headers
    )
    retry = app_client.post(
        f"/api/v1/conversations/{conv}/reply", json={"text": "Yes we do!"}, headers=headers
    )
    assert first.status_code == retry.status_code == 201
    assert first.json()["message_id"] == retry.json()["message_id"]
    data = first.json()["conversation"]
    assert data["sla"]["first_response_at"] is not None and data["sla"]["state"] == "none"
    with container.sessions() as session:
        assert session.scalar(select(func.count(OutboxItem.id))) == 1
        record = session.scalars(select(SlaRecord)).one()
        assert record.target == "first_response" and record.met
    detail = app_client.get(f"/api/v1/conversations/{conv}", headers=sam).json()
    outbound = [m for m in detail["messages"] if m["direction"] == "outbound"]
    assert outbound[0]["delivery_status"] == "queued" and outbound[0]["author"] == "@sam"


def test_transfer_hands_off_with_a_note_and_stops_loops(app_client: TestClient, container: Container) -> None:
    conv = ingest(app_client, container, "north-generic", "tr1", "Can I buy a franchise?", "p-t")
    admin = login(app_client, "admin@test.example")
    url = f"/api/v1/conversations/{conv}/transfer"
    current = app_client.get(f"/api/v1/conversations/{conv}", headers=admin).json()["conversation"][
        "department"
    ]["key"]
    other = "hr" if current != "hr" else "service"
    moved = app_client.post(url, json={"department": other, "note": "This is about a job"}, headers=admin)
    assert moved.status_code == 200, moved.text
    assert moved.json()["conversation"]["department"]["key"] == other
    detail = app_client.get(f"/api/v1/conversations/{conv}", headers=admin).json()
    assert any(m["direction"] == "note" and "This is about a job" in m["text"] for m in detail["messages"])
    assert any(e["kind"] == "transfer" for e in detail["timeline"])
    codes = []
    for target in [current, other, current, other]:
        codes.append(
            app_client.post(url, json={"department": target, "note": "back"}, headers=admin).status_code
        )
    assert 422 in codes  # the ping-pong is stopped
    missing_note = app_client.post(url, json={"department": "sales"}, headers=admin)
    assert missing_note.status_code == 422 and "note" in missing_note.json()["detail"]


def test_status_changes_follow_the_state_machine(app_client: TestClient, container: Container) -> None:
    conv = ingest(app_client, container, "north-generic", "st1", "Hello there", "p-s")
    sam = login(app_client, "sam@test.example")
    base = f"/api/v1/conversations/{conv}"
    assert app_client.post(f"{base}/reopen", headers=sam).status_code == 409
    assert app_client.post(f"{base}/resolve", headers=sam).json()["conversation"]["status"] == "resolved"
    assert app_client.post(f"{base}/reopen", headers=sam).json()["conversation"]["status"] == "reopened"
    bad = app_client.post(f"{base}/snooze", json={"until": "2000-01-01T00:00:00Z"}, headers=sam)
    assert bad.status_code == 400
    good = app_client.post(f"{base}/snooze", json={"until": "2099-01-01T00:00:00Z"}, headers=sam)
    assert good.json()["conversation"]["status"] == "snoozed"


def test_cursor_pagination_walks_every_conversation_once(
    app_client: TestClient, container: Container
) -> None:
    made = {
        ingest(app_client, container, "north-generic", f"pg{i}", f"question {i}", f"pager-{i}")
        for i in range(7)
    }
    admin = login(app_client, "admin@test.example")
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = app_client.get("/api/v1/conversations", params=params, headers=admin).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen))
    assert (
        app_client.get("/api/v1/conversations", params={"cursor": "garbage!"}, headers=admin).status_code
        == 400
    )


def test_unauthenticated_and_malformed_requests(app_client: TestClient) -> None:
    assert app_client.get("/api/v1/conversations").status_code == 401
    assert (
        app_client.get("/api/v1/conversations", headers={"Authorization": "Bearer nope"}).status_code == 401
    )
    admin = login(app_client, "admin@test.example")
    response = app_client.post("/api/v1/conversations/1/reply", json={"txt": "typo"}, headers=admin)
    assert response.status_code == 422
    assert "body.text" in response.json()["detail"]


def test_crisis_replies_wait_for_approval(app_client: TestClient, container: Container) -> None:
    conv = ingest(
        app_client,
        container,
        "north-generic",
        "cr1",
        "Your food gave me food poisoning, my lawyer will sue",
        "p-c",
    )
    admin = login(app_client, "admin@test.example")
    reply = app_client.post(
        f"/api/v1/conversations/{conv}/reply", json={"text": "We are so sorry"}, headers=admin
    )
    assert reply.status_code == 201
    message_id = reply.json()["message_id"]
    detail = app_client.get(f"/api/v1/conversations/{conv}", headers=admin).json()
    draft = next(m for m in detail["messages"] if m["id"] == message_id)
    assert draft["delivery_status"] == "draft"
    assert detail["conversation"]["sla"]["first_response_at"] is None  # the customer has seen nothing yet
    with container.sessions() as session:
        assert session.scalars(select(OutboxItem)).one().status == "draft"
    sam = login(app_client, "sam@test.example")
    denied = app_client.post(
        f"/api/v1/conversations/{conv}/messages/{message_id}/approve", json={}, headers=sam
    )
    assert denied.status_code in (403, 404)
    own = app_client.post(
        f"/api/v1/conversations/{conv}/messages/{message_id}/approve", json={}, headers=admin
    )
    assert own.status_code == 403 and "your own reply" in own.json()["detail"]
    petra = login(app_client, "petra@test.example")  # the PR desk's manager
    approved = app_client.post(
        f"/api/v1/conversations/{conv}/messages/{message_id}/approve",
        json={"text": "We are so sorry. Our PR lead will call you today."},
        headers=petra,
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["conversation"]["sla"]["first_response_at"] is not None
    detail = app_client.get(f"/api/v1/conversations/{conv}", headers=admin).json()
    sent = next(m for m in detail["messages"] if m["id"] == message_id)
    assert sent["delivery_status"] == "queued" and "PR lead" in sent["text"]
    assert any(e["kind"] == "approval" and "with edits" in e["reason"] for e in detail["timeline"])
    again = app_client.post(
        f"/api/v1/conversations/{conv}/messages/{message_id}/approve", json={}, headers=petra
    )
    assert again.status_code == 409


def test_guidelines_block_a_reply_until_overridden_and_approved(
    app_client: TestClient, container: Container
) -> None:
    conv = ingest(app_client, container, "north-generic", "g1", "When are you open on Sunday?", "p-g")
    sam = login(app_client, "sam@test.example")
    check = app_client.post(
        f"/api/v1/conversations/{conv}/check-reply", json={"text": "We guarantee it"}, headers=sam
    )
    assert check.status_code == 200
    body = check.json()
    assert body["blocking"] and body["findings"][0]["guideline"] == "no-guarantees"
    assert body["faq"][0]["key"] == "hours"
    refused = app_client.post(
        f"/api/v1/conversations/{conv}/reply", json={"text": "We guarantee it"}, headers=sam
    )
    assert refused.status_code == 422 and "no-guarantees" in refused.json()["detail"]
    forced = app_client.post(
        f"/api/v1/conversations/{conv}/reply",
        json={"text": "We guarantee it", "override_guidelines": True},
        headers=sam,
    )
    assert forced.status_code == 201
    detail = app_client.get(f"/api/v1/conversations/{conv}", headers=sam).json()
    assert (
        next(m for m in detail["messages"] if m["id"] == forced.json()["message_id"])["delivery_status"]
        == "draft"
    )


def test_mentions_and_escalations_notify_the_right_people(
    app_client: TestClient, container: Container
) -> None:
    conv = ingest(app_client, container, "north-generic", "nt1", "Is the shop open late?", "p-n")
    sam = login(app_client, "sam@test.example")
    sia = login(app_client, "sia@test.example")
    note = app_client.post(
        f"/api/v1/conversations/{conv}/notes", json={"text": "@sia do you know this?"}, headers=sam
    )
    assert note.status_code == 201
    inbox = app_client.get("/api/v1/notifications", params={"unread": True}, headers=sia).json()
    assert len(inbox) == 1 and inbox[0]["kind"] == "mention" and "@sam" in inbox[0]["text"]
    assert app_client.get("/api/v1/notifications", headers=sam).json() == []  # nobody else is told
    assert app_client.post(f"/api/v1/notifications/{inbox[0]['id']}/read", headers=sam).status_code == 404
    assert app_client.get("/api/v1/notifications/unread-count", headers=sia).json() == {"unread": 1}
    assert app_client.post(f"/api/v1/notifications/{inbox[0]['id']}/read", headers=sia).status_code == 204
    assert app_client.get("/api/v1/notifications", params={"unread": True}, headers=sia).json() == []
    assert app_client.get("/api/v1/notifications/unread-count", headers=sia).json() == {"unread": 0}
    again = app_client.post(
        f"/api/v1/conversations/{conv}/notes", json={"text": "@sia and this?"}, headers=sam
    )
    assert again.status_code == 201
    assert app_client.post("/api/v1/notifications/read-all", headers=sam).json() == {"marked": 0}
    assert app_client.post("/api/v1/notifications/read-all", headers=sia).json() == {"marked": 1}
    from datetime import timedelta

    from relaydesk.core.timeutil import utcnow

    assert container.conversations.tick(utcnow() + timedelta(days=2))["breaches"] >= 1
    escalations = [
        n for n in app_client.get("/api/v1/notifications", headers=sam).json() if n["kind"] == "escalation"
    ]
    assert escalations and "SLA breached" in escalations[0]["text"]


def test_collision_detection_stops_a_second_answer(app_client: TestClient, container: Container) -> None:
    conv = ingest(app_client, container, "north-generic", "col1", "Do you deliver to Vanak?", "p-col")
    sam = login(app_client, "sam@test.example")
    sia = login(app_client, "sia@test.example")
    seen = app_client.get(f"/api/v1/conversations/{conv}", headers=sia).json()["messages"][-1]["id"]
    typing = app_client.post(f"/api/v1/conversations/{conv}/presence", json={"state": "typing"}, headers=sam)
    assert typing.status_code == 200
    detail = app_client.get(f"/api/v1/conversations/{conv}", headers=sia).json()
    assert detail["present"] == [{"handle": "sam", "state": "typing"}]
    blocked = app_client.post(f"/api/v1/conversations/{conv}/reply", json={"text": "Yes!"}, headers=sia)
    assert blocked.status_code == 409 and "@sam is typing" in blocked.json()["detail"]
    first = app_client.post(f"/api/v1/conversations/{conv}/reply", json={"text": "Yes we do"}, headers=sam)
    assert first.status_code == 201
    container.conversations.presence.leave(conv, container_user_id(container, "sam"))
    late = app_client.post(
        f"/api/v1/conversations/{conv}/reply",
        json={"text": "Yes!", "last_seen_message_id": seen},
        headers=sia,
    )
    assert late.status_code == 409 and "@sam already replied" in late.json()["detail"]
    forced = app_client.post(
        f"/api/v1/conversations/{conv}/reply",
        json={"text": "Adding: delivery is free", "last_seen_message_id": seen, "force": True},
        headers=sia,
    )
    assert forced.status_code == 201
    bad = app_client.post(f"/api/v1/conversations/{conv}/presence", json={"state": "dancing"}, headers=sam)
    assert bad.status_code == 400


def container_user_id(container: Container, handle: str) -> int:
    from relaydesk.models import User

    with container.sessions() as session:
        return session.scalars(select(User.id).where(User.handle == handle)).one()
