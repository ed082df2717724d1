"""Customer strings made storable on every database we support (pure, no I/O).

JSON lets a sender write two things no PostgreSQL column can hold and no UTF-8 encoder accepts:

- U+0000 (``"\\u0000"``): PostgreSQL ``text`` and ``json`` refuse NUL;
- a lone surrogate (``"\\ud800"`` without its pair): not a character at all, so encoding it to
  UTF-8 fails (on SQLite too, and when we answer with it).

Both arrive in signed webhooks, so refusing them would lose a genuine customer's message on every
retry. What we store instead, the same on SQLite and PostgreSQL:

- in text we show or search (message text, names, ids, attributes): each such code point becomes
  U+FFFD REPLACEMENT CHARACTER, which is what a reader would see for it anyway;
- in the raw event kept as sent (``raw`` columns): each becomes the six-character escape
  ``\\u0000`` / ``\\ud800`` (a literal backslash), so an operator can still see exactly what was
  sent. JSON numbers NaN and Infinity (Python's JSON reader accepts them, JSON columns do not)
  become the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``.

Both are idempotent: cleaning a cleaned value changes nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(value: str) -> str:
    """`value` with NUL and lone surrogates replaced by U+FFFD."""
    if _UNSTORABLE.search(value) is None:
        return value
    return _UNSTORABLE.sub(REPLACEMENT, value)


def _escaped(value: str) -> str:
    if _UNSTORABLE.search(value) is None:
        return value
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", value)


def _walk(value: Any, fix: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fix(value)
    if isinstance(value, dict):
        return {fix(k) if isinstance(k, str) else k: _walk(v, fix) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_walk(v, fix) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def storable_raw(value: Any) -> Any:
    """A JSON value kept as sent: unstorable code points become visible ``\\uXXXX`` escapes."""
    return _walk(value, _escaped)


def storable_values(value: Any) -> Any:
    """A JSON value we show (attributes, an API answer): unstorable code points become U+FFFD."""
    return _walk(value, storable_text)
