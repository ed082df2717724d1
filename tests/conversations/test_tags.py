"""Tags an agent adds: what a tag may be, and adding, removing and bulk-tagging through API and pages."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.conversations.tag_rules import MAX_TAGS, changed_tags, clean_tag
from relaydesk.core.errors import UserError
from relaydesk.models import TimelineEvent
from tests.api.conftest import login
from tests.api.test_webhook_and_inbox import ingest
from tests.web.test_pages import browser_login, csrf_of


def test_a_tag_is_one_short_line_and_never_routings_own() -> None:
    assert clean_tag("  VIP \n customer ") == "VIP customer"
    assert clean_tag("مشتری‌ویژه") == "مشتری‌ویژه"  # a Persian ZWNJ belongs to the word
    for bad, why in (
        ("", "empty"),
        ("x" * 41, "at most 40"),
        ("team:agency", "decision"),
        ("Skill:refunds", "decision"),
        ("approver:@me", "decision"),
        ("Needs-Approval", "decision"),
        ("spam", "decision"),
        ("a\u202eb", "control"),
    ):
        with pytest.raises(UserError, match=why):
            clean_tag(bad)


def test_adding_and_removing_ignores_case_and_keeps_the_order() -> None:
    assert changed_tags(["team:agency", "vip"], ["VIP", "refund"], []) == ["team:agency", "vip", "refund"]
    assert changed_tags(["team:agency", "vip", "refund"], [], ["VIP"]) == ["team:agency", "refund"]
    with pytest.raises(UserError, match=f"at most {MAX_TAGS}"):
        changed_tags([f"t{i}" for i in range(MAX_TAGS)], ["one more"], [])


def test_tags_through_the_api_are_on_the_timeline_and_scoped(
    app_client: TestClient, container: Container
) -> None:
    conv = ingest(app_client, container, "north-generic", "tag-1", "My parcel is late", "t-1")
    sam = login(app_client, "sam@test.example")
    added = app_client.post(
        f"/api/v1/conversations/{conv}/tags", json={"add": ["late parcel", "VIP"]}, headers=sam
    )
    assert added.status_code == 200, added.text
    assert added.json()["conversation"]["tags"][-2:] == ["late parcel", "VIP"]
    removed = app_client.post(f"/api/v1/conversations/{conv}/tags", json={"remove": ["vip"]}, headers=sam)
    assert "VIP" not in removed.json()["conversation"]["tags"]
    with container.sessions() as session:
        reasons = session.scalars(
            select(TimelineEvent.reason).where(
                TimelineEvent.conversation_id == conv, TimelineEvent.kind == "tags"
            )
        ).all()
    assert reasons == ["tags: +late parcel, +VIP", "tags: -VIP"]
    reserved = app_client.post(
        f"/api/v1/conversations/{conv}/tags", json={"add": ["team:agency"]}, headers=sam
    )
    assert reserved.status_code == 400 and "decision" in reserved.text
    # A reply held for approval cannot be released by taking its tag off.
    held = app_client.post(
        f"/api/v1/conversations/{conv}/tags", json={"remove": ["needs-approval"]}, headers=sam
    )
    assert held.status_code == 400
    viewer = login(app_client, "vic@test.example")
    assert (
        app_client.post(f"/api/v1/conversations/{conv}/tags", json={"add": ["x"]}, headers=viewer).status_code
        == 403
    )
    sales = login(app_client, "sally@test.example")
    assert (
        app_client.post(f"/api/v1/conversations/{conv}/tags", json={"add": ["x"]}, headers=sales).status_code
        == 404
    )


def test_tags_from_the_conversation_page_and_the_inbox_bulk_bar(
    app_client: TestClient, container: Container
) -> None:
    first = ingest(app_client, container, "north-generic", "tag-2", "Is the cake gluten free?", "t-2")
    second = ingest(app_client, container, "north-generic", "tag-3", "Do you have vegan cake?", "t-3")
    browser_login(app_client, "admin@test.example")
    page = app_client.get(f"/conversations/{first}").text
    csrf = csrf_of(page)
    added = app_client.post(f"/conversations/{first}/tags", data={"add": "allergy", "csrf": csrf})
    assert added.status_code == 200 and "Tag added." in added.text
    assert 'aria-label="Remove the tag allergy"' in added.text
    gone = app_client.post(f"/conversations/{first}/tags", data={"remove": "allergy", "csrf": csrf})
    assert "Tag removed." in gone.text and "Remove the tag allergy" not in gone.text
    empty = app_client.post(f"/conversations/{first}/tags", data={"add": " ", "csrf": csrf})
    assert empty.status_code == 400 and "Write the tag to add." in empty.text
    inbox = app_client.get("/").text
    bulk = app_client.post(
        "/conversations/bulk",
        data={"csrf": csrf_of(inbox), "ids": [str(first), str(second)], "action": "tag", "tag": "diet"},
    )
    assert bulk.status_code == 200 and "2 conversations tagged." in bulk.text
    for conv in (first, second):
        detail = app_client.get(f"/conversations/{conv}").text
        assert 'aria-label="Remove the tag diet"' in detail


def test_the_inbox_and_the_api_find_conversations_by_tag(
    app_client: TestClient, container: Container
) -> None:
    tagged = ingest(app_client, container, "north-generic", "tag-4", "Where is my order?", "t-4")
    other = ingest(app_client, container, "north-generic", "tag-5", "Where is my cake?", "t-5")
    ada = login(app_client, "admin@test.example")
    app_client.post(
        f"/api/v1/conversations/{tagged}/tags", json={"add": ["Late parcel", "پیگیری"]}, headers=ada
    )

    def found(tag: str) -> list[int]:
        items = app_client.get(
            "/api/v1/conversations", params={"tag": tag, "status": "all"}, headers=ada
        ).json()
        return [c["id"] for c in items["items"]]

    assert found("late parcel") == [tagged]  # ASCII letters without case
    assert found("پیگیری") == [tagged]
    assert found("late") == []  # a whole tag, not part of one
    assert other not in found("Late parcel")
    browser_login(app_client, "admin@test.example")
    page = app_client.get("/").text
    assert 'href="/?tag=Late+parcel"' in page
    filtered = app_client.get("/", params={"tag": "Late parcel"}).text
    assert (
        f'data-href="/conversations/{tagged}"' in filtered
        and f'data-href="/conversations/{other}"' not in filtered
    )
