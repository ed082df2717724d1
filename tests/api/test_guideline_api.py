"""The guidelines API: PR writes one region's guideline; a reply in that region's conversation is
stopped by it and one in another region's is not; agents read and try, never change."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from relaydesk.container import Container
from tests.api.conftest import login
from tests.api.test_webhook_and_inbox import ingest

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

NORTH_ONLY = {
    "kind": "banned_phrase",
    "params": {"phrases": "two for one"},
    "message": "Not in the north",
    "place": "north",
}


def test_a_regions_guideline_stops_only_that_regions_replies(
    app_client: TestClient, container: Container
) -> None:
    petra = login(app_client, "petra@test.example")
    sam = login(app_client, "sam@test.example")
    assert app_client.put("/api/v1/guidelines/north-offers", json=NORTH_ONLY, headers=sam).status_code == 403
    made = app_client.put("/api/v1/guidelines/north-offers", json=NORTH_ONLY, headers=petra)
    assert made.status_code == 200, made.text
    assert made.json()["place"] == "north" and made.json()["place_name"] == "North"
    unknown = app_client.put("/api/v1/guidelines/x", json={**NORTH_ONLY, "place": "atlantis"}, headers=petra)
    assert unknown.status_code == 422 and "atlantis" in unknown.text
    assert "north-offers" in {g["name"] for g in app_client.get("/api/v1/guidelines", headers=sam).json()}
    tried = app_client.post(
        "/api/v1/guidelines/try", json={"text": "Hi, two for one today", "place": "north-shop"}, headers=sam
    ).json()
    hit = next(f for f in tried if f["guideline"] == "north-offers")
    assert hit["severity"] == "block" and hit["spans"] == [[4, 15]]
    north = ingest(app_client, container, "north-generic", "n1", "Any offers?", "p-n")
    south = ingest(app_client, container, "south-generic", "s1", "Any offers?", "p-s")
    text = {"text": "Hello, two for one today"}
    assert app_client.post(f"/api/v1/conversations/{north}/reply", json=text, headers=sam).status_code == 422
    admin = login(app_client, "admin@test.example")  # south's conversation is outside Sam's region? use admin
    assert (
        app_client.post(f"/api/v1/conversations/{south}/reply", json=text, headers=admin).status_code == 201
    )
    assert app_client.delete("/api/v1/guidelines/north-offers", headers=petra).status_code == 204
    assert app_client.get("/api/v1/guidelines/north-offers", headers=sam).status_code == 404


def test_a_reply_is_checked_for_tone_and_the_senders_own_first_name(
    app_client: TestClient, container: Container
) -> None:
    petra = login(app_client, "petra@test.example")
    sam = login(app_client, "sam@test.example")
    for name, body in (
        ("calm", {"kind": "tone", "params": {"tones": ["blame"]}, "severity": "block"}),
        ("signed", {"kind": "require_name", "params": {}, "severity": "block"}),
    ):
        assert app_client.put(f"/api/v1/guidelines/{name}", json=body, headers=petra).status_code == 200
    assert app_client.get("/api/v1/guidelines/calm", headers=sam).json()["severity"] == "block"
    first = app_client.get("/api/v1/me", headers=sam).json()["name"].split()[0]
    convo = ingest(app_client, container, "north-generic", "t1", "Where is my parcel?", "p-t")

    def reply(text: str) -> int:
        return app_client.post(
            f"/api/v1/conversations/{convo}/reply", json={"text": text}, headers=sam
        ).status_code

    assert reply(f"Hello, {first} here: it is your fault.") == 422  # blaming the customer
    assert reply("Hello, it is on its way.") == 422  # not signed
    assert reply(f"Hello, {first} here: it is on its way.") == 201
