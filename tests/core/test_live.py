"""The live feed: signals reach only pages allowed to see them, reconnects catch up, heartbeats."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterable

from relaydesk.core.events import ConversationResolved, MessageAccepted, NotificationCreated, SlaBreach
from relaydesk.core.live import LiveFeed, signal_fields


def _frames(text: list[str]) -> list[dict[str, object]]:
    out = []
    for frame in text:
        data = [line[6:] for line in frame.splitlines() if line.startswith("data: ")]
        if data:
            out.append(json.loads(data[0]))
    return out


async def _take(
    feed: LiveFeed,
    count: int,
    *,
    visible: Iterable[int] = (1, 2),
    last_event_id: str | None = None,
    user_id: int = 7,
    after_start: list[object] | None = None,
) -> list[str]:
    allowed = set(visible)
    frames: list[str] = []
    stream = feed.stream(1, user_id, last_event_id, lambda ids: set(ids) & allowed, heartbeat=0.05)
    started = False
    async for frame in stream:
        if not started:
            started = True
            for event in after_start or []:
                # Published from another thread, as a worker's commit would.
                threading.Thread(target=feed.publish, args=(event,)).start()
        if frame.startswith("id:"):
            frames.append(frame)
        if len(frames) >= count:
            break
    await stream.aclose()
    return frames


def test_only_events_about_a_conversation_or_a_person_become_signals() -> None:
    assert signal_fields(MessageAccepted(org_id=1, conversation_id=2, message_id=3)) == (1, 2, None)
    assert signal_fields(NotificationCreated(org_id=1, user_id=7, kind="mention")) == (1, None, 7)
    assert signal_fields(SlaBreach(org_id=1, conversation_id=4, target="first response", reason="r")) == (
        1,
        4,
        None,
    )


def test_a_page_hears_its_conversations_and_its_own_notifications_only() -> None:
    feed = LiveFeed()
    events = [
        MessageAccepted(org_id=1, conversation_id=2, message_id=10),  # visible
        MessageAccepted(org_id=1, conversation_id=3, message_id=11),  # another team's
        MessageAccepted(org_id=9, conversation_id=2, message_id=12),  # another organisation
        NotificationCreated(org_id=1, user_id=8, kind="mention"),  # someone else's bell
        NotificationCreated(org_id=1, user_id=7, kind="mention"),  # mine
        ConversationResolved(org_id=1, conversation_id=1),
    ]
    frames = asyncio.run(_take(feed, 3, after_start=events))
    bodies = _frames(frames)
    assert [b["conversation_id"] for b in bodies] == [2, None, 1]
    assert [b["kind"] for b in bodies] == ["MessageAccepted", "NotificationCreated", "ConversationResolved"]


def test_a_reconnect_gets_what_it_missed_and_a_stranger_id_reloads() -> None:
    feed = LiveFeed()
    for n in range(3):
        feed.publish(MessageAccepted(org_id=1, conversation_id=1, message_id=n))
    missed = asyncio.run(_take(feed, 2, last_event_id=f"{feed.epoch}.1"))
    assert [f.split("\n")[0] for f in missed] == [f"id: {feed.epoch}.2", f"id: {feed.epoch}.3"]
    # An id from a restarted process (or another one in scale-out) cannot be compared: reload.
    stranger = asyncio.run(_take(feed, 1, last_event_id="0000.2"))
    assert _frames(stranger) == [{"kind": "reload"}]


def test_more_missed_than_the_ring_holds_is_one_reload() -> None:
    feed = LiveFeed(ring=3)
    for n in range(10):
        feed.publish(MessageAccepted(org_id=1, conversation_id=1, message_id=n))
    frames = asyncio.run(_take(feed, 1, last_event_id=f"{feed.epoch}.2"))
    assert _frames(frames) == [{"kind": "reload"}]


def test_an_idle_stream_sends_heartbeats() -> None:
    async def first_two() -> list[str]:
        stream = LiveFeed().stream(1, 7, None, lambda ids: set(), heartbeat=0.01)
        out = [await stream.__anext__(), await stream.__anext__()]
        await stream.aclose()
        return out

    retry, heartbeat = asyncio.run(first_two())
    assert retry.startswith("retry: ") and heartbeat == ": still here\n\n"


def test_presence_reaches_colleagues_but_not_the_person_typing() -> None:
    from relaydesk.core.events import PresenceChanged

    feed = LiveFeed()
    typing = PresenceChanged(org_id=1, conversation_id=2, user_id=7, state="typing")
    mine = asyncio.run(_take(feed, 1, user_id=8, after_start=[typing]))
    assert _frames(mine) == [{"kind": "PresenceChanged", "conversation_id": 2}]

    async def own_stream() -> list[str]:
        stream = feed.stream(1, 7, f"{feed.epoch}.0", lambda ids: set(ids), heartbeat=0.01)
        frames = [await stream.__anext__() for _ in range(3)]
        await stream.aclose()
        return frames

    assert not [f for f in asyncio.run(own_stream()) if f.startswith("id:")]
