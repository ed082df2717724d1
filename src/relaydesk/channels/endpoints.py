"""Webhook endpoints: verify the network's signature, parse, accept each event idempotently.

Addresses (stable; register them with each network):

- ``GET  /webhooks/meta``  Meta's subscription handshake (hub.verify_token of any Meta account)
- ``POST /webhooks/meta``  Facebook Pages, Instagram and WhatsApp Cloud API, X-Hub-Signature-256
- ``GET  /webhooks/x``     X's CRC check; ``POST /webhooks/x`` Account Activity events
- ``POST /webhooks/telegram/{account_id}``  X-Telegram-Bot-Api-Secret-Token = webhook_secret
- ``POST /webhooks/line/{account_id}``      X-Line-Signature with the channel_secret
- ``POST /webhooks/generic/{account_id}``   X-RelayDesk-Signature with the webhook_secret

What each does with bad or odd input: a missing signature is 401 and a wrong one 403, nothing
stored; a redelivery answers 200/202 and maps onto the rows we have (``duplicate: true``); event
types we don't handle are logged and listed under ``ignored``; parts that do not parse are listed
under ``errors`` while the rest is kept. Delivery receipts move our outbound messages forward,
and echoes / statuses carrying an outbox key confirm that send (see `outbox.confirm_by_key`).

An edit of a customer message keeps the original row and adds a message of kind ``edit``
(``reply_to_external_id`` = the original's id, external id ``<original>#edit:<digest>``), so the
timeline shows both versions and a redelivered edit is still one row.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import select

from relaydesk.channels import meta, registry, x
from relaydesk.channels.base import ParsedEvent, ParseResult, SignatureError, StatusUpdate
from relaydesk.channels.outbox import confirm_by_key
from relaydesk.channels.replies import EDIT_KIND
from relaydesk.container import Container
from relaydesk.core.enums import Network
from relaydesk.db import transaction
from relaydesk.models import ChannelAccount, Message
from relaydesk.web.limits import read_body

log = logging.getLogger(__name__)

router = APIRouter(tags=["webhooks"])

META_NETWORKS = ("facebook", "instagram", "whatsapp")
STATUS_RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}

# (network, external_id) -> (account id, opened credentials)
Accounts = dict[tuple[str, str], tuple[int, dict[str, Any]]]


def _account(container: Container, account_id: int, network: str) -> tuple[ChannelAccount, dict[str, Any]]:
    with container.sessions() as session:
        account = session.get(ChannelAccount, account_id)
        if account is None or not account.active:
            raise HTTPException(status_code=404, detail=f"no active account {account_id}")
        if account.network != network:
            raise HTTPException(
                status_code=404, detail=f"account {account_id} is a {account.network} account, not {network}"
            )
        return account, container.box.open(account.credentials_encrypted) or {}


def _edit_of(item: ParsedEvent) -> None:
    """Turn an edit into its own row that points at the original (which stays as it was)."""
    event = item.event
    stamp = event.sent_at.isoformat() if event.sent_at else ""
    digest = hashlib.sha256(f"{stamp}\n{event.text}".encode()).hexdigest()[:16]
    event.reply_to_id = event.external_id
    event.external_id = f"{event.external_id}#edit:{digest}"
    event.kind = EDIT_KIND


def _outbox_key_of_echo(item: ParsedEvent) -> str | None:
    # Messenger hands back the metadata we sent (our idempotency key) in the echo.
    message = item.event.raw.get("message") if isinstance(item.event.raw, dict) else None
    key = message.get("metadata") if isinstance(message, dict) else None
    return key if isinstance(key, str) and key else None


def accept_parsed(container: Container, account_id: int, parsed: ParseResult) -> dict[str, Any]:
    accepted: list[dict[str, Any]] = []
    confirmed = 0
    for item in parsed.events:
        if item.action == "echo":
            key = _outbox_key_of_echo(item)
            if key is not None:
                with transaction(container.sessions) as session:
                    confirmed += confirm_by_key(session, account_id, key, item.event.external_id)
            # Our own sends seen back don't start work for an agent.
            parsed.ignored.append(f"echo of {item.event.external_id}")
            continue
        if item.action in ("reaction", "delete"):
            parsed.ignored.append(f"{item.action} of {item.event.reply_to_id or item.event.external_id}")
            continue
        if item.action == "edit":
            _edit_of(item)
        result = container.pipeline.accept(account_id, item.event)
        accepted.append(
            {
                "external_id": item.event.external_id,
                "message_id": result.message_id,
                "conversation_id": result.conversation_id,
                "duplicate": result.duplicate,
            }
        )
    for note in parsed.ignored:
        # Notes name event types and paths, never customer text.
        log.info("webhook for account %s: ignored %s", account_id, note)
    for error in parsed.errors:
        log.warning("webhook for account %s: %s", account_id, error)
    return {"accepted": accepted, "ignored": parsed.ignored, "errors": parsed.errors, "confirmed": confirmed}


def apply_statuses(container: Container, statuses: list[StatusUpdate], account_ids: Mapping[str, int]) -> int:
    """Delivery receipts move our outbound messages forward (sent -> delivered -> read, or failed).

    `account_ids` maps a status's ``account_ref`` to our account: a receipt only touches messages
    of the account it was addressed to.
    """
    updated = 0
    if not statuses:
        return 0
    with transaction(container.sessions) as session:
        for status in statuses:
            account_id = account_ids.get(str(status.account_ref))
            if account_id is None:
                continue
            message = session.scalars(
                select(Message).where(
                    Message.account_id == account_id,
                    Message.external_id == status.external_id,
                    Message.direction == "outbound",
                )
            ).first()
            if message is None:
                continue
            current = STATUS_RANK.get(message.delivery_status or "queued", 0)
            if STATUS_RANK.get(status.status, 0) >= current:
                message.delivery_status = status.status
                message.delivery_error = status.error
                updated += 1
    return updated


def _accounts_by_ref(container: Container, networks: set[str], refs: set[str]) -> Accounts:
    if not refs:
        return {}
    with container.sessions() as session:
        rows = session.scalars(
            select(ChannelAccount).where(
                ChannelAccount.network.in_(sorted(networks)),
                ChannelAccount.external_id.in_(sorted(refs)),
                ChannelAccount.active.is_(True),
            )
        )
        return {
            (row.network, str(row.external_id)): (row.id, container.box.open(row.credentials_encrypted) or {})
            for row in rows
        }


def _any_secret(container: Container, networks: tuple[str, ...], name: str) -> list[str]:
    with container.sessions() as session:
        rows = session.scalars(
            select(ChannelAccount).where(
                ChannelAccount.network.in_(networks), ChannelAccount.active.is_(True)
            )
        )
        found = [str((container.box.open(row.credentials_encrypted) or {}).get(name) or "") for row in rows]
    return [secret for secret in dict.fromkeys(found) if secret]


def _matching_secret(check: Any, secrets: list[str]) -> str | None:
    for secret in dict.fromkeys(secrets):
        try:
            check(secret)
            return secret
        except SignatureError:
            continue
    return None


def _whatsapp_callback_keys(body: bytes) -> list[tuple[str, str, str]]:
    """(phone-number id, wamid, outbox key) of WhatsApp statuses that carry our key back."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return []
    found: list[tuple[str, str, str]] = []
    entries = payload.get("entry") if isinstance(payload, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                continue
            phone = meta.dig(value, "metadata.phone_number_id")
            statuses = value.get("statuses")
            for status in statuses if isinstance(statuses, list) else []:
                if not isinstance(status, dict):
                    continue
                key, wamid = status.get("biz_opaque_callback_data"), status.get("id")
                if phone is not None and isinstance(key, str) and key and isinstance(wamid, str):
                    found.append((str(phone), wamid, key))
    return found


def accept_routed(
    container: Container,
    parsed: ParseResult,
    accounts: Accounts,
    callback_keys: list[tuple[str, str, str]] | None = None,
) -> dict[str, Any]:
    """Accept each event on the account it was addressed to; events for unknown accounts are reported."""
    outcome: dict[str, Any] = {
        "accepted": [],
        "ignored": list(parsed.ignored),
        "errors": list(parsed.errors),
        "confirmed": 0,
    }
    by_account: dict[int, ParseResult] = {}
    for item in parsed.events:
        key = (item.event.network, str(item.account_ref))
        if key not in accounts:
            outcome["errors"].append(f"no active {item.event.network} account {item.account_ref}")
            continue
        by_account.setdefault(accounts[key][0], ParseResult()).events.append(item)
    for account_id, part in by_account.items():
        result = accept_parsed(container, account_id, part)
        outcome["accepted"] += result["accepted"]
        outcome["ignored"] += result["ignored"]
        outcome["confirmed"] += result["confirmed"]
    for ref, external_id, outbox_key in callback_keys or []:
        found = accounts.get(("whatsapp", ref))
        if found is not None:
            with transaction(container.sessions) as session:
                outcome["confirmed"] += confirm_by_key(session, found[0], outbox_key, external_id)
    by_ref = {ref: account_id for (network, ref), (account_id, _) in accounts.items()}
    outcome["statuses_updated"] = apply_statuses(container, parsed.statuses, by_ref)
    return outcome


def _refs(parsed: ParseResult) -> set[str]:
    return {str(e.account_ref) for e in parsed.events if e.account_ref} | {
        str(s.account_ref) for s in parsed.statuses if s.account_ref
    }


def _signed_with(accounts: Accounts, name: str, secret: str) -> Accounts:
    """Only the accounts whose own secret signed the body: one app cannot post for another's pages."""
    return {key: value for key, value in accounts.items() if str(value[1].get(name) or "") == secret}


# -- Meta: Facebook Pages, Instagram, WhatsApp Cloud API ---------------------------------------


@router.get("/webhooks/meta", response_class=PlainTextResponse)
async def meta_handshake(request: Request) -> PlainTextResponse:
    """Meta's subscription check: echo hub.challenge when hub.verify_token is one of ours."""
    container: Container = request.app.state.container
    tokens = await run_in_threadpool(_any_secret, container, META_NETWORKS, "verify_token")
    params = dict(request.query_params)
    for token in tokens:
        try:
            return PlainTextResponse(meta.verify_handshake(params, token))
        except SignatureError:
            continue
    raise HTTPException(status_code=403, detail="hub.verify_token does not match any Meta account")


@router.post("/webhooks/meta")
async def meta_webhook(request: Request) -> JSONResponse:
    """One endpoint for every page, Instagram account and WhatsApp number of the Meta app(s)."""
    container: Container = request.app.state.container
    body = await read_body(request, container.settings.max_body_bytes)
    if not any(k.lower() == meta.SIGNATURE_HEADER.lower() for k in request.headers):
        raise HTTPException(status_code=401, detail=f"missing {meta.SIGNATURE_HEADER} header")

    def check(secret: str) -> None:
        meta.verify_signature(request.headers, body, secret)

    try:
        parsed = meta.parse(body)
    except ValueError as exc:
        every = await run_in_threadpool(_any_secret, container, META_NETWORKS, "app_secret")
        if _matching_secret(check, every) is None:
            raise HTTPException(status_code=403, detail="X-Hub-Signature-256 does not match") from exc
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    accounts = await run_in_threadpool(_accounts_by_ref, container, set(META_NETWORKS), _refs(parsed))
    # The accounts a payload names share one app secret in practice; try each, then any.
    candidates = [str(c.get("app_secret")) for _, c in accounts.values() if c.get("app_secret")]
    secret = _matching_secret(check, candidates)
    if secret is None and not candidates:
        every = await run_in_threadpool(_any_secret, container, META_NETWORKS, "app_secret")
        secret = _matching_secret(check, every)
    if secret is None:
        raise HTTPException(status_code=403, detail="X-Hub-Signature-256 does not match the app secret")
    signed = _signed_with(accounts, "app_secret", secret)
    keys = _whatsapp_callback_keys(body) if parsed.statuses else []
    outcome = await run_in_threadpool(accept_routed, container, parsed, signed, keys)
    return JSONResponse(status_code=200, content=outcome)


# -- X (Account Activity API) ----------------------------------------------------------------------


@router.get("/webhooks/x")
async def x_crc(request: Request, crc_token: str = "") -> JSONResponse:
    """The CRC check: base64 HMAC-SHA256 of crc_token with the consumer secret."""
    container: Container = request.app.state.container
    if not crc_token:
        raise HTTPException(status_code=400, detail="crc_token is required")
    secrets = await run_in_threadpool(_any_secret, container, ("x",), "consumer_secret")
    if not secrets:
        raise HTTPException(status_code=404, detail="no X account with a consumer_secret is configured")
    return JSONResponse(x.crc_response(crc_token, secrets[0]))


@router.post("/webhooks/x")
async def x_webhook(request: Request) -> JSONResponse:
    container: Container = request.app.state.container
    body = await read_body(request, container.settings.max_body_bytes)
    if not any(k.lower() == x.SIGNATURE_HEADER for k in request.headers):
        raise HTTPException(status_code=401, detail=f"missing {x.SIGNATURE_HEADER} header")
    secrets = await run_in_threadpool(_any_secret, container, ("x",), "consumer_secret")
    secret = _matching_secret(lambda s: x.verify(body, request.headers, s), secrets)
    if secret is None:
        raise HTTPException(status_code=403, detail="signature does not match the consumer secret")
    try:
        parsed = x.parse(body)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    accounts = await run_in_threadpool(_accounts_by_ref, container, {"x"}, _refs(parsed))
    signed = _signed_with(accounts, "consumer_secret", secret)
    outcome = await run_in_threadpool(accept_routed, container, parsed, signed)
    return JSONResponse(status_code=200, content=outcome)


# -- one webhook URL per account: Telegram, LINE, the generic signed webhook ------------------


async def _per_account(request: Request, account_id: int, network: str, success_status: int) -> JSONResponse:
    container: Container = request.app.state.container
    body = await read_body(request, container.settings.max_body_bytes)
    account, secrets = await run_in_threadpool(_account, container, account_id, network)
    spec = registry.spec(network)
    verify, parse = registry.verifier(network), registry.parser(network)
    assert spec is not None and verify is not None and parse is not None
    name = spec.webhook_credentials[0]
    secret = registry.credential(secrets, spec, name)
    if not secret:
        raise HTTPException(status_code=403, detail=f"this account has no {name} configured")
    try:
        verify(body, request.headers, str(secret))
    except SignatureError as exc:
        raise HTTPException(status_code=exc.status_code, detail=str(exc)) from exc
    try:
        parsed = parse(body, account.external_id if network == "telegram" else None)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    if network == "line" and account.external_id:
        # A LINE body names its bot (`destination`); one signed for another bot is not ours.
        foreign = [e for e in parsed.events if e.account_ref and e.account_ref != account.external_id]
        parsed.events = [e for e in parsed.events if e not in foreign]
        parsed.errors += [f"event for another LINE bot {e.account_ref}" for e in foreign[:1]]
    if network == Network.GENERIC.value and parsed.errors and not parsed.events:
        return JSONResponse(
            status_code=422,
            content={
                "detail": "nothing in the payload was valid",
                "errors": parsed.errors,
                "ignored": parsed.ignored,
            },
        )
    outcome = await run_in_threadpool(accept_parsed, container, account_id, parsed)
    if parsed.statuses:
        ref = {str(s.account_ref): account_id for s in parsed.statuses}
        outcome["statuses_updated"] = await run_in_threadpool(apply_statuses, container, parsed.statuses, ref)
    return JSONResponse(status_code=success_status, content=outcome)


@router.post("/webhooks/generic/{account_id}", status_code=202)
async def generic_webhook(account_id: int, request: Request) -> JSONResponse:
    """HMAC-signed JSON from review sites and anything else (`X-RelayDesk-Signature: sha256=<hex>`)."""
    return await _per_account(request, account_id, Network.GENERIC.value, 202)


@router.post("/webhooks/telegram/{account_id}")
async def telegram_webhook(account_id: int, request: Request) -> JSONResponse:
    """One bot per account: setWebhook(url=..., secret_token=<webhook_secret>)."""
    return await _per_account(request, account_id, Network.TELEGRAM.value, 200)


@router.post("/webhooks/line/{account_id}")
async def line_webhook(account_id: int, request: Request) -> JSONResponse:
    """One LINE channel per account, signed with its channel secret."""
    return await _per_account(request, account_id, Network.LINE.value, 200)
