"""How long a reply is, counted the way its network counts (pure).

X counts *weighted* characters (twitter-text, configuration v3): a code point in the ranges below
weighs 1 and any other (CJK, most emoji) 2, an emoji sequence counts 2 however many code points
it joins, and every link counts 23 whatever its length (X shortens it); the limit is 280. The
other networks count characters (code points). Latin, Arabic, Persian, Hebrew and Thai all weigh
1 on X, so a Thai reply's length there is its length in characters.

The limits are each network's documented ones for the text of one message; a comment reply and a
private message can differ (Facebook: 8,000 for a comment, 2,000 for Messenger; Instagram: 2,200
for a comment, 1,000 for a direct message).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

X_LIMIT = 280
X_URL_WEIGHT = 23
# twitter-text v3: code point ranges that weigh 1 (everything else weighs 2).
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))

# (network, public) -> characters; None for either kind of message.
LIMITS: dict[tuple[str, bool | None], int] = {
    ("x", None): X_LIMIT,
    ("facebook", True): 8000,
    ("facebook", False): 2000,
    ("instagram", True): 2200,
    ("instagram", False): 1000,
    ("whatsapp", None): 4096,
    ("telegram", None): 4096,
    ("line", None): 5000,
    ("webchat", None): 4000,
}

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)


def _is_emoji(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x1F000 <= cp <= 0x1FAFF
        or 0x2600 <= cp <= 0x27BF
        or 0x1F1E6 <= cp <= 0x1F1FF
        or (unicodedata.category(ch) == "So" and cp > 0x2000)
    )


def _joins(ch: str) -> bool:
    """Code points that belong to the emoji before them: joiner, variation selectors, skin tones, tags."""
    cp = ord(ch)
    return cp == 0x200D or 0xFE00 <= cp <= 0xFE0F or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F


def _weight(ch: str) -> int:
    cp = ord(ch)
    return 1 if any(lo <= cp <= hi for lo, hi in _LIGHT_RANGES) else 2


def x_weighted_length(text: str) -> int:
    """The length X gives `text` (NFC first, as X normalises posts)."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    at = 0
    for match in _URL.finditer(text):
        total += _weighted(text[at : match.start()]) + X_URL_WEIGHT
        at = match.end()
    return total + _weighted(text[at:])


def _weighted(part: str) -> int:
    total = 0
    in_emoji = False
    after_joiner = False
    for ch in part:
        if in_emoji and (_joins(ch) or after_joiner):
            after_joiner = ord(ch) == 0x200D
            continue
        if _is_emoji(ch):
            total += 2
            in_emoji, after_joiner = True, False
            continue
        in_emoji = after_joiner = False
        total += _weight(ch)
    return total


@dataclass(frozen=True)
class Measured:
    length: int
    limit: int
    weighted: bool  # counted as X counts, not in characters


def measure(
    text: str, network: str | None, public: bool, own_limits: dict[str, int] | None = None
) -> Measured | None:
    """The reply's length and its network's limit (an organisation's own limit for the network
    wins); None when the network sets none (e-mail) or is unknown."""
    if not network:
        return None
    limit = (own_limits or {}).get(network) or LIMITS.get((network, public)) or LIMITS.get((network, None))
    if limit is None:
        return None
    if network == "x":
        return Measured(x_weighted_length(text), limit, True)
    return Measured(len(text), limit, False)


def cut_at(text: str, network: str, limit: int) -> int:
    """The offset in `text` where the part past the limit starts (what the editor underlines)."""
    if network != "x":
        return min(limit, len(text))
    low, high = 0, len(text)
    while low < high:  # the longest prefix within the limit; lengths only grow with the prefix
        mid = (low + high + 1) // 2
        if x_weighted_length(text[:mid]) <= limit:
            low = mid
        else:
            high = mid - 1
    return low
