"""What a tag an agent adds may be (pure): short, one line, and not one of routing's own.

Routing writes `team:` and `skill:` tags to carry its decision into assignment; an agent's tag
must not be mistaken for one (it would move the conversation to another team), so those prefixes
are refused. A tag is kept as typed (trimmed, inner spaces run together); comparing two tags
ignores case, so "VIP" and "vip" are the same tag.
"""

from __future__ import annotations

import unicodedata

from relaydesk.core.errors import UserError

MAX_LENGTH = 40
MAX_TAGS = 20
RESERVED_PREFIXES = ("team:", "skill:")


def clean_tag(text: str) -> str:
    """The tag as stored; UserError saying what is wrong with it."""
    tag = " ".join(text.split())
    if not tag:
        raise UserError("tag: must not be empty")
    if len(tag) > MAX_LENGTH:
        raise UserError(f"tag: at most {MAX_LENGTH} characters, not {len(tag)}")
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\u200c\u200d" for ch in tag):
        raise UserError("tag: control and formatting characters are not allowed")
    if tag.casefold().startswith(RESERVED_PREFIXES):
        raise UserError(f"tag: {', '.join(RESERVED_PREFIXES)} tags are set by routing rules, not by hand")
    return tag


def changed_tags(current: list[str], add: list[str], remove: list[str]) -> list[str]:
    """The tags after adding and removing (added ones keep their place at the end, no duplicates)."""
    removing = {clean_tag(t).casefold() for t in remove}
    out = [t for t in current if t.casefold() not in removing]
    have = {t.casefold() for t in out}
    for text in add:
        tag = clean_tag(text)
        if tag.casefold() not in have:
            out.append(tag)
            have.add(tag.casefold())
    if len(out) > MAX_TAGS:
        raise UserError(f"tags: at most {MAX_TAGS} on a conversation")
    return out
