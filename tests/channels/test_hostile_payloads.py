"""Signed webhooks with odd or hostile content: each event is stored on both databases, or
refused with a clear 4xx; one bad event never costs the rest of its delivery."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import DataError, OperationalError

from relaydesk.channels import generic, line, meta, x
from relaydesk.core.nesting import MAX_DEPTH, json_too_deep
from relaydesk.core.safetext import storable_raw, storable_text, storable_values
from relaydesk.models import IgnoredEvent, Message, StagedEvent
from relaydesk.pipeline import intake, staging
from tests.channels.accounts import add_accounts

PAGE = "104523781234567"
LINE_BOT = "Uxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
REPLACEMENT = "\ufffd"


@pytest.fixture
def accounts(container: Any) -> dict[str, int]:
    specs = {
        "fb": ("facebook", PAGE, {"app_secret": "meta-secret"}),
        "line": ("line", LINE_BOT, {"channel_secret": "line-secret"}),
        "x": ("x", "2244994945", {"consumer_secret": "x-secret"}),
        "tg": ("telegram", "7000000001", {"webhook_secret": "tg-secret"}),
        "generic": ("generic", "hostile-generic", {"webhook_secret": "generic-secret"}),
    }
    return add_accounts(container, "hostile-", specs)


def messages(container: Any, account_id: int) -> dict[str, Message]:
    with container.sessions() as session:
        rows = session.scalars(select(Message).where(Message.account_id == account_id))
        return {row.external_id: row for row in rows}


def meta_batch(texts: list[str]) -> dict[str, Any]:
    return {
        "object": "page",
        "entry": [
            {
                "id": PAGE,
                "time": 1718000000999,
                "messaging": [
                    {
                        "sender": {"id": f"customer-{n}"},
                        "recipient": {"id": PAGE},
                        "timestamp": 1718000000000 + n,
                        "message": {"mid": f"m_hostile_{n}", "text": text},
                    }
                    for n, text in enumerate(texts)
                ],
            }
        ],
    }


def line_batch(texts: list[str]) -> dict[str, Any]:
    return {
        "destination": LINE_BOT,
        "events": [
            {
                "type": "message",
                "message": {"type": "text", "id": f"line-hostile-{n}", "text": text},
                "webhookEventId": f"01HOSTILE{n}",
                "deliveryContext": {"isRedelivery": False},
                "timestamp": 1692251666727 + n,
                "source": {"type": "user", "userId": f"U-customer-{n}"},
                "mode": "active",
            }
            for n, text in enumerate(texts)
        ],
    }


def post_meta(client: TestClient, payload: Any) -> Any:
    # ensure_ascii: the body carries `\u0000` / `\ud800` escapes, as the networks send them.
    body = json.dumps(payload).encode()
    return client.post(
        "/webhooks/meta", content=body, headers={"X-Hub-Signature-256": meta.sign(body, "meta-secret")}
    )


def post_line(client: TestClient, account_id: int, payload: Any) -> Any:
    body = json.dumps(payload).encode()
    headers = {"X-Line-Signature": line.signature(body, "line-secret")}
    return client.post(f"/webhooks/line/{account_id}", content=body, headers=headers)


@pytest.mark.parametrize("bad", ["a\u0000b", "a\ud800b"], ids=["nul", "lone-surrogate"])
def test_meta_batch_with_a_bad_middle_event_stores_all_three(
    app_client: TestClient, container: Any, accounts: dict[str, int], bad: str
) -> None:
    response = post_meta(app_client, meta_batch(["first", bad, "third"]))
    assert response.status_code == 200, response.text
    stored = messages(container, accounts["fb"])
    assert sorted(stored) == ["m_hostile_0", "m_hostile_1", "m_hostile_2"]
    assert stored["m_hostile_0"].text == "first" and stored["m_hostile_2"].text == "third"
    assert stored["m_hostile_1"].text == f"a{REPLACEMENT}b"
    # The raw event keeps what was sent, as a visible escape (PostgreSQL cannot hold U+0000).
    raw_text = stored["m_hostile_1"].raw["message"]["text"]
    assert raw_text == ("a\\u0000b" if "\u0000" in bad else "a\\ud800b")
    # A redelivery (networks retry) maps onto the same rows.
    again = post_meta(app_client, meta_batch(["first", bad, "third"]))
    assert again.status_code == 200
    assert all(item["duplicate"] for item in again.json()["accepted"])
    assert len(messages(container, accounts["fb"])) == 3


@pytest.mark.parametrize("bad", ["a\u0000b", "a\ud800b"], ids=["nul", "lone-surrogate"])
def test_line_batch_with_a_bad_middle_event_stores_all_three(
    app_client: TestClient, container: Any, accounts: dict[str, int], bad: str
) -> None:
    response = post_line(app_client, accounts["line"], line_batch(["first", bad, "third"]))
    assert response.status_code == 200, response.text
    stored = messages(container, accounts["line"])
    assert sorted(stored) == ["line-hostile-0", "line-hostile-1", "line-hostile-2"]
    assert stored["line-hostile-1"].text == f"a{REPLACEMENT}b"


def test_names_and_ids_with_nul_or_surrogates_are_stored_safely(
    app_client: TestClient, container: Any, accounts: dict[str, int]
) -> None:
    payload = line_batch(["hello"])
    event = payload["events"][0]
    event["message"]["id"] = "id\u0000with\ud800junk"
    event["source"]["userId"] = "U\u0000user"
    event["extra\u0000key"] = "\udfff"
    response = post_line(app_client, accounts["line"], payload)
    assert response.status_code == 200, response.text
    stored = messages(container, accounts["line"])
    assert list(stored) == [f"id{REPLACEMENT}with{REPLACEMENT}junk"]
    assert stored[f"id{REPLACEMENT}with{REPLACEMENT}junk"].raw["extra\\u0000key"] == "\\udfff"


def _refuse_staging(monkeypatch: pytest.MonkeyPatch, external_id: str, error: Exception) -> list[int]:
    """Make the intake queue refuse any commit holding this event (`calls` counts the attempts)."""
    original = staging.write
    calls: list[int] = []

    def write(sessions: Any, groups: list[Any]) -> Any:
        if any(item.event.external_id == external_id for group in groups for item in group):
            calls.append(1)
            raise error
        return original(sessions, groups)

    monkeypatch.setattr(staging, "write", write)
    return calls


def _fail_storing(monkeypatch: pytest.MonkeyPatch, external_id: str, error: Exception) -> list[int]:
    """Make turning one accepted event into a message fail with `error`, each time."""
    original = intake.message_values
    calls: list[int] = []

    def message_values(account: Any, event: Any, sent_at: Any, now: Any) -> Any:
        if event.external_id == external_id:
            calls.append(1)
            raise error
        return original(account, event, sent_at, now)

    monkeypatch.setattr(intake, "message_values", message_values)
    return calls


def test_an_event_the_intake_queue_cannot_hold_costs_only_itself(
    app_client: TestClient, container: Any, accounts: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # What PostgreSQL answers for a value it cannot hold (e.g. an id past its column's length).
    refused = DataError("INSERT INTO staged_events ...", {}, Exception("value too long"))
    calls = _refuse_staging(monkeypatch, "m_hostile_1", refused)
    response = post_meta(app_client, meta_batch(["first", "second", "third"]))
    assert response.status_code == 200, response.text
    assert calls == [1, 1]  # the delivery's commit, then the event alone
    assert sorted(messages(container, accounts["fb"])) == ["m_hostile_0", "m_hostile_2"]
    answer = response.json()
    assert "event m_hostile_1: could not be stored (DataError)" in answer["errors"]
    assert [a["external_id"] for a in answer["accepted"]] == ["m_hostile_0", "m_hostile_2"]
    # The refused event is kept raw for an admin, under its account.
    with container.sessions() as session:
        kept = session.scalars(
            select(IgnoredEvent).where(IgnoredEvent.id.in_(answer["ignored_events"]))
        ).all()
    assert [(row.account_id, row.raw["message"]["mid"]) for row in kept] == [(accounts["fb"], "m_hostile_1")]
    assert "could not be stored" in kept[0].reason


def test_an_accepted_event_that_cannot_become_a_message_is_set_aside_not_blocking(
    app_client: TestClient, container: Any, accounts: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _fail_storing(monkeypatch, "m_hostile_1", ValueError("a parser bug"))
    response = post_meta(app_client, meta_batch(["first", "second", "third"]))
    # Accepted at the door (stored durably); storing it as a message failed afterwards.
    assert response.status_code == 200, response.text
    assert [a["external_id"] for a in response.json()["accepted"]] == [
        "m_hostile_0",
        "m_hostile_1",
        "m_hostile_2",
    ]
    assert calls == [1, 1]  # the delivery's events stored together, then the event alone
    assert sorted(messages(container, accounts["fb"])) == ["m_hostile_0", "m_hostile_2"]
    with container.sessions() as session:
        kept = session.scalars(select(IgnoredEvent)).all()
        staged = {row.external_id: row for row in session.scalars(select(StagedEvent))}
    assert [(row.account_id, row.kind, row.raw["message"]["mid"]) for row in kept] == [
        (accounts["fb"], "facebook:dm", "m_hostile_1")
    ]
    assert kept[0].reason == "not accepted: could not be stored (ValueError)"
    assert (
        staged["m_hostile_1"].state == "dead"
        and staged["m_hostile_1"].last_error == "ValueError: a parser bug"
    )
    assert {staged[k].state for k in ("m_hostile_0", "m_hostile_2")} == {"done"}
    # The queue goes on: a later delivery is stored as usual.
    monkeypatch.undo()
    later = post_meta(app_client, meta_batch(["a", "b", "c", "d"]))
    assert later.json()["accepted"][3]["message_id"] is not None


def test_a_database_outage_at_the_door_is_answered_503_and_nothing_is_half_kept(
    app_client: TestClient, container: Any, accounts: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not the event's fault: answer 503 so the network redelivers; nothing is kept as "ignored".
    down = OperationalError("INSERT INTO staged_events ...", {}, Exception("server closed the connection"))
    _refuse_staging(monkeypatch, "line-hostile-1", down)
    payload = line_batch(["first", "second", "third"])
    response = post_line(app_client, accounts["line"], payload)
    assert response.status_code == 503
    assert messages(container, accounts["line"]) == {}
    monkeypatch.undo()
    again = post_line(app_client, accounts["line"], payload)
    assert again.status_code == 200, again.text
    assert [a["duplicate"] for a in again.json()["accepted"]] == [False, False, False]
    assert len(messages(container, accounts["line"])) == 3
    with container.sessions() as session:
        assert session.scalars(select(IgnoredEvent)).all() == []


def test_a_database_outage_after_the_door_leaves_the_events_waiting(
    app_client: TestClient, container: Any, accounts: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    down = OperationalError("INSERT INTO messages ...", {}, Exception("server closed the connection"))
    _fail_storing(monkeypatch, "line-hostile-1", down)
    payload = line_batch(["first", "second", "third"])
    response = post_line(app_client, accounts["line"], payload)
    # Stored in the intake queue: the network must not redeliver; the workers retry.
    assert response.status_code == 200, response.text
    # Events before it may be messages already (a worker commits in short transactions).
    assert [a["message_id"] for a in response.json()["accepted"]][1:] == [None, None]
    assert set(messages(container, accounts["line"])) <= {"line-hostile-0"}
    monkeypatch.undo()
    container.pipeline.drain()
    assert sorted(messages(container, accounts["line"])) == [f"line-hostile-{n}" for n in range(3)]
    with container.sessions() as session:
        assert session.scalars(select(IgnoredEvent)).all() == []
        assert {row.state for row in session.scalars(select(StagedEvent))} == {"done"}


def test_storable_text_and_raw_are_idempotent_and_keep_good_text() -> None:
    good = "سلام ขอบคุณ 😀 a\\u0000b"  # a literal backslash-u stays as it is
    assert storable_text(good) == good and storable_raw({"t": good}) == {"t": good}
    assert storable_text("\x00\ud800x\udfff") == "\ufffd\ufffdx\ufffd"
    raw = storable_raw({"k\x00": ["\ud800", float("nan"), float("-inf"), 1.5, None]})
    assert raw == {"k\\u0000": ["\\ud800", "NaN", "-Infinity", 1.5, None]}
    assert storable_raw(raw) == raw
    assert storable_values({"name": "a\x00"}) == {"name": "a\ufffd"}


def nested(depth: int) -> bytes:
    """A JSON object whose `deep` field nests `depth` levels in all (arrays and objects)."""
    inner = "[" * (depth - 2) + "]" * (depth - 2)
    return ('{"object": "page", "entry": [], "deep": {"a": ' + inner + "}}").encode()


def signed_request(network: str, account_id: int, body: bytes) -> tuple[str, dict[str, str]]:
    if network == "meta":
        return "/webhooks/meta", {"X-Hub-Signature-256": meta.sign(body, "meta-secret")}
    if network == "x":
        return "/webhooks/x", {x.SIGNATURE_HEADER: x.signature(body, "x-secret")}
    if network == "line":
        return f"/webhooks/line/{account_id}", {line.SIGNATURE_HEADER: line.signature(body, "line-secret")}
    if network == "telegram":
        return f"/webhooks/telegram/{account_id}", {"X-Telegram-Bot-Api-Secret-Token": "tg-secret"}
    return f"/webhooks/generic/{account_id}", {generic.SIGNATURE_HEADER: generic.sign(body, "generic-secret")}


WEBHOOKS = {"meta": "fb", "x": "x", "line": "line", "telegram": "tg", "generic": "generic"}


@pytest.mark.parametrize("network", sorted(WEBHOOKS))
def test_deeply_nested_json_is_refused_with_400_on_every_webhook(
    app_client: TestClient, container: Any, accounts: dict[str, int], network: str
) -> None:
    for depth in (MAX_DEPTH + 1, 100_000):
        body = nested(depth)
        path, headers = signed_request(network, accounts[WEBHOOKS[network]], body)
        response = app_client.post(path, content=body, headers=headers)
        assert response.status_code == 400, (depth, response.text)
        assert response.json()["detail"] == f"the JSON body nests deeper than {MAX_DEPTH} levels"
    # At the bound it is an ordinary body (here one with nothing we act on).
    body = nested(MAX_DEPTH)
    path, headers = signed_request(network, accounts[WEBHOOKS[network]], body)
    assert app_client.post(path, content=body, headers=headers).status_code < 500
    with container.sessions() as session:
        assert session.scalars(select(Message)).all() == []


@pytest.mark.parametrize("network", sorted(WEBHOOKS))
def test_an_unsigned_deep_body_is_refused_before_anything_parses_it(
    app_client: TestClient, accounts: dict[str, int], network: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = nested(100_000)
    loads = json.loads

    def no_parsing(text: Any, *args: Any, **kwargs: Any) -> Any:
        assert text != body, "an unsigned body was parsed"
        return loads(text, *args, **kwargs)

    monkeypatch.setattr(json, "loads", no_parsing)
    path, headers = signed_request(network, accounts[WEBHOOKS[network]], b"another body")
    if network == "telegram":  # a secret token, not a signature of the body
        headers = {"X-Telegram-Bot-Api-Secret-Token": "not-the-secret"}
    response = app_client.post(path, content=body, headers=headers)
    assert response.status_code == 403, response.text


@given(
    st.recursive(
        st.none() | st.text(alphabet='[]{}"\\ab'),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(alphabet='[]{}"\\ab'), inner),
        max_leaves=30,
    )
)
@settings(deadline=None, max_examples=300)
def test_json_depth_is_measured_exactly_whatever_the_strings_hold(value: Any) -> None:
    def depth(v: Any) -> int:
        children = list(v.values()) if isinstance(v, dict) else v if isinstance(v, list) else None
        return 0 if children is None else 1 + max((depth(c) for c in children), default=0)

    for ascii_only in (True, False):
        body = json.dumps(value, ensure_ascii=ascii_only).encode()
        assert not json_too_deep(body, depth(value))
        if depth(value) > 0:
            assert json_too_deep(body, depth(value) - 1)
