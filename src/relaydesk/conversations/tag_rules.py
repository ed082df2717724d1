"""What a tag an agent adds may be (pure): short, one line, and never one that carries a decision.

Some tags are how the product carries a decision: routing writes `team:` and `skill:` tags for
assignment, and `needs-approval` with `approver:` tags to hold replies for approval; a triage
correction writes `spam`. Added or removed by hand they would move a conversation to another
team, release a held reply without its approver, or take a message out of the reports, so they
are refused. A tag is kept as typed (trimmed, inner spaces run together); comparing two tags
ignores case, so "VIP" and "vip" are the same tag.
"""

from __future__ import annotations

import unicodedata

from relaydesk.core.enums import APPROVER_TAG, SPAM
from relaydesk.core.errors import UserError

MAX_LENGTH = 40
MAX_TAGS = 20
RESERVED_PREFIXES = ("team:", "skill:", APPROVER_TAG)
RESERVED_TAGS = ("needs-approval", SPAM)


def clean_tag(text: str) -> str:
    """The tag as stored; UserError saying what is wrong with it."""
    tag = " ".join(text.split())
    if not tag:
        raise UserError("tag: must not be empty").saying("tag_empty")
    if len(tag) > MAX_LENGTH:
        raise UserError(f"tag: at most {MAX_LENGTH} characters, not {len(tag)}").saying(
            "tag_long", most=MAX_LENGTH
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\u200c\u200d" for ch in tag):
        raise UserError("tag: control and formatting characters are not allowed").saying("tag_characters")
    if is_reserved(tag):
        raise UserError(
            f"tag: {tag!r} carries a routing, approval or spam decision and is not set by hand"
        ).saying("tag_reserved", tag=tag)
    return tag


def is_reserved(tag: str) -> bool:
    """Whether the tag carries a decision (see the module docstring)."""
    folded = tag.casefold()
    return folded in RESERVED_TAGS or folded.startswith(RESERVED_PREFIXES)


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
        raise UserError(f"tags: at most {MAX_TAGS} on a conversation").saying("tags_many", most=MAX_TAGS)
    return out
