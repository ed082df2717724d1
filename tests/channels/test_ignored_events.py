"""Unknown and unparsable webhook parts are kept raw (ignored_events), listed, and shown to admins."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from relaydesk.channels import generic, ignored, line, meta, x
from relaydesk.channels.check import check_accounts
from relaydesk.db import transaction
from relaydesk.models import IgnoredEvent, Location, Message, User
from tests.api.conftest import login
from tests.channels.accounts import add_accounts

PAGE = "104523781234567"
IG_USER = "17841400123456789"
WA_PHONE = "106540352242922"
X_USER = "2244994945"
LINE_BOT = "Uxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"


@pytest.fixture
def accounts(container: Any) -> dict[str, int]:
    specs = {
        "fb": ("facebook", PAGE, {"app_secret": "meta-secret"}),
        "ig": ("instagram", IG_USER, {"app_secret": "meta-secret"}),
        "wa": ("whatsapp", WA_PHONE, {"app_secret": "meta-secret"}),
        "x": ("x", X_USER, {"consumer_secret": "x-secret"}),
        "tg": ("telegram", "7000000001", {"webhook_secret": "tg-secret"}),
        "line": ("line", LINE_BOT, {"channel_secret": "line-secret"}),
        "gen": ("generic", None, {"webhook_secret": "gen-secret"}),
    }
    return add_accounts(container, "ign-", specs)


def kept(container: Any) -> list[IgnoredEvent]:
    with container.sessions() as session:
        return list(session.scalars(select(IgnoredEvent).order_by(IgnoredEvent.id)))


def messages(container: Any, account_id: int) -> int:
    with container.sessions() as session:
        return int(
            session.scalar(select(func.count(Message.id)).where(Message.account_id == account_id)) or 0
        )


def post_meta(client: TestClient, payload: dict[str, Any]) -> Any:
    body = json.dumps(payload).encode()
    return client.post(
        "/webhooks/meta", content=body, headers={"X-Hub-Signature-256": meta.sign(body, "meta-secret")}
    )


def post_x(client: TestClient, payload: dict[str, Any]) -> Any:
    body = json.dumps(payload).encode()
    return client.post(
        "/webhooks/x", content=body, headers={"x-twitter-webhooks-signature": x.signature(body, "x-secret")}
    )


def post_telegram(client: TestClient, account_id: int, payload: dict[str, Any]) -> Any:
    return client.post(
        f"/webhooks/telegram/{account_id}",
        content=json.dumps(payload).encode(),
        headers={"X-Telegram-Bot-Api-Secret-Token": "tg-secret"},
    )


def post_line(client: TestClient, account_id: int, payload: dict[str, Any]) -> Any:
    body = json.dumps(payload).encode()
    return client.post(
        f"/webhooks/line/{account_id}",
        content=body,
        headers={"X-Line-Signature": line.signature(body, "line-secret")},
    )


def post_generic(client: TestClient, account_id: int, payload: dict[str, Any]) -> Any:
    body = json.dumps(payload).encode()
    return client.post(
        f"/webhooks/generic/{account_id}", content=body, headers=generic.signed_headers(body, "gen-secret")
    )


# -- pure: paths and kinds ---------------------------------------------------------------------


def test_a_note_path_resolves_to_the_event_around_it() -> None:
    payload = {"object": "page", "entry": [{"id": "1", "changes": [{"field": "x", "value": {"a": 1}}]}]}
    assert ignored.resolve(payload, "entry[0].changes[0]") == (
        ("entry", 0, "changes", 0),
        {"field": "x", "value": {"a": 1}},
    )
    # A missing field or a scalar names a field of an event: the event (or the body) is kept.
    assert ignored.resolve({"messages": [{"id": "m"}]}, "messages[0].text")[0] == ("messages", 0)
    assert ignored.resolve(payload, "object") == ((), payload)
    assert ignored.resolve(payload, "update") == ((), payload)
    assert ignored.note_path("object: 'user' is not a Meta object we handle") == "object"
    assert ignored.note_path("echo of m_1") == ""


def test_kinds_are_short_identifiers_never_free_text() -> None:
    change = {"field": "feed", "value": {"item": "share", "message": "hello <b>there</b>"}}
    assert ignored.kind_of("facebook", ("entry", 0, "changes", 0), change) == "facebook:changes:feed:share"
    assert ignored.kind_of("telegram", (), {"update_id": 1, "poll": {}}) == "telegram:poll"
    assert ignored.kind_of("line", ("events", 3), {"type": "drop table; --"}) == "line:events:drop_table_--"
    assert ignored.kind_of("x", ("favorite_events",), [{"id": "1"}]) == "x:favorite_events"


# -- one unknown event per network: stored raw, 200, listed ------------------------------------


def test_meta_unknown_events_of_each_object_are_stored_raw_per_account(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    page = {
        "object": "page",
        "entry": [
            {
                "id": PAGE,
                "time": 1700000000,
                "changes": [{"field": "ratings", "value": {"reviewer_id": "5", "review_text": "meh"}}],
            }
        ],
    }
    insta = {
        "object": "instagram",
        "entry": [
            {
                "id": IG_USER,
                "time": 1700000000,
                "changes": [{"field": "story_insights", "value": {"reach": 3}}],
            }
        ],
    }
    whatsapp = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "15550783881", "phone_number_id": WA_PHONE},
                            "messages": [
                                {
                                    "from": "16505551234",
                                    "id": "wamid.X1",
                                    "timestamp": "1700000000",
                                    "type": "order_v9",
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    for payload, key, kind in (
        (page, "fb", "facebook:changes:ratings"),
        (insta, "ig", "instagram:changes:story_insights"),
        (whatsapp, "wa", "whatsapp:messages:order_v9"),
    ):
        response = post_meta(app_client, payload)
        assert response.status_code == 200, response.text
        assert response.json()["ignored"] and response.json()["ignored_events"]
        row = kept(container)[-1]
        assert (row.account_id, row.network, row.kind) == (accounts[key], key_network(key), kind)
        assert row.id in response.json()["ignored_events"]
    rows = kept(container)
    assert rows[0].raw == page["entry"][0]["changes"][0]  # type: ignore[index]
    assert rows[2].raw == whatsapp["entry"][0]["changes"][0]["value"]["messages"][0]  # type: ignore[index]
    assert all(row.org_id is not None for row in rows)


def key_network(key: str) -> str:
    return {"fb": "facebook", "ig": "instagram", "wa": "whatsapp"}[key]


def test_a_meta_object_we_do_not_handle_goes_to_the_org_of_the_signing_app(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    payload = {"object": "user", "entry": [{"id": "44", "changes": [{"field": "email"}]}]}
    response = post_meta(app_client, payload)
    assert response.status_code == 200 and len(response.json()["ignored_events"]) == 1
    (row,) = kept(container)
    assert row.network == "meta" and row.account_id is None and row.org_id is not None
    assert row.raw == payload and row.kind == "meta:user"


def test_x_unknown_event_type_is_stored_raw(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    favorite = {"id": "a7ba59eab0bfcba386f7acedac279542", "created_at": "Mon Mar 26 16:33:26 +0000 2018"}
    response = post_x(app_client, {"for_user_id": X_USER, "favorite_events": [favorite]})
    assert response.status_code == 200 and response.json()["ignored"] == ["favorite_events"]
    (row,) = kept(container)
    assert (row.account_id, row.kind, row.raw) == (accounts["x"], "x:favorite_events", [favorite])


def test_telegram_unknown_update_is_stored_raw(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    update = {"update_id": 10001, "message_reaction": {"chat": {"id": 5, "type": "private"}, "message_id": 3}}
    response = post_telegram(app_client, accounts["tg"], update)
    assert response.status_code == 200 and response.json()["ignored"] == ["update: message_reaction"]
    (row,) = kept(container)
    assert (row.account_id, row.kind, row.raw) == (accounts["tg"], "telegram:message_reaction", update)
    assert "ignored" in row.reason


def test_line_unknown_event_is_stored_raw(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    event = {
        "type": "somethingNew",
        "timestamp": 1,
        "source": {"type": "user", "userId": "U1"},
        "mode": "active",
    }
    response = post_line(app_client, accounts["line"], {"destination": LINE_BOT, "events": [event]})
    assert response.status_code == 200 and response.json()["ignored"]
    (row,) = kept(container)
    assert (row.account_id, row.kind, row.raw) == (accounts["line"], "line:events:somethingNew", event)


def test_generic_unknown_kind_is_stored_raw_and_the_valid_message_kept(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    good = {"id": "r-1", "author": {"id": "a1"}, "text": "great shop"}
    odd = {"id": "r-2", "author": {"id": "a2"}, "text": "hi", "kind": "hologram"}
    response = post_generic(app_client, accounts["gen"], {"messages": [good, odd]})
    assert response.status_code == 202, response.text
    assert response.json()["errors"] and len(response.json()["accepted"]) == 1
    (row,) = kept(container)
    assert (row.account_id, row.raw) == (accounts["gen"], odd) and row.reason.startswith("did not parse")
    assert messages(container, accounts["gen"]) == 1


# -- half-parsing batches ----------------------------------------------------------------------


def test_half_parsing_meta_batch_keeps_the_good_events_and_stores_each_bad_part(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    good = {
        "sender": {"id": "6001"},
        "recipient": {"id": PAGE},
        "timestamp": 1700000000000,
        "message": {"mid": "m_good", "text": "hello"},
    }
    broken = {
        "sender": {"id": "6002"},
        "recipient": {"id": PAGE},
        "timestamp": 1700000000000,
        "message": {"text": "no mid"},
    }
    payload = {
        "object": "page",
        "entry": [{"id": PAGE, "time": 1700000000, "messaging": [good, broken, "junk"]}],
    }
    response = post_meta(app_client, payload)
    assert response.status_code == 200
    body = response.json()
    assert [a["external_id"] for a in body["accepted"]] == ["m_good"] and len(body["errors"]) == 2
    rows = kept(container)
    assert [row.raw for row in rows] == [broken, "junk"]
    assert all(row.reason.startswith("did not parse") for row in rows)
    assert messages(container, accounts["fb"]) == 1
    # The same delivery again: no duplicate messages, no duplicate ignored rows.
    again = post_meta(app_client, payload)
    assert again.json()["ignored_events"] == body["ignored_events"] and len(kept(container)) == 2


def test_half_parsing_line_and_telegram_batches(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    good = {
        "type": "message",
        "timestamp": 1692251674000,
        "source": {"type": "user", "userId": "U4af4980629aaaaaaaaaaaaaaaaaaaaaa"},
        "replyToken": "t1",
        "mode": "active",
        "webhookEventId": "01H810YECXQQZ37VAXPF6H9E71",
        "message": {"id": "468789577898262531", "type": "text", "text": "สวัสดี"},
    }
    bad = {"type": "message", "timestamp": 1692251675000, "source": {"type": "user", "userId": "U9"}}
    response = post_line(app_client, accounts["line"], {"destination": LINE_BOT, "events": [good, bad]})
    assert response.status_code == 200 and len(response.json()["accepted"]) == 1
    assert [row.raw for row in kept(container)] == [bad]

    updates = {
        "ok": True,
        "result": [
            {
                "update_id": 1,
                "message": {
                    "message_id": 1,
                    "date": 1700000000,
                    "chat": {"id": 5, "type": "private"},
                    "from": {"id": 5, "is_bot": False, "first_name": "A"},
                    "text": "hi",
                },
            },
            {"update_id": 2, "message": {"text": "no chat"}},
        ],
    }
    response = post_telegram(app_client, accounts["tg"], updates)
    assert response.status_code == 200 and len(response.json()["accepted"]) == 1
    assert kept(container)[-1].raw == {"text": "no chat"}


def test_reactions_and_events_for_pages_we_do_not_manage_are_kept(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    reaction = {
        "sender": {"id": "6001"},
        "recipient": {"id": PAGE},
        "timestamp": 1700000000000,
        "reaction": {"mid": "m_1", "action": "react", "reaction": "love", "emoji": "❤"},
    }
    stranger = {
        "sender": {"id": "6003"},
        "recipient": {"id": "999"},
        "timestamp": 1700000000000,
        "message": {"mid": "m_x", "text": "hi"},
    }
    payload = {
        "object": "page",
        "entry": [
            {"id": PAGE, "time": 1700000000, "messaging": [reaction]},
            {"id": "999", "time": 1700000000, "messaging": [stranger]},
        ],
    }
    response = post_meta(app_client, payload)
    assert response.status_code == 200 and len(response.json()["ignored_events"]) == 2
    rows = kept(container)
    assert {(row.kind, row.account_id) for row in rows} == {
        ("facebook:reaction", accounts["fb"]),
        ("facebook:dm", None),
    }
    assert all(row.org_id is not None for row in rows)


# -- what is stored and logged -----------------------------------------------------------------


def test_no_secret_or_header_is_stored_and_logs_name_only_the_kind(
    app_client: TestClient, container: Any, accounts: dict[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    secret_text = "my card is 4111 1111 1111 1111"
    update = {"update_id": 7, "business_message": {"text": secret_text, "chat": {"id": 1}}}
    with caplog.at_level("INFO"):
        response = post_telegram(app_client, accounts["tg"], update)
    assert response.status_code == 200
    (row,) = kept(container)
    stored = json.dumps(row.raw)
    assert "tg-secret" not in stored and "Secret-Token" not in stored
    assert any("telegram:business_message" in r.getMessage() for r in caplog.records)
    assert not any(secret_text in r.getMessage() for r in caplog.records)


def test_a_failure_to_store_never_fails_the_webhook(
    app_client: TestClient, container: Any, accounts: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(ignored, "_already_stored", broken)
    response = post_telegram(app_client, accounts["tg"], {"update_id": 8, "poll": {"id": "1"}})
    assert response.status_code == 200 and response.json()["ignored_events"] == []
    assert kept(container) == []


# -- the admin API and the check ---------------------------------------------------------------


def test_admins_list_their_org_events_and_agents_may_not(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    post_telegram(app_client, accounts["tg"], {"update_id": 9, "poll": {"id": "1"}})
    post_x(app_client, {"for_user_id": X_USER, "follow_events": [{"type": "follow"}]})
    admin = login(app_client, "admin@test.example")
    listed = app_client.get("/api/v1/webhook-events", headers=admin)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [i["network"] for i in items] == ["x", "telegram"]  # newest first
    assert (
        items[1]["raw"] == {"update_id": 9, "poll": {"id": "1"}} and items[1]["account_id"] == accounts["tg"]
    )
    only_x = app_client.get(
        "/api/v1/webhook-events", params={"network": "x", "limit": 1}, headers=admin
    ).json()
    assert [i["kind"] for i in only_x["items"]] == ["x:follow_events"] and only_x["next_before"] == items[0][
        "id"
    ]
    agent = login(app_client, "sam@test.example")
    assert app_client.get("/api/v1/webhook-events", headers=agent).status_code == 403
    assert app_client.get("/api/v1/webhook-events").status_code == 401
    assert app_client.get("/api/v1/webhook-events", params={"limit": 0}, headers=admin).status_code == 422
    huge = {"before": "9" * 20}
    assert app_client.get("/api/v1/webhook-events", params=huge, headers=admin).status_code == 422


def test_rows_of_another_org_are_not_listed(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    with transaction(container.sessions) as session:
        session.add(
            IgnoredEvent(org_id=None, network="meta", kind="meta:user", reason="ignored", raw={"a": 1})
        )
    admin = login(app_client, "admin@test.example")
    assert app_client.get("/api/v1/webhook-events", headers=admin).json()["items"] == []


def test_an_admin_of_one_region_sees_only_its_accounts_events(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    # The raw parts carry customer text: an admin limited to the south region must not read what
    # came in for the north shop's accounts (scoped in the query, like every other read).
    post_telegram(app_client, accounts["tg"], {"update_id": 12, "poll": {"id": "1"}})
    with transaction(container.sessions) as session:
        session.add(IgnoredEvent(org_id=None, network="meta", kind="meta:user", reason="ignored", raw={}))
        admin_row = session.scalars(select(User).where(User.email == "admin@test.example")).one()
        org_id = admin_row.org_id
        session.add(IgnoredEvent(org_id=org_id, network="meta", kind="meta:page", reason="ignored", raw={}))
        admin_row.location_id = session.scalars(select(Location.id).where(Location.key == "south")).one()
    admin = login(app_client, "admin@test.example")
    listed = app_client.get("/api/v1/webhook-events", headers=admin)
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"] == []
    with transaction(container.sessions) as session:
        row = session.scalars(select(User).where(User.email == "admin@test.example")).one()
        row.location_id = session.scalars(select(Location.id).where(Location.key == "north")).one()
    items = app_client.get("/api/v1/webhook-events", headers=admin).json()["items"]
    assert [i["account_id"] for i in items] == [accounts["tg"]]


def test_channels_check_counts_the_ignored_events(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    post_telegram(app_client, accounts["tg"], {"update_id": 11, "poll": {"id": "1"}})
    with container.sessions() as session:
        found = {c.key: c for c in check_accounts(session, container.box, "https://desk.example")}
    assert found["ign-tg"].ignored_events == 1 and found["ign-line"].ignored_events == 0
