"""The one cursor scheme of the list endpoints: opaque, round-trips, refuses anything else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from relaydesk.conversations.sorting import Position
from relaydesk.conversations.sorting import decode as sort_position
from relaydesk.conversations.sorting import encode as sort_cursor
from relaydesk.core.errors import UserError
from relaydesk.core.pagination import MAX_ID, cursor_id, decode_cursor, encode_cursor, id_cursor


def test_id_cursors_round_trip_and_are_url_safe() -> None:
    for row_id in (1, 42, MAX_ID):
        cursor = id_cursor(row_id)
        assert cursor_id(cursor) == row_id
        assert cursor.replace("-", "").replace("_", "").isalnum()


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "%%%",
        encode_cursor("abc"),
        encode_cursor(0),
        encode_cursor(MAX_ID + 1),
        encode_cursor(1, 2),
        "\u00e9",
    ],
)
def test_anything_else_is_refused(bad: str) -> None:
    with pytest.raises(UserError, match="cursor"):
        cursor_id(bad)


def test_the_conversation_cursor_keeps_its_format() -> None:
    moment = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    cursor = sort_cursor(Position("newest", moment, None, 7))
    # What earlier releases handed out must keep working: base64 of "<iso time>|<id>".
    assert cursor == "MjAyNi0wMS0wNVQwOTozMDowMCswMDowMHw3"
    assert sort_position("newest", cursor) == Position("newest", moment, None, 7)
    assert decode_cursor(cursor, 2) == ["2026-01-05T09:30:00+00:00", "7"]
    with pytest.raises(UserError, match="cursor"):
        sort_position("newest", id_cursor(7))


def test_each_order_has_its_own_cursors() -> None:
    moment = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    for position in (
        Position("waiting", moment, None, 3),
        Position("waiting", None, None, 4),
        Position("due", None, None, 5),
        Position("priority", 1, moment, 6),
    ):
        assert sort_position(position.sort, sort_cursor(position)) == position
    # A cursor of one order is refused by another: it would start the page in the wrong place.
    with pytest.raises(UserError, match="cursor"):
        sort_position("due", sort_cursor(Position("waiting", moment, None, 3)))
    with pytest.raises(UserError, match="cursor"):
        sort_position("waiting", sort_cursor(Position("newest", moment, None, 3)))
