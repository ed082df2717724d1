"""Social listening: query matching (pure), then ingest, scoping and conversion over the API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from relaydesk.app import create_app
from relaydesk.auth.scopes import Scope
from relaydesk.container import Container
from relaydesk.core.enums import Role
from relaydesk.crisis.candidates import candidates_from_instagram
from relaydesk.crisis.listening import QueryError, compile_query, match, match_text, x_search_query
from relaydesk.crisis.service import ListeningService
from relaydesk.db import transaction
from relaydesk.models import ChannelAccount, ListeningItem, Location, Message, Organization, User
from tests.api.conftest import login

# -- matching (pure) --------------------------------------------------------------------------


def test_persian_and_arabic_letter_variants_and_attached_particles_match() -> None:
    query = compile_query("brand", ["دیجی‌کالا", "کافه ساحل"])
    # Arabic yeh and kaf, with and without the half-space, with a conjunction and an ending.
    for text in (
        "سفارشم از ديجي‌كالا هنوز نرسیده",
        "ديجيكالا جواب نمیده",
        "از دیجی کالا خریدم",
        "و دیجی‌کالا",
        "ودیجی‌کالا هم همینطور",
        "كافة ساحل",  # Arabic kaf and teh marbuta
    ):
        assert match_text(query, text).matched, text
    assert not match_text(query, "کالا رسید").matched
    assert not match_text(query, "کافه").matched


def test_english_keywords_are_whole_words_case_and_spacing_insensitive() -> None:
    query = compile_query("brand", ["Acme Shop", "#acmefail", "@acme"])
    assert match_text(query, "I love ACME   shop!!").keywords == ("Acme Shop",)
    assert match_text(query, "never again #AcmeFail").matched
    assert match_text(query, "hey @Acme, where is my parcel?").keywords == ("@acme",)
    assert not match_text(query, "acmeshop.biz is a scam").matched
    assert not match_text(query, "hey @acmex and @someone").matched  # a mention is not any mention


def test_keywords_are_literal_text_never_patterns() -> None:
    query = compile_query("brand", ["c++ (beta)", "a.b"])
    assert match_text(query, "the new C++ (beta) is out").matched
    assert not match_text(query, "cc (beta)").matched
    assert not match_text(query, "axb").matched
    assert match_text(compile_query("q", ["(((x"]), "broken (((x").matched


def test_exclusions_win_over_keywords() -> None:
    query = compile_query("brand", ["acme", "اکمی"], exclude=["acme jobs", "استخدام"])
    assert match_text(query, "acme lost my order").matched
    result = match_text(query, "Acme jobs: we are hiring")
    assert not result.matched and "acme jobs" in result.reason
    assert not match_text(query, "استخدام در اکمی").matched
    assert match_text(query, "اکمی سفارشم رو گم کرد").matched


def test_languages_and_networks_filter() -> None:
    query = compile_query("brand", ["acme", "اکمی"], languages=["fa", "ar-EG"], networks=["x"])
    assert match(query, "اکمی بد است", "fa", "x").matched
    assert match(query, "اكمي سيئ", "ar", "x").matched
    assert match(query, "اکمی", "fa-IR", "x").matched
    english = match(query, "acme is bad", "en", "x")
    assert not english.matched and "en" in english.reason
    assert not match(query, "اکمی", None, "x").matched  # a language list needs a known language
    assert not match(query, "اکمی", "fa", "instagram").matched
    anything = compile_query("open", ["acme"])
    assert match(anything, "acme", None, "instagram").matched


def test_unusable_queries_are_refused_with_the_field_named() -> None:
    with pytest.raises(QueryError, match="keywords"):
        compile_query("q", [])
    with pytest.raises(QueryError, match=r"keywords\[1\]"):
        compile_query("q", ["ok", "   "])
    with pytest.raises(QueryError, match=r"languages\[0\]"):
        compile_query("q", ["ok"], languages=["und"])
    with pytest.raises(QueryError, match=r"exclude\[0\]"):
        compile_query("q", ["ok"], exclude=[123])


def test_x_search_query_quotes_phrases_and_adds_languages() -> None:
    assert x_search_query(["Acme Shop", "@acme", 'say "hi"'], ["jobs"], ["fa", "ar-EG"]) == (
        '("Acme Shop" OR @acme OR "say hi") -"jobs" (lang:ar OR lang:fa) -is:retweet'
    )


# -- service and API ----------------------------------------------------------------------------


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container.settings, container)) as test_client:
        yield test_client


def x_batch(*posts: tuple[str, str, str, str]) -> dict[str, Any]:
    """(post id, author id, text, lang) -> an X API v2 search response."""
    authors = sorted({p[1] for p in posts})
    return {
        "data": [
            {
                "id": pid,
                "author_id": author,
                "text": text,
                "lang": lang,
                "created_at": "2026-05-01T10:00:00.000Z",
                "conversation_id": pid,
                "edit_history_tweet_ids": [pid],
            }
            for pid, author, text, lang in posts
        ],
        "includes": {
            "users": [
                {
                    "id": a,
                    "username": f"user{a}",
                    "name": f"User {a}",
                    "public_metrics": {"followers_count": 1500},
                }
                for a in authors
            ]
        },
        "meta": {"result_count": len(posts)},
    }


BATCH = x_batch(
    ("1001", "u1", "سفارشم از ديجي‌كالا هنوز نرسیده، خیلی بد است", "fa"),
    ("1002", "u2", "استخدام در دیجی‌کالا شروع شد", "fa"),
    ("1003", "u3", "Digikala is great", "en"),
    ("1004", "u4", "ديجيكالا لم يرسل طلبي", "ar"),
    ("1005", "u5", "nothing about the brand", "en"),
)
QUERY = {"keywords": ["دیجی‌کالا", "digikala"], "exclude": ["استخدام"], "languages": ["fa", "ar"]}


def add_account(container: Container, key: str, network: str) -> int:
    with transaction(container.sessions) as session:
        location = session.scalars(select(Location).where(Location.key == "north-shop")).one()
        account = ChannelAccount(
            org_id=location.org_id, location_id=location.id, key=key, network=network, handle=key, settings={}
        )
        session.add(account)
        session.flush()
        return account.id


def setup_query(client: TestClient) -> dict[str, str]:
    admin = login(client, "admin@test.example")
    created = client.put("/api/v1/listening/queries/brand", json=QUERY, headers=admin)
    assert created.status_code == 201, created.text
    return admin


def test_queries_are_managed_by_managers_and_admins_only(client: TestClient) -> None:
    admin = setup_query(client)
    updated = client.put(
        "/api/v1/listening/queries/brand", json={**QUERY, "keywords": ["digikala"]}, headers=admin
    )
    assert updated.status_code == 200 and updated.json()["keywords"] == ["digikala"]
    assert "lang:fa" in updated.json()["x_search"]
    agent = login(client, "sam@test.example")
    refused = client.put("/api/v1/listening/queries/sneaky", json=QUERY, headers=agent)
    assert refused.status_code == 403
    assert [q["name"] for q in client.get("/api/v1/listening/queries", headers=agent).json()] == ["brand"]
    bad = client.put(
        "/api/v1/listening/queries/bad", json={"keywords": ["ok"], "languages": ["??"]}, headers=admin
    )
    assert bad.status_code == 400 and "languages[0]" in bad.json()["detail"]
    assert (
        client.put("/api/v1/listening/queries/bad", json={"keywords": []}, headers=admin).status_code == 422
    )


def test_ingest_keeps_matching_posts_once(client: TestClient, container: Container) -> None:
    admin = setup_query(client)
    first = client.post("/api/v1/listening/ingest", params={"query": "brand"}, json=BATCH, headers=admin)
    assert first.status_code == 200, first.text
    report = first.json()
    assert (report["received"], report["stored"], report["duplicates"], report["skipped"]) == (5, 2, 0, 3)
    again = client.post("/api/v1/listening/ingest", json={**BATCH, "query": "brand"}, headers=admin).json()
    assert (again["stored"], again["duplicates"]) == (0, 2)
    with container.sessions() as session:
        assert session.scalar(select(func.count(ListeningItem.id))) == 2
    items = client.get("/api/v1/listening/items", headers=admin).json()["items"]
    assert sorted(i["external_id"] for i in items) == ["1001", "1004"]
    assert {i["language"] for i in items} == {"fa", "ar"}
    assert all(i["url"].startswith("https://x.com/user") and i["status"] == "new" for i in items)
    missing = client.post("/api/v1/listening/ingest", params={"query": "nope"}, json=BATCH, headers=admin)
    assert missing.status_code == 404
    agent = login(client, "sam@test.example")
    assert (
        client.post(
            "/api/v1/listening/ingest", params={"query": "brand"}, json=BATCH, headers=agent
        ).status_code
        == 403
    )


def test_items_page_with_the_cursor_every_list_uses(client: TestClient) -> None:
    admin = setup_query(client)
    client.post("/api/v1/listening/ingest", params={"query": "brand"}, json=BATCH, headers=admin)
    every = client.get("/api/v1/listening/items", headers=admin).json()
    assert every["next_cursor"] is None and len(every["items"]) == 2
    first = client.get("/api/v1/listening/items", params={"limit": 1}, headers=admin).json()
    assert first["next_cursor"] and "next_before" not in first
    rest = client.get(
        "/api/v1/listening/items", params={"limit": 1, "cursor": first["next_cursor"]}, headers=admin
    ).json()
    assert [i["id"] for i in first["items"] + rest["items"]] == [i["id"] for i in every["items"]]
    assert rest["next_cursor"] is None
    bad = client.get("/api/v1/listening/items", params={"cursor": "not-a-cursor"}, headers=admin)
    assert bad.status_code in (400, 422)


def test_convert_turns_a_post_into_a_conversation_once(client: TestClient, container: Container) -> None:
    admin = setup_query(client)
    client.post("/api/v1/listening/ingest", params={"query": "brand"}, json=BATCH, headers=admin)
    items = client.get("/api/v1/listening/items", params={"status": "new"}, headers=admin).json()["items"]
    item = next(i for i in items if i["external_id"] == "1001")
    no_account = client.post(f"/api/v1/listening/items/{item['id']}/convert", headers=admin)
    assert no_account.status_code == 422 and "listening account" in no_account.json()["detail"]

    listening_account = add_account(container, "north-listening", "listening")
    agent = login(client, "sam@test.example")
    converted = client.post(f"/api/v1/listening/items/{item['id']}/convert", headers=agent)
    assert converted.status_code == 200, converted.text
    conversation_id = converted.json()["conversation_id"]
    assert converted.json()["status"] == "converted" and conversation_id
    again = client.post(f"/api/v1/listening/items/{item['id']}/convert", json={}, headers=agent)
    assert again.json()["conversation_id"] == conversation_id
    with container.sessions() as session:
        messages = list(session.scalars(select(Message).where(Message.conversation_id == conversation_id)))
    assert [m.text for m in messages] == [item["text"]]
    assert messages[0].account_id == listening_account and messages[0].external_id == "x:1001"
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=admin).json()
    assert any(e["kind"] == "listening" for e in detail["timeline"])

    x_account = add_account(container, "north-x", "x")
    other = next(i for i in items if i["external_id"] == "1004")
    with container.sessions() as session:
        generic = session.scalars(
            select(ChannelAccount.id).where(ChannelAccount.key == "north-generic")
        ).one()
    wrong = client.post(
        f"/api/v1/listening/items/{other['id']}/convert", json={"account_id": generic}, headers=admin
    )
    assert wrong.status_code == 422
    native = client.post(f"/api/v1/listening/items/{other['id']}/convert", headers=admin).json()
    with container.sessions() as session:
        message = session.scalars(
            select(Message).where(Message.conversation_id == native["conversation_id"])
        ).one()
    # The post's own network account is preferred, with the network's own ids.
    assert message.account_id == x_account and message.external_id == "1004"

    conflict = client.post(f"/api/v1/listening/items/{item['id']}/dismiss", headers=admin)
    assert conflict.status_code == 409


def test_dismiss_and_who_may_touch_items(client: TestClient, container: Container) -> None:
    admin = setup_query(client)
    client.post("/api/v1/listening/ingest", params={"query": "brand"}, json=BATCH, headers=admin)
    item_id = client.get("/api/v1/listening/items", headers=admin).json()["items"][0]["id"]
    viewer = login(client, "vic@test.example")
    assert len(client.get("/api/v1/listening/items", headers=viewer).json()["items"]) == 2
    assert client.post(f"/api/v1/listening/items/{item_id}/dismiss", headers=viewer).status_code == 403
    assert client.post(f"/api/v1/listening/items/{item_id}/convert", headers=viewer).status_code == 403
    dismissed = client.post(f"/api/v1/listening/items/{item_id}/dismiss", headers=admin)
    assert dismissed.json()["status"] == "dismissed"
    remaining = client.get("/api/v1/listening/items", params={"status": "new"}, headers=admin).json()
    assert [i["id"] for i in remaining["items"]] != [] and item_id not in [
        i["id"] for i in remaining["items"]
    ]
    # A manager limited to the north region does not see the brand-wide query's finds.
    nora = login(client, "nora@test.example")
    assert client.get("/api/v1/listening/items", headers=nora).json()["items"] == []
    assert client.get("/api/v1/listening/queries", headers=nora).json() == []
    outside = client.put("/api/v1/listening/queries/brand", json=QUERY, headers=nora)
    assert outside.status_code in (400, 403)


def test_another_organisation_sees_and_touches_nothing(client: TestClient, container: Container) -> None:
    admin = setup_query(client)
    client.post("/api/v1/listening/ingest", params={"query": "brand"}, json=BATCH, headers=admin)
    with transaction(container.sessions) as session:
        other = Organization(key="otherco", name="Other Co")
        session.add(other)
        session.flush()
        stranger = User(org_id=other.id, email="boss@other.example", handle="boss", name="Boss", role="admin")
        session.add(stranger)
        session.flush()
        scope = Scope(org_id=other.id, user_id=stranger.id, role=Role.ADMIN, department_ids=frozenset())
    service = ListeningService(container.sessions, container.pipeline, container.triage)
    with container.sessions() as session:
        item_id = session.scalars(select(ListeningItem.id).limit(1)).one()
    assert service.items(scope).items == []
    assert service.queries(scope) == []
    from relaydesk.core.errors import NotFound

    with pytest.raises(NotFound):
        service.convert(scope, item_id)
    with pytest.raises(NotFound):
        service.dismiss(scope, item_id)
    with pytest.raises(NotFound):
        service.ingest_x_search(scope, "brand", BATCH)
    # The same name in another organisation is another query.
    from relaydesk.crisis.schemas import QueryIn

    own, created = service.put_query(scope, "brand", QueryIn(keywords=["other brand"]))
    assert created and own.keywords == ["other brand"]


# -- Instagram: hashtag media and the posts our account is tagged in --------------------------

IG_HASHTAG_PAGE: dict[str, Any] = {
    # GET /{ig-hashtag-id}/recent_media?user_id=...&fields=id,caption,media_type,permalink,timestamp
    "data": [
        {
            "id": "17880997618081620",
            "media_type": "IMAGE",
            "caption": "سفارشم از دیجی\u200cکالا هنوز نرسیده، خیلی بد است #خرید",
            "permalink": "https://www.instagram.com/p/C1a2b3c4d5e/",
            "timestamp": "2026-05-01T10:00:00+0000",
        },
        {
            "id": "17871527143187462",
            "media_type": "VIDEO",
            "caption": "sunset at the beach",
            "permalink": "https://www.instagram.com/reel/C9z8y7x6w5v/",
            "timestamp": "2026-05-01T09:00:00+0000",
        },
        {"id": "17862091234567890", "media_type": "CAROUSEL_ALBUM", "timestamp": "2026-05-01T08:00:00+0000"},
        "not media",
    ],
    "paging": {"cursors": {"after": "QVFIUmx1WTBpMGpR"}},
}
IG_TAGS_PAGE: dict[str, Any] = {
    # GET /{ig-user-id}/tags?fields=id,username,caption,media_type,permalink,timestamp
    "data": [
        {
            "id": "18012345678901234",
            "username": "sara.shop",
            "caption": "ديجيكالا لم يرسل طلبي حتى الآن",
            "media_type": "IMAGE",
            "permalink": "javascript:alert(1)",
            "timestamp": "2026-05-02T07:30:00+0000",
        }
    ]
}


def test_instagram_media_are_read_as_documented() -> None:
    found, errors = candidates_from_instagram(IG_HASHTAG_PAGE)
    assert [c.external_id for c in found] == ["17880997618081620", "17871527143187462", "17862091234567890"]
    assert errors == ["data[3]: must be an object"]
    first = found[0]
    assert (
        first.network == "instagram"
        and first.author_id == "unknown:17880997618081620"
        and first.author_handle is None
    )
    assert first.url == "https://www.instagram.com/p/C1a2b3c4d5e/" and first.posted_at is not None
    assert found[2].text == ""
    (tagged,), _ = candidates_from_instagram(IG_TAGS_PAGE)
    assert tagged.author_handle == "sara.shop" and tagged.url is None  # only instagram.com links


def test_instagram_hashtag_and_tags_pages_are_ingested_through_the_api(
    client: TestClient, container: Container
) -> None:
    admin = setup_query(client)
    url = "/api/v1/listening/ingest"
    params = {"query": "brand", "network": "instagram"}
    hashtag = client.post(url, params=params, json=IG_HASHTAG_PAGE, headers=admin)
    assert hashtag.status_code == 200, hashtag.text
    report = hashtag.json()
    assert (report["received"], report["stored"], report["skipped"], len(report["errors"])) == (3, 1, 2, 1)
    tags = client.post(url, params=params, json=IG_TAGS_PAGE, headers=admin).json()
    assert tags["stored"] == 1
    again = client.post(url, params=params, json=IG_HASHTAG_PAGE, headers=admin).json()
    assert (again["stored"], again["duplicates"]) == (0, 1)
    items = client.get("/api/v1/listening/items", headers=admin).json()["items"]
    assert {(i["network"], i["external_id"], i["author_handle"], i["language"]) for i in items} == {
        ("instagram", "17880997618081620", None, "fa"),
        ("instagram", "18012345678901234", "sara.shop", "ar"),
    }
    wrong = client.post(url, params=params, json={"data": {"id": "1"}}, headers=admin)
    assert wrong.status_code == 400 and "data" in wrong.json()["detail"]
    unknown = client.post(url, params={**params, "network": "myspace"}, json=IG_TAGS_PAGE, headers=admin)
    assert unknown.status_code == 422


def test_two_strangers_hashtag_posts_become_two_conversations(
    client: TestClient, container: Container
) -> None:
    # Hashtag media carry no author: two different people's posts must not share one contact
    # (and, through threading, one conversation with one reply target).
    admin = setup_query(client)
    page = {
        "data": [
            {"id": "17880000000000001", "caption": "دیجی‌کالا سفارشم را گم کرد", "media_type": "IMAGE"},
            {"id": "17880000000000002", "caption": "ديجيكالا لم يرسل طلبي", "media_type": "IMAGE"},
        ]
    }
    params = {"query": "brand", "network": "instagram"}
    report = client.post("/api/v1/listening/ingest", params=params, json=page, headers=admin).json()
    assert report["stored"] == 2, report
    add_account(container, "north-listening", "listening")
    converted = [
        client.post(f"/api/v1/listening/items/{item_id}/convert", headers=admin).json()
        for item_id in report["item_ids"]
    ]
    assert converted[0]["conversation_id"] != converted[1]["conversation_id"]
    with container.sessions() as session:
        contacts = {
            m.contact_id
            for m in session.scalars(
                select(Message).where(Message.conversation_id.in_([c["conversation_id"] for c in converted]))
            )
        }
    assert len(contacts) == 2
