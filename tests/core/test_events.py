"""Domain events: each one is published and heard (or awaited by the push), strict, and transactional."""

from __future__ import annotations

import ast
import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from relaydesk.core import events
from relaydesk.core.events import DomainEvent, EventHub, MessageAccepted, hub, publish_on_commit
from relaydesk.core.live import signal_fields
from relaydesk.db import make_engine

SRC = Path(__file__).resolve().parents[2] / "src" / "relaydesk"
README = SRC / "README.md"
EVENT_TYPES = sorted(
    (
        value
        for value in vars(events).values()
        if isinstance(value, type)
        and issubclass(value, DomainEvent)
        and value is not DomainEvent
        and value.__module__ == events.__name__
    ),
    key=lambda cls: cls.__name__,
)
NAMES = {cls.__name__ for cls in EVENT_TYPES}


@functools.cache
def _calls() -> tuple[ast.Call, ...]:
    return tuple(
        node
        for path in sorted(SRC.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
    )


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _names_in(nodes: list[ast.expr]) -> set[str]:
    return {n.id for node in nodes for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in NAMES}


@functools.cache
def published_in_src() -> set[str]:
    """Event classes built inside a `publish_on_commit(...)` or `bus.publish(...)` call."""
    found: set[str] = set()
    for call in _calls():
        if _called_name(call) in ("publish_on_commit", "publish", "publish_now"):
            found |= _names_in(call.args)
    return found


@functools.cache
def subscribed_in_src() -> set[str]:
    """Event classes some listener subscribes to (on the hub or the bus)."""
    found: set[str] = set()
    for call in _calls():
        if _called_name(call) in ("subscribe", "subscribe_in_transaction") and call.args:
            found |= _names_in(call.args[:1])
    return found


def awaiting_push() -> set[str]:
    """Events the map of the source names as published for the realtime push to consume later."""
    text = README.read_text(encoding="utf-8")
    if "Published but not yet listened to" not in text:
        return set()
    paragraph = text.split("Published but not yet listened to", 1)[1].split("\n\n", 1)[0]
    return set(re.findall(r"`(\w+)`", paragraph)) & NAMES


def heard_by_the_live_push(cls: type[DomainEvent]) -> bool:
    """The live feed listens to every event and keeps those that name a conversation or a person."""
    listens = "hub.subscribe(DomainEvent, FEED.publish)" in (SRC / "core" / "live.py").read_text(
        encoding="utf-8"
    )
    return listens and signal_fields(cls(**sample(cls))) is not None


def sample(cls: type[DomainEvent]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    examples: dict[Any, Any] = {int: 1, str: "x", list[int]: [1], list[str]: ["status"], int | None: 2}
    for name, field in cls.model_fields.items():
        if field.is_required():
            out[name] = examples[field.annotation]
    return out


def test_the_scan_finds_the_events() -> None:
    assert {"WorkAvailable", "MessageAccepted", "SlaBreach", "NotificationCreated"} <= NAMES


@pytest.mark.parametrize("cls", EVENT_TYPES, ids=lambda cls: cls.__name__)
def test_every_event_is_published_somewhere(cls: type[DomainEvent]) -> None:
    assert cls.__name__ in published_in_src(), f"{cls.__name__} is defined but never published: remove it"


@pytest.mark.parametrize("cls", EVENT_TYPES, ids=lambda cls: cls.__name__)
def test_every_event_is_listened_to_or_awaits_the_push(cls: type[DomainEvent]) -> None:
    heard, awaited = set(subscribed_in_src()), awaiting_push()
    if heard_by_the_live_push(cls):
        heard.add(cls.__name__)
    assert cls.__name__ in heard | awaited, (
        f"nobody listens to {cls.__name__}: subscribe to it, or name it in src/relaydesk/README.md "
        "under 'Published but not yet listened to'"
    )
    assert not (cls.__name__ in heard and cls.__name__ in awaited), (
        f"{cls.__name__} is listened to now: take it out of the README's list of awaited events"
    )


@pytest.mark.parametrize("cls", EVENT_TYPES, ids=lambda cls: cls.__name__)
def test_extra_fields_are_refused_and_json_round_trips(cls: type[DomainEvent]) -> None:
    event = cls(**sample(cls))
    with pytest.raises(ValidationError, match="extra"):
        cls(**sample(cls), unexpected=1)
    with pytest.raises(ValidationError, match="extra"):
        cls.model_validate_json(json.dumps({**event.model_dump(mode="json"), "unexpected": 1}))
    # What the NATS bus does with an event between processes.
    assert cls.model_validate_json(event.model_dump_json()) == event


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'events.db'}")
    yield eng
    eng.dispose()


@pytest.fixture
def seen() -> Iterator[list[int]]:
    heard: list[int] = []

    def listener(event: MessageAccepted) -> None:
        heard.append(event.message_id)

    hub.subscribe(MessageAccepted, listener)
    yield heard
    hub.unsubscribe(MessageAccepted, listener)


def accepted(message_id: int) -> MessageAccepted:
    return MessageAccepted(org_id=1, conversation_id=1, message_id=message_id)


def test_a_rolled_back_transaction_publishes_nothing(engine: Engine, seen: list[int]) -> None:
    with Session(engine) as session:
        publish_on_commit(session, accepted(1))
        assert seen == []  # nothing before the commit
        session.rollback()
        session.commit()
    assert seen == []
    with Session(engine) as session, session.begin():
        publish_on_commit(session, accepted(2))
    assert seen == [2]


def test_a_failing_unit_of_work_publishes_nothing(engine: Engine, seen: list[int]) -> None:
    with pytest.raises(RuntimeError), Session(engine) as session, session.begin():
        publish_on_commit(session, accepted(3))
        raise RuntimeError("the unit of work fails")
    assert seen == []


def test_a_savepoint_rolled_back_drops_only_its_own_events(engine: Engine, seen: list[int]) -> None:
    with Session(engine) as session:
        publish_on_commit(session, accepted(1))
        with session.begin_nested():
            publish_on_commit(session, accepted(2))
        assert seen == []  # a released savepoint is not the commit
        with pytest.raises(RuntimeError), session.begin_nested():
            publish_on_commit(session, accepted(3))
            with session.begin_nested():
                publish_on_commit(session, accepted(4))
            raise RuntimeError("one message of the batch fails")
        publish_on_commit(session, accepted(5))
        session.commit()
    assert seen == [1, 2, 5]


def test_a_failing_listener_does_not_stop_the_others() -> None:
    on = EventHub()
    heard: list[str] = []

    def broken(_event: MessageAccepted) -> None:
        raise ValueError("listener bug")

    on.subscribe(MessageAccepted, broken)
    on.subscribe(DomainEvent, lambda event: heard.append(type(event).__name__))
    on.dispatch(accepted(1))
    assert heard == ["MessageAccepted"]
