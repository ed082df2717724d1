"""Contacts through the API: scoped like conversations, editable, and merged without losing anything."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.channels.base import InboundEvent
from relaydesk.container import Container
from relaydesk.models import ChannelAccount, Contact, Conversation, TimelineEvent
from tests.api.conftest import login


def accept(container: Container, account: str, external_id: str, author: str, text: str) -> int:
    with container.sessions() as session:
        acc = session.scalars(select(ChannelAccount.id).where(ChannelAccount.key == account)).one()
    result = container.pipeline.accept(
        acc,
        InboundEvent(
            network="generic",
            external_id=external_id,
            author_id=author,
            author_name="Ann Lee",
            author_handle=f"@{author}",
            text=text,
        ),
    )
    return result.conversation_id


def contact_of(container: Container, conversation_id: int) -> int:
    with container.sessions() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation.contact_id


def test_contacts_are_scoped_like_their_conversations(app_client: TestClient, container: Container) -> None:
    conv = accept(container, "north-generic", "c1", "ann-reviews", "Where is my order? It is late.")
    contact = contact_of(container, conv)
    admin, sam, hank = (login(app_client, f"{u}@test.example") for u in ("admin", "sam", "hank"))

    listed = app_client.get("/api/v1/contacts", params={"q": "ANN-REV"}, headers=admin).json()
    assert [c["id"] for c in listed["items"]] == [contact]
    assert listed["items"][0]["identities"] == [
        {"network": "generic", "external_user_id": "ann-reviews", "handle": "@ann-reviews"}
    ]
    assert listed["items"][0]["conversations"] == 1

    # Sam works in customer service, where the conversation is; Hank (HR) sees nothing of it.
    assert app_client.get(f"/api/v1/contacts/{contact}", headers=sam).status_code == 200
    assert app_client.get(f"/api/v1/contacts/{contact}", headers=hank).status_code == 404
    assert app_client.get("/api/v1/contacts", params={"q": "ann"}, headers=hank).json()["items"] == []
    # Search text is data, not a LIKE pattern.
    assert app_client.get("/api/v1/contacts", params={"q": "%"}, headers=admin).json()["items"] == []


def test_attributes_are_validated_and_stored(app_client: TestClient, container: Container) -> None:
    contact = contact_of(container, accept(container, "north-generic", "c2", "bob", "Is the shop open?"))
    sam = login(app_client, "sam@test.example")
    ok = app_client.patch(
        f"/api/v1/contacts/{contact}", json={"attributes": {"vip": True, "followers": 12000}}, headers=sam
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["attributes"] == {"vip": True, "followers": 12000}
    bad = app_client.patch(f"/api/v1/contacts/{contact}", json={"attributes": {"tags": ["a"]}}, headers=sam)
    assert bad.status_code == 400 and "attributes.tags" in bad.json()["detail"]
    viewer = login(app_client, "vic@test.example")
    assert (
        app_client.patch(
            f"/api/v1/contacts/{contact}", json={"display_name": "X"}, headers=viewer
        ).status_code
        == 403
    )


def test_merge_moves_identities_and_conversations_and_new_messages_follow(
    app_client: TestClient, container: Container
) -> None:
    first = accept(container, "north-generic", "m1", "ann-a", "My order never arrived")
    second = accept(container, "north-generic", "m2", "ann-b", "Hello? Still no order")
    survivor, duplicate = contact_of(container, first), contact_of(container, second)
    assert survivor != duplicate
    sam = login(app_client, "sam@test.example")
    app_client.patch(f"/api/v1/contacts/{duplicate}", json={"attributes": {"purchases": 4}}, headers=sam)

    merged = app_client.post(f"/api/v1/contacts/{duplicate}/merge", json={"into": survivor}, headers=sam)
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert body["id"] == survivor and body["conversations"] == 2
    assert {i["external_user_id"] for i in body["identities"]} == {"ann-a", "ann-b"}
    assert body["attributes"]["purchases"] == 4
    assert {c["id"] for c in body["recent_conversations"]} == {first, second}
    assert contact_of(container, second) == survivor
    gone = app_client.get(f"/api/v1/contacts/{duplicate}", headers=login(app_client, "admin@test.example"))
    assert gone.json()["merged_into_id"] == survivor and gone.json()["identities"] == []
    with container.sessions() as session:
        reasons = list(
            session.scalars(
                select(TimelineEvent.reason).where(
                    TimelineEvent.conversation_id == second, TimelineEvent.kind == "contact_merge"
                )
            )
        )
    assert reasons == [f"contact #{duplicate} merged into #{survivor} by @sam"]

    # The next message from the merged identity belongs to the survivor.
    later = accept(container, "north-generic", "m3", "ann-b", "Any news?")
    assert contact_of(container, later) == survivor
    with container.sessions() as session:
        loser = session.get(Contact, duplicate)
        assert loser is not None and loser.merged_into_id == survivor


def test_merge_refusals(app_client: TestClient, container: Container) -> None:
    a = contact_of(container, accept(container, "north-generic", "r1", "p-a", "Where is my order?"))
    b = contact_of(container, accept(container, "north-generic", "r2", "p-b", "Where is my parcel?"))
    c = contact_of(container, accept(container, "north-generic", "r3", "p-c", "Where is my refund?"))
    sam, hank = login(app_client, "sam@test.example"), login(app_client, "hank@test.example")

    itself = app_client.post(f"/api/v1/contacts/{a}/merge", json={"into": a}, headers=sam)
    assert itself.status_code == 422 and "itself" in itself.json()["detail"]
    # Hank cannot see these people, so to him they do not exist.
    assert app_client.post(f"/api/v1/contacts/{a}/merge", json={"into": b}, headers=hank).status_code == 404
    assert app_client.post(f"/api/v1/contacts/{a}/merge", json={"into": b}, headers=sam).status_code == 200
    again = app_client.post(f"/api/v1/contacts/{a}/merge", json={"into": c}, headers=sam)
    assert again.status_code == 422 and f"already merged into {b}" in again.json()["detail"]
    into_merged = app_client.post(f"/api/v1/contacts/{c}/merge", json={"into": a}, headers=sam)
    assert into_merged.status_code == 422 and "into:" in into_merged.json()["detail"]
    missing = app_client.post(f"/api/v1/contacts/{c}/merge", json={}, headers=sam)
    assert missing.status_code == 422 and "into" in missing.json()["detail"]


def test_merging_a_survivor_again_keeps_chains_one_step_long(
    app_client: TestClient, container: Container
) -> None:
    a = contact_of(container, accept(container, "north-generic", "k1", "k-a", "Where is my order?"))
    b = contact_of(container, accept(container, "north-generic", "k2", "k-b", "Where is my parcel?"))
    c = contact_of(container, accept(container, "north-generic", "k3", "k-c", "Where is my refund?"))
    sam = login(app_client, "sam@test.example")
    assert app_client.post(f"/api/v1/contacts/{a}/merge", json={"into": b}, headers=sam).status_code == 200
    assert app_client.post(f"/api/v1/contacts/{b}/merge", json={"into": c}, headers=sam).status_code == 200
    for old in (a, b):
        assert app_client.get(f"/api/v1/contacts/{old}", headers=sam).json()["merged_into_id"] == c
    final = app_client.get(f"/api/v1/contacts/{c}", headers=sam).json()
    assert final["conversations"] == 3 and len(final["identities"]) == 3


def test_malformed_cursor_and_ids_are_clear_4xx_never_500(container: Container) -> None:
    from relaydesk.app import create_app

    # "²" passes str.isdigit() but not int(); 32 nines overflow a 64-bit id in the database.
    with TestClient(create_app(container.settings, container), raise_server_exceptions=False) as client:
        admin = login(client, "admin@test.example")
        for cursor in ("²", "9" * 32, "-1"):
            answer = client.get("/api/v1/contacts", params={"cursor": cursor}, headers=admin)
            assert answer.status_code == 400 and "cursor" in answer.json()["detail"], (cursor, answer.text)
        huge = "9" * 20
        assert client.get(f"/api/v1/contacts/{huge}", headers=admin).status_code in (404, 422)
        merge = client.post("/api/v1/contacts/1/merge", json={"into": int(huge)}, headers=admin)
        assert merge.status_code in (404, 422), merge.text
