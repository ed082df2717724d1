"""What each kind of guideline needs in its `params` (pure): the fields the form shows, checked.

The same shapes `checks.py` reads, so a guideline saved here checks replies the way one applied
from relaydesk.yaml does, and exports back as it was written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from relaydesk.guidelines.checks import KINDS

MAX_PHRASES = 500
MAX_PHRASE_CHARS = 200
MAX_REPLY_LIMIT = 100_000


def _lines(value: Any) -> list[str]:
    """A list of phrases from a list or from text with one per line; blanks and repeats dropped."""
    items = value.splitlines() if isinstance(value, str) else value if isinstance(value, list) else []
    kept: list[str] = []
    for item in items:
        text = item.strip() if isinstance(item, str) else ""
        if text and text not in kept:
            kept.append(text)
    return kept


def clean_params(kind: str, params: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The params a guideline of `kind` keeps, and the problems as (field, message)."""
    if kind not in KINDS:
        return {}, [("kind", f"unknown kind '{kind}' (known: {', '.join(KINDS)})")]
    problems: list[tuple[str, str]] = []
    if kind == "banned_phrase":
        phrases = _lines(params.get("phrases"))
        if not phrases:
            problems.append(("phrases", "write at least one phrase, one per line"))
        elif len(phrases) > MAX_PHRASES or any(len(p) > MAX_PHRASE_CHARS for p in phrases):
            problems.append(("phrases", f"at most {MAX_PHRASES} phrases of {MAX_PHRASE_CHARS} characters"))
        return {"phrases": phrases}, problems
    if kind == "max_length":
        raw = params.get("max_chars")
        try:
            limit = int(str(raw).strip()) if not isinstance(raw, bool) else 0
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_REPLY_LIMIT:
            problems.append(("max_chars", f"a whole number of characters from 1 to {MAX_REPLY_LIMIT}"))
        return {"max_chars": limit}, problems
    if kind == "require_greeting":
        words = _lines(params.get("greetings"))
        if len(words) > MAX_PHRASES or any(len(w) > MAX_PHRASE_CHARS for w in words):
            problems.append(
                ("greetings", f"at most {MAX_PHRASES} greetings of {MAX_PHRASE_CHARS} characters")
            )
        return ({"greetings": words} if words else {}), problems
    if kind == "pii":
        return ({"private_too": True} if params.get("private_too") is True else {}), problems
    return {}, problems
