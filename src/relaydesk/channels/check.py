"""`relaydesk channels check`: is each account set up to receive and to reply? Plain words.

Nothing here calls a network: it reads which credential names are present (never their values)
and says which webhook address to register. `check_account` is pure; `check_accounts` reads the
accounts from the database and opens their credentials.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from relaydesk.auth.crypto import SecretBox
from relaydesk.channels import mentions, registry, repository


@dataclass(frozen=True)
class AccountCheck:
    key: str
    network: str
    ok: bool
    replies: str  # can it send? in plain words
    webhook: str  # can it receive? in plain words
    address: str  # the URL (or snippet) to register, "" when there is none
    missing: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    ignored_events: int = 0  # webhook parts kept raw for this account (GET /api/v1/webhook-events)
    account_id: int | None = None  # the id in per-account webhook addresses (/webhooks/generic/{id})
    # The same two answers as states, for pages that say them in the reader's language:
    # replies "ready" | "missing" | "none" (the network sends nothing); webhook "ready" |
    # "missing" | "unmatched" (no external_id to route by) | "none" (nothing to register).
    replies_state: str = "none"
    webhook_state: str = "none"


def _one_verify_token_per_app(network: str) -> bool:
    """Meta verifies one callback URL per app with one token: any account of the app may hold it."""
    found = registry.spec(network)
    return found is not None and "verify_token" in found.webhook_credentials


def verify_token_networks() -> tuple[str, ...]:
    """The networks whose accounts share one app verify token (Meta's)."""
    return tuple(n for n in registry.channels() if _one_verify_token_per_app(n))


def webhook_address(network: str, account_id: int, base_url: str) -> str:
    found = registry.spec(network)
    if found is not None and found.snippet:
        return found.snippet.format(base_url=base_url, account_id=account_id)
    if found is None or not found.webhook_path:
        return ""
    return base_url.rstrip("/") + found.webhook_path.format(account_id=account_id)


def check_account(
    key: str,
    network: str,
    account_id: int,
    external_id: str | None,
    secrets: dict[str, Any],
    base_url: str,
    *,
    shared_verify_token: bool = False,
) -> AccountCheck:
    """One account's set-up. `shared_verify_token`: another Meta account of ours holds one."""
    spec = registry.spec(network)
    if spec is None:
        return AccountCheck(key, network, False, f"unknown network {network!r}", "-", "", (network,))
    address = webhook_address(network, account_id, base_url)
    send_missing = registry.missing(secrets, spec.send_credentials, spec)
    hook_names = tuple(
        n for n in spec.webhook_credentials if not (n == "verify_token" and shared_verify_token)
    )
    hook_missing = registry.missing(secrets, hook_names, spec)
    notes: list[str] = []

    if not spec.send_credentials:
        replies, replies_state = spec.no_replies, "none"
    elif send_missing:
        replies = f"cannot reply yet: add {', '.join(send_missing)} to its credentials"
        replies_state = "missing"
    else:
        replies, replies_state = f"ready ({', '.join(spec.send_credentials)} present)", "ready"

    if spec.no_webhook:
        webhook, webhook_state = spec.no_webhook, "none"
    elif hook_missing:
        webhook = f"cannot verify incoming events yet: add {', '.join(hook_missing)} to its credentials"
        webhook_state = "missing"
    else:
        webhook, webhook_state = spec.ready.format(address=address, network=network), "ready"
    if _one_verify_token_per_app(network) and shared_verify_token and "verify_token" not in secrets:
        notes.append("verify token: shared with another account of the Meta app (one per app is enough)")

    missing = tuple(send_missing) + tuple(hook_missing)
    if spec.routed_by_external_id and not external_id:
        missing += ("external_id",)
        webhook_state = "unmatched"
        webhook = (
            "events cannot be matched to this account: set external_id "
            "(its page / Instagram / phone-number / user id on the network)"
        )
    if spec.note:
        notes.append(spec.note)
    return AccountCheck(
        key,
        network,
        not missing,
        replies,
        webhook,
        address,
        missing,
        tuple(notes),
        replies_state=replies_state,
        webhook_state=webhook_state,
    )


def sandboxed(result: AccountCheck) -> AccountCheck:
    """The check of an account whose `settings.sandbox` is on: its replies never leave RelayDesk."""
    return replace(
        result,
        replies=f"SANDBOX, replies are not posted to {result.network}; {result.replies}",
        notes=(*result.notes, "sandbox: remove settings.sandbox to go live"),
    )


def shared_verify_token(sealed: list[str | None], box: SecretBox) -> bool:
    """Whether any of these Meta accounts' credentials holds the app's verify token."""
    return any((box.open(token) or {}).get("verify_token") for token in sealed if token)


def check_accounts(session: Session, box: SecretBox, base_url: str) -> list[AccountCheck]:
    """Every active account, in id order."""
    accounts = repository.active_accounts(session)
    opened = {a.id: box.open(a.credentials_encrypted) or {} for a in accounts}
    shared = any(opened[a.id].get("verify_token") for a in accounts if _one_verify_token_per_app(a.network))
    dropped = repository.ignored_count_by_account(session)
    held = mentions.count_by_account(session)
    out = []
    for a in accounts:
        result = replace(
            check_account(
                a.key,
                a.network,
                a.id,
                a.external_id,
                {**dict(a.settings or {}), **opened[a.id]},
                base_url,
                shared_verify_token=shared,
            ),
            ignored_events=dropped.get(a.id, 0),
            account_id=a.id,
        )
        waiting, unreadable = held.get(a.id, (0, 0))
        if waiting:
            note = f"{waiting} mention(s) waiting for their text and author (fetched in the background)"
            result = replace(result, notes=(*result.notes, note))
        if unreadable:
            note = f"{unreadable} mention(s) Instagram will not describe (deleted or private posts)"
            result = replace(result, notes=(*result.notes, note))
        if (a.settings or {}).get("sandbox") is True:
            result = sandboxed(result)
        out.append(result)
    return out
