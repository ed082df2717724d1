"""Links in a reply and whether each points to a domain the brand allows (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

# A link as people write it: with a scheme, or starting "www.", or a bare domain followed by a path.
_LINK = re.compile(
    r"(?:https?://[^\s<>\"'()]+|www\.[^\s<>\"'()]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,24}/[^\s<>\"'()]*)",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?،؛؟»”’)"


@dataclass(frozen=True)
class Link:
    url: str
    host: str
    span: tuple[int, int]


def clean_domain(value: str) -> str:
    """A domain as the form or file gives it ("https://Shop.example/x" -> "shop.example")."""
    text = value.strip().lower()
    if "://" not in text:
        text = "http://" + text
    host = urlsplit(text).hostname or ""
    return host.removeprefix("www.").strip(".")


def links_in(text: str) -> list[Link]:
    found: list[Link] = []
    for match in _LINK.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        if not url:
            continue
        host = clean_domain(url)
        if host:
            found.append(Link(url, host, (match.start(), match.start() + len(url))))
    return found


def allowed(host: str, domains: Iterable[str]) -> bool:
    """A host is allowed when it is one of the domains or under one ("help.shop.example")."""
    return any(host == d or host.endswith("." + d) for d in domains if d)
