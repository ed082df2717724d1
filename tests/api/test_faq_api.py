"""The FAQ API: drafts proposed by agents, approved by PR, refused to the others, audited as "api"."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import login

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

GIFT = {
    "question": "Can I buy a gift card?",
    "answer": "Yes, in every café.",
    "variants": ["Do you sell gift vouchers?"],
    "answers": {"fa": "بله، در همه کافه‌ها."},
}


def test_an_agent_proposes_petra_approves_and_the_try_finds_it(app_client: TestClient) -> None:
    sam = login(app_client, "sam@test.example")
    petra = login(app_client, "petra@test.example")
    admin = login(app_client, "admin@test.example")
    made = app_client.put("/api/v1/faq/gift", json=GIFT, headers=sam)
    assert made.status_code == 200, made.text
    body = made.json()
    assert body["status"] == "draft" and body["allowed"] == ["edit"]
    assert body["answers"] == {"en": "Yes, in every café.", "fa": "بله، در همه کافه‌ها."}
    assert app_client.post("/api/v1/faq/gift/approve", headers=sam).status_code == 403
    tried = app_client.post("/api/v1/faq/try", json={"text": "do you sell gift vouchers"}, headers=sam)
    assert "gift" not in [s["key"] for s in tried.json()]
    approved = app_client.post("/api/v1/faq/gift/approve", headers=petra)
    assert approved.status_code == 200 and approved.json()["approved_by"] == "Petra PR"
    tried = app_client.post(
        "/api/v1/faq/try", json={"text": "do you sell gift vouchers", "language": "fa"}, headers=sam
    ).json()
    assert tried[0]["key"] == "gift" and tried[0]["answer"] == "بله، در همه کافه‌ها."
    # An approved entry is no longer Sam's to change.
    assert app_client.put("/api/v1/faq/gift", json=GIFT, headers=sam).status_code == 403
    listed = app_client.get("/api/v1/faq", params={"status": "approved"}, headers=sam).json()
    assert {e["key"] for e in listed} == {"gift", "hours"}
    assert app_client.get("/api/v1/faq/gift", headers=sam).json()["suggested"] is True
    assert app_client.post("/api/v1/faq/gift/retire", headers=petra).json()["status"] == "retired"
    assert app_client.delete("/api/v1/faq/gift", headers=sam).status_code == 403
    assert app_client.delete("/api/v1/faq/gift", headers=petra).status_code == 204
    assert app_client.get("/api/v1/faq/gift", headers=sam).status_code == 404
    logged = app_client.get("/api/v1/audit", params={"kind": "faq", "key": "gift"}, headers=admin).json()
    assert {(e["actor"], e["via"], e["action"]) for e in logged["entries"]} >= {
        ("Sam Service", "api", "created"),
        ("Petra PR", "api", "updated"),
        ("Petra PR", "api", "deleted"),
    }


def test_a_viewer_gets_nothing_and_bad_input_is_refused(app_client: TestClient) -> None:
    vic = login(app_client, "vic@test.example")
    admin = login(app_client, "admin@test.example")
    assert app_client.get("/api/v1/faq", headers=vic).status_code == 403
    assert app_client.put("/api/v1/faq/gift", json=GIFT, headers=vic).status_code == 403
    dates = {**GIFT, "valid_from": "2027-02-01", "valid_until": "2027-01-01"}
    assert app_client.put("/api/v1/faq/gift", json=dates, headers=admin).status_code == 422
    assert app_client.put("/api/v1/faq/Bad%20Key", json=GIFT, headers=admin).status_code == 422
    assert app_client.post("/api/v1/faq/nope/approve", headers=admin).status_code == 404


def test_the_csv_export_imports_back_and_a_mistake_is_a_422_with_its_line(app_client: TestClient) -> None:
    petra = login(app_client, "petra@test.example")
    put = app_client.put(
        "/api/v1/faq/parking",
        json={"question": "Where can I park?", "answer": "Behind the north shop.", "place": "north"},
        headers=petra,
    )
    assert put.status_code == 200 and put.json()["place"] == "north"
    exported = app_client.get("/api/v1/faq/export.csv", headers=petra)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "parking,en,Where can I park?" in exported.text and ",north," in exported.text
    again = app_client.post(
        "/api/v1/faq/import", content=exported.text.encode(), headers={**petra, "content-type": "text/csv"}
    )
    assert again.status_code == 200 and again.json()["created"] == 0 and again.json()["changed"] == 0
    bad = app_client.post(
        "/api/v1/faq/import",
        content=b"key,language,question,answer_en\nx,en,Q?,A\nx,en,Q?,A\n",
        headers={**petra, "content-type": "text/csv"},
    )
    assert bad.status_code == 422 and "line 3" in bad.text
    offered = app_client.post(
        "/api/v1/faq/try", json={"text": "where can I park?", "place": "south-shop"}, headers=petra
    ).json()
    assert "parking" not in {s["key"] for s in offered}
