"""HTTP helpers every network module shares: headers by any case, JSON bodies, Retry-After."""

from __future__ import annotations

import json
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx


def header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header `name` in any letter case (plain dicts in tests are case-sensitive)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def load_object(body: bytes | dict[str, Any], what: str, shape: str = "a JSON object") -> dict[str, Any]:
    """`body` as a JSON object; ValueError naming `what` (the body, in the network's words) if not."""
    if isinstance(body, dict):
        return body
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{what} must be {shape}")
    return data


def retry_after(response: httpx.Response, now: float) -> float | None:
    """Seconds to wait from the Retry-After header (seconds or an HTTP date), None without one."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None
