"""CSRF defences for cookie-authenticated requests (pure: no I/O).

A browser attaches the session cookie to requests another page makes, including pages of the
same site on another port or subdomain (SameSite=Lax does not stop those). So every
state-changing request that a cookie authenticates must also prove it comes from a RelayDesk
page: it carries a token derived from the session cookie with the installation's secret key,
which another page can neither read nor compute. Bearer tokens are never sent by a browser on
its own, so requests authenticated by them need no such proof.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import urlsplit

CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def csrf_token(key: bytes, session_cookie: str) -> str:
    """The token of one session: a token of another session (or of none) never matches."""
    return hmac.new(key, ("csrf:" + session_cookie).encode(), hashlib.sha256).hexdigest()


def csrf_valid(key: bytes, session_cookie: str | None, token: str | None) -> bool:
    if not session_cookie or not token:
        return False
    return hmac.compare_digest(token.encode(), csrf_token(key, session_cookie).encode())


def cross_origin(headers: Mapping[str, str]) -> bool:
    """Did another page (another site, or another origin of this site) send this request?

    `Sec-Fetch-Site` is set by the browser itself and holds even behind a proxy that rewrites
    `Host`; browsers too old to send it are judged by `Origin` against the host asked for.
    Clients that send neither (curl, scripts) are not browsers acting for someone else.
    """
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site.lower() not in ("same-origin", "none")
    origin = headers.get("origin")
    if origin is None:
        return False
    netloc = urlsplit(origin).netloc.lower() if origin != "null" else ""
    hosts = {headers.get("host", "").lower()}
    hosts.update(h.strip().lower() for h in headers.get("x-forwarded-host", "").split(","))
    return not netloc or netloc not in hosts
