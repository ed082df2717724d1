"""How deeply a JSON document nests, found without parsing it (pure, no I/O).

Python's JSON reader recurses once per level, so a body of a million ``[`` exhausts the stack
(a 500), and every walk over a parsed payload recurses the same way. No network sends more than a
dozen levels; bodies past `MAX_DEPTH` are refused before anything parses them.
"""

from __future__ import annotations

import numpy as np

MAX_DEPTH = 64

_QUOTE, _OPEN_ARRAY, _CLOSE_ARRAY, _OPEN_OBJECT, _CLOSE_OBJECT = b'"[]{}'


def json_too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether `body` nests arrays/objects more than `limit` levels deep.

    Vectorised, so a hostile megabyte costs milliseconds; it never fails, also on bodies that are
    not valid JSON (their parser then says what is wrong).
    """
    # Nesting past `limit` needs more than `limit` opening brackets: most bodies have far fewer,
    # and counting them is much cheaper than the vectorised walk below.
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    # Escapes first, left to right as JSON reads them: an escaped backslash, then an escaped
    # quote. Every quote left opens or closes a string, and brackets inside strings are text.
    plain = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    chars = np.frombuffer(plain, dtype=np.uint8)
    in_string = (np.cumsum(chars == _QUOTE) & 1).astype(bool)
    opening = ((chars == _OPEN_ARRAY) | (chars == _OPEN_OBJECT)) & ~in_string
    closing = ((chars == _CLOSE_ARRAY) | (chars == _CLOSE_OBJECT)) & ~in_string
    depth = np.cumsum(opening.astype(np.int64) - closing.astype(np.int64))
    return bool(depth.max(initial=0) > limit)


def too_deep_detail(what: str = "the JSON body", limit: int = MAX_DEPTH) -> str:
    return f"{what} nests deeper than {limit} levels"
