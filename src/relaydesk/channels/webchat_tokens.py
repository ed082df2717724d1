"""Web-chat visitor tokens: a random visitor key signed (HMAC-SHA256) with the account's `widget_secret`.

The browser keeps the token in localStorage, so a returning visitor keeps their identity and
conversation across page loads.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re

TOKEN_VERSION = "v1"
TOKEN_MAX_AGE_SECONDS = 400 * 24 * 3600  # a browser returning within a good year keeps its chat
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class TokenError(Exception):
    """The token was not issued by this account's widget, is malformed, or is too old."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, message: str) -> str:
    return _b64(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest())


def sign_visitor_token(secret: str, account_id: int, visitor_key: str, issued_at: int) -> str:
    payload = _b64(
        json.dumps({"a": account_id, "v": visitor_key, "t": issued_at}, separators=(",", ":")).encode()
    )
    body = f"{TOKEN_VERSION}.{payload}"
    return f"{body}.{_mac(secret, body)}"


def read_visitor_token(secret: str, token: str, account_id: int, now: float) -> str:
    """The visitor key inside a token this account's widget issued; TokenError otherwise."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != TOKEN_VERSION or len(token) > 512:
        raise TokenError("malformed visitor token")
    body = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_mac(secret, body), parts[2]):
        raise TokenError("visitor token signature does not match")
    try:
        data = json.loads(_unb64(parts[1]))
    except (ValueError, binascii.Error) as exc:
        raise TokenError("malformed visitor token") from exc
    if not isinstance(data, dict) or data.get("a") != account_id:
        raise TokenError("visitor token belongs to another widget")
    key, issued = data.get("v"), data.get("t")
    if not isinstance(key, str) or not CLIENT_ID.fullmatch(key) or not isinstance(issued, int):
        raise TokenError("malformed visitor token")
    if now - issued > TOKEN_MAX_AGE_SECONDS:
        raise TokenError("visitor token expired")
    return key
