"""Cursor pagination, one scheme for the list endpoints: `?cursor=` in, `next_cursor` out.

A cursor is opaque to callers: the key of a page's last row (URL-safe base64 of its parts), so
the ordering behind it can change without changing the API. `next_cursor` is null on the last page.
"""

from __future__ import annotations

import base64
import binascii

from relaydesk.core.errors import UserError

MAX_ID = 2**63 - 1  # the largest id the database holds
CURSOR_MAX_LENGTH = 200  # longer than any cursor this module writes
CURSOR_HELP = "the next_cursor of the previous page"


def encode_cursor(*parts: object) -> str:
    raw = "|".join(str(part) for part in parts)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, parts: int) -> list[str]:
    """The parts `encode_cursor` was given, as text; UserError for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise UserError("cursor: not a cursor this API returned") from exc
    if len(decoded) != parts:
        raise UserError("cursor: not a cursor this API returned")
    return decoded


def id_cursor(row_id: int) -> str:
    """The cursor after a row of a list ordered by id."""
    return encode_cursor(row_id)


def cursor_id(cursor: str) -> int:
    """The row id an `id_cursor` holds; UserError for anything else."""
    (text,) = decode_cursor(cursor, 1)
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_ID:
        raise UserError("cursor: not a cursor this API returned")
    return int(text)
