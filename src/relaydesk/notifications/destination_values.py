"""What a notification destination's name and URL may be: pure checks, one message each."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MAX_NAME = 64
MAX_URL = 2000
# Hyphens only (no underscores, no capitals): each name maps to exactly one environment variable
# (`pr-desk` -> RELAYDESK_WEBHOOK_PR_DESK), so a stored name and an environment name never
# differ only in spelling.
_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def clean_name(text: str) -> str:
    return text.strip().lower()


def name_problem(name: str) -> str | None:
    if not name:
        return "name: give the destination a name"
    if len(name) > MAX_NAME:
        return f"name: at most {MAX_NAME} characters"
    if not _NAME.fullmatch(name):
        return "name: letters a-z, digits and single hyphens only (e.g. pr-desk)"
    return None


def url_problem(url: str) -> str | None:
    """Why `url` cannot be posted to; None when it can. The message never repeats the URL."""
    if not url:
        return "url: give the webhook's address"
    if len(url) > MAX_URL:
        return f"url: at most {MAX_URL} characters"
    if any(ch.isspace() for ch in url):
        return "url: an address has no spaces"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "url: not a web address"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "url: must start with https:// and name a server"
    if port == 0:
        return "url: not a web address"
    return None


def env_destination_name(variable: str, prefix: str) -> str:
    """RELAYDESK_WEBHOOK_PR_DESK -> pr-desk: the name a rule uses for it."""
    return variable.removeprefix(prefix).lower().replace("_", "-")
