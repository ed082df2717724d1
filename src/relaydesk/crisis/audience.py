"""Triggers that come from who wrote, not what (pure): the product brief's "a post by an account
with many followers" and "a journalist".

An author with at least `MIN_FOLLOWERS` followers (as the network reports them: X sends the count
with every post; the generic webhook and the contact page may set it) raises an `influencer` alert
when the message reads as negative: their complaint reaches an audience before anyone answers it.
An author marked as the press (the contact's `journalist: true`, or `role: journalist / press /
media / reporter`) raises a `press` alert whatever the tone: a journalist's question is a story in
the making.
"""

from __future__ import annotations

from collections.abc import Mapping

MIN_FOLLOWERS = 10_000
PRESS_ROLES = frozenset({"journalist", "press", "media", "reporter"})


def _followers(value: object) -> int:
    try:
        return int(str(value)) if value is not None and not isinstance(value, bool) else 0
    except ValueError:
        return 0


def audience(attributes: Mapping[str, object] | None, sentiment: str | None) -> dict[str, list[str]]:
    """{category: [what was seen]} for the author of one message."""
    attrs = attributes or {}
    found: dict[str, list[str]] = {}
    followers = _followers(attrs.get("followers"))
    if followers >= MIN_FOLLOWERS and sentiment == "negative":
        found["influencer"] = [f"{followers:,} followers"]
    role = str(attrs.get("role") or "").strip().lower()
    if attrs.get("journalist") is True or role in PRESS_ROLES:
        found["press"] = ["a journalist"]
    return found


def merged(*parts: Mapping[str, list[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in parts:
        for category, seen in part.items():
            out.setdefault(category, []).extend(s for s in seen if s not in out.get(category, []))
    return out
