"""An account's status in a few facts, and its credentials as a form changes them: pure.

The set-up check itself is `check.py` (the words of `relaydesk channels check`); this adds what
happened to the account (the last event received, the last reply that failed) and sums it up in
one badge. Credentials are write-only: a form sends the values it changes, and an empty field
keeps what is stored, so a page never needs to show a secret to keep it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from relaydesk.channels import registry

# A credential name the form may add beside the network's own (e-mail's password, imap_host...).
CREDENTIAL_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
MAX_CREDENTIAL_CHARS = 4096
# A reply failure older than this no longer colours the badge (it is still shown as the last error).
FAILING_FOR = timedelta(hours=24)
RETRYING = frozenset({"queued", "sending"})


@dataclass(frozen=True)
class LastError:
    message: str
    status: str  # the outbox row's: queued / sending (being retried) or failed (given up)
    at: datetime | None  # failed: its last attempt; being retried: its next attempt

    @property
    def retrying(self) -> bool:
        return self.status in RETRYING


def credential_names(network: str) -> tuple[str, ...]:
    """What the network needs, in the order the form asks for it: sending first, then webhooks."""
    spec = registry.spec(network)
    if spec is None:
        return ()
    return tuple(dict.fromkeys((*spec.send_credentials, *spec.webhook_credentials)))


def form_credential_names(network: str, stored: Iterable[str]) -> tuple[str, ...]:
    """One field per credential the network needs, then one per other credential already stored."""
    needed = credential_names(network)
    return (*needed, *sorted(set(stored) - set(needed)))


def credential_problem(name: str, value: str) -> str | None:
    if not CREDENTIAL_NAME.fullmatch(name):
        return f"credential name {name[:70]!r}: use lowercase letters, digits and '_', e.g. 'password'"
    if len(value) > MAX_CREDENTIAL_CHARS:
        return f"credential {name}: at most {MAX_CREDENTIAL_CHARS} characters"
    return None


def merged_credentials(
    stored: Mapping[str, Any], entered: Mapping[str, str], removed: Iterable[str]
) -> dict[str, Any]:
    """The credentials after a form: a value entered replaces, an empty one keeps, a removed one goes.

    A name both removed and given a new value takes the new value (the person typed it last).
    """
    out = {name: value for name, value in stored.items() if name not in set(removed)}
    for name, value in entered.items():
        if value != "":
            out[name] = value
    return out


def badge(active: bool, ok: bool, last_error: LastError | None, now: datetime) -> str:
    """One word for the list: off, setup (something missing), failing (replies), or ready."""
    if not active:
        return "off"
    if not ok:
        return "setup"
    if last_error is not None and (
        last_error.retrying or (last_error.at is not None and last_error.at >= now - FAILING_FOR)
    ):
        return "failing"
    return "ready"
