"""Login throttling arithmetic: when may the next attempt come? (pure: no I/O)"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from datetime import datetime, timedelta


def account_key(email: str) -> str:
    """Every spelling of one address ('Sam@X ', 'sam@x') is one account to throttle."""
    return hashlib.sha256(("account:" + email.strip().lower()).encode()).hexdigest()


def address_key(address: str) -> str:
    return hashlib.sha256(("address:" + address).encode()).hexdigest()


def retry_after(failures: Sequence[datetime], limit: int, window: timedelta, now: datetime) -> int | None:
    """Whole seconds until another attempt is allowed, or None when one is allowed now.

    `failures` are failure times (any order; at least the `limit` most recent ones). At `limit`
    failures inside the window the door closes until enough of the oldest leave the window.
    """
    recent = sorted(moment for moment in failures if moment > now - window)
    if len(recent) < limit:
        return None
    reopens = recent[len(recent) - limit] + window
    return max(1, math.ceil((reopens - now).total_seconds()))
