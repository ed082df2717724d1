"""What every webhook delivery goes through around its parser, whichever network sent it.

The handlers in service.py run the same steps: find the secret that signed the body, refuse it as
a whole (`WebhookRefused`) or parse it (`read`), then list what is not accepted (a skipped part, a
reaction, an event for an account we do not have) as rows to keep raw in ``ignored_events``.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from relaydesk.auth.crypto import SecretBox
from relaydesk.channels import ignored
from relaydesk.channels.base import ParsedEvent, ParseResult, SignatureError
from relaydesk.channels.channel import Channel
from relaydesk.channels.ignored import IgnoredRow
from relaydesk.core.nesting import json_too_deep, too_deep_detail

# (network, external_id) -> (account id, opened credentials)
Accounts = dict[tuple[str, str], tuple[int, dict[str, Any]]]

DROPPED_REASONS = {
    "reaction": "ignored: reactions are not acted on",
    "delete": "ignored: a deletion on the network does not remove our copy",
}


class WebhookRefused(Exception):
    """The delivery is refused as a whole; the endpoint answers `status_code` with `detail`."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


# Sealed credentials -> opened, per box. Meta's signature is checked against every app secret
# before the body is parsed, so each delivery would otherwise decrypt every Meta account's
# credentials; a sealed value never changes (new credentials are sealed anew), so this is exact.
_OPENED: weakref.WeakKeyDictionary[SecretBox, dict[str, dict[str, Any]]] = weakref.WeakKeyDictionary()
_OPENED_MAX = 10_000
_opened_lock = threading.Lock()


def opened(box: SecretBox, sealed: str | None) -> dict[str, Any]:
    if not sealed:
        return {}
    with _opened_lock:
        cache = _OPENED.setdefault(box, {})
        found = cache.get(sealed)
    if found is None:
        found = box.open(sealed) or {}
        with _opened_lock:
            if len(cache) >= _OPENED_MAX:
                cache.clear()
            cache[sealed] = found
    return dict(found)


def matching_secret(check: Callable[[str], None], secrets: list[str]) -> str | None:
    for secret in dict.fromkeys(secrets):
        try:
            check(secret)
            return secret
        except SignatureError:
            continue
    return None


def refs(parsed: ParseResult) -> set[str]:
    return {str(e.account_ref) for e in parsed.events if e.account_ref} | {
        str(s.account_ref) for s in parsed.statuses if s.account_ref
    }


def signed_with(accounts: Accounts, name: str, secret: str) -> Accounts:
    """Only the accounts whose own secret signed the body: one app cannot post for another's pages."""
    return {key: value for key, value in accounts.items() if str(value[1].get(name) or "") == secret}


def dropped_rows(parsed: ParseResult, account_of: Callable[[ParsedEvent], int | None]) -> list[IgnoredRow]:
    """Rows for events we parsed but do not accept: reactions, deletions, unknown accounts.

    `account_of(item)` is our account id for the event, or None when we have no such account.
    Call it before accepting: the notes it mirrors are added while accepting.
    """
    rows: list[IgnoredRow] = []
    for item in parsed.events:
        network = item.event.network
        account_id = account_of(item)
        if account_id is None:
            reason = f"not accepted: no active {network} account {item.account_ref}"
            rows.append(IgnoredRow(network, f"{network}:{item.event.kind}", reason, item.event.raw))
        elif item.action in DROPPED_REASONS:
            rows.append(
                IgnoredRow(
                    network,
                    f"{network}:{item.action}",
                    DROPPED_REASONS[item.action],
                    item.event.raw,
                    account_id=account_id,
                )
            )
    return rows


def part_rows(
    parts: list[ignored.SkippedPart], network: str, account_of: Callable[[ignored.SkippedPart], int | None]
) -> list[IgnoredRow]:
    return [
        IgnoredRow(network, p.kind, p.reason, p.raw, account_id=account_of(p), path=p.path) for p in parts
    ]


def _refuse_deep(body: bytes) -> None:
    """400 before parsing a body nested past what any network sends (the parser would recurse)."""
    if json_too_deep(body):
        raise WebhookRefused(400, too_deep_detail())


def _payload(body: bytes) -> Any:
    # Only called once the network's parser accepted the body, so this decodes; {} is a guard.
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}


def has_header(headers: Mapping[str, str], name: str) -> bool:
    return any(k.lower() == name.lower() for k in headers)


def read(body: bytes, parse: Callable[[bytes], ParseResult]) -> tuple[ParseResult, Any]:
    """The signed body parsed, and decoded (to find its skipped parts); refused 400 past our nesting
    limit (the parser would recurse) and 422 when the network's parser refuses it as a whole."""
    _refuse_deep(body)
    try:
        parsed = parse(body)
    except ValueError as exc:
        raise WebhookRefused(422, str(exc)) from exc
    return parsed, _payload(body)


def drop_foreign(
    parsed: ParseResult, channel: Channel, external_id: str | None, account_id: int
) -> list[IgnoredRow]:
    """Take out the events a per-account body addresses to another account of the network.

    Only for networks whose bodies name their account (`Channel.other_account`); the first one
    is reported under errors, each is kept raw.
    """
    if not channel.other_account or not external_id:
        return []
    network = channel.spec.network
    foreign = [e for e in parsed.events if e.account_ref and e.account_ref != external_id]
    parsed.events = [e for e in parsed.events if e not in foreign]
    parsed.errors += [f"event for {channel.other_account} {e.account_ref}" for e in foreign[:1]]
    reason = f"not accepted: event for {channel.other_account}"
    return [
        IgnoredRow(network, f"{network}:{e.event.kind}", reason, e.event.raw, account_id=account_id)
        for e in foreign
    ]
