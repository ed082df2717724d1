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
types we don't handle are listed under ``ignored``; parts that do not parse are listed under
``errors`` while the rest is kept. Each such part (and each reaction, deletion or event for an
account we don't have) is also kept raw in ``ignored_events`` right after the accepted events are
committed, with one log line naming its kind; their ids are under ``ignored_events``. Admins list
them at ``GET /api/v1/webhook-events``. Delivery receipts move our outbound messages forward,
and echoes / statuses carrying an outbox key confirm that send (see `outbox.confirm_by_key`).

Instagram @mentions carry ids only: they are held (``pending``, channels/mentions.py) and become
messages once a background fetch has their text and author; the request never waits for it.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse

from relaydesk.channels import mentions
from relaydesk.channels.deliveries import WebhookRefused
from relaydesk.channels.schemas import IgnoredEventPage
from relaydesk.channels.service import IngestService, Outcome
from relaydesk.container import Container
from relaydesk.core.enums import Network
from relaydesk.core.safetext import storable_values
from relaydesk.deps import ContainerDep, ScopeDep
from relaydesk.web.limits import read_body

log = logging.getLogger(__name__)

router = APIRouter(tags=["webhooks"])


def _service(request: Request) -> IngestService:
    container: Container = request.app.state.container
    return IngestService(container)


def _answer(status: int, outcome: dict[str, Any]) -> JSONResponse:
    # Notes quote ids from the payload: a lone surrogate there could not be encoded as UTF-8.
    return JSONResponse(status_code=status, content=storable_values(outcome))


def _refused(exc: WebhookRefused) -> HTTPException:
    return HTTPException(status_code=exc.status_code, detail=exc.detail)


# -- Meta: Facebook Pages, Instagram, WhatsApp Cloud API ---------------------------------------


@router.get("/webhooks/meta", response_class=PlainTextResponse)
async def meta_handshake(request: Request) -> PlainTextResponse:
    """Meta's subscription check: echo hub.challenge when hub.verify_token is one of ours."""
    try:
        challenge = await run_in_threadpool(_service(request).meta_handshake, dict(request.query_params))
    except WebhookRefused as exc:
        raise _refused(exc) from None
    return PlainTextResponse(challenge)


@router.post("/webhooks/meta")
async def meta_webhook(request: Request, background: BackgroundTasks) -> JSONResponse:
    """One endpoint for every page, Instagram account and WhatsApp number of the Meta app(s).

    Instagram mentions are listed under ``pending``: their details are fetched right after the
    answer is sent (and retried by the server's background loop), then they are messages.
    """
    service = _service(request)
    body = await read_body(request, service.container.settings.max_body_bytes)
    try:
        outcome: Outcome = await run_in_threadpool(service.meta_delivery, body, request.headers)
    except WebhookRefused as exc:
        raise _refused(exc) from exc
    if outcome["pending"] and service.container.settings.background_tasks:
        # After the response: Meta is answered first, whatever the Graph API takes.
        background.add_task(mentions.MentionDetails.of(service.container).run_once)
    return _answer(200, outcome)


# -- X (Account Activity API) ----------------------------------------------------------------------


@router.get("/webhooks/x")
async def x_crc(request: Request, crc_token: str = "") -> JSONResponse:
    """The CRC check: base64 HMAC-SHA256 of crc_token with the consumer secret."""
    try:
        return JSONResponse(await run_in_threadpool(_service(request).x_crc, crc_token))
    except WebhookRefused as exc:
        raise _refused(exc) from None


@router.post("/webhooks/x")
async def x_webhook(request: Request) -> JSONResponse:
    service = _service(request)
    body = await read_body(request, service.container.settings.max_body_bytes)
    try:
        outcome = await run_in_threadpool(service.x_delivery, body, request.headers)
    except WebhookRefused as exc:
        raise _refused(exc) from exc
    return _answer(200, outcome)


# -- one webhook URL per account: Telegram, LINE, the generic signed webhook ------------------


async def _per_account(request: Request, account_id: int, network: str, success_status: int) -> JSONResponse:
    service = _service(request)
    body = await read_body(request, service.container.settings.max_body_bytes)
    try:
        status, outcome = await run_in_threadpool(
            service.account_delivery, account_id, network, body, request.headers
        )
    except WebhookRefused as exc:
        raise _refused(exc) from exc
    return _answer(status or success_status, outcome)


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


# -- what was kept raw, for admins -------------------------------------------------------------


@router.get("/api/v1/webhook-events", response_model=IgnoredEventPage)
def list_webhook_events(
    container: ContainerDep,
    scope: ScopeDep,
    network: Annotated[str | None, Query(max_length=32, description="facebook, x, line, ...")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    # le: a larger id overflows the 64-bit column (a 500 on SQLite, a misleading 503 on PostgreSQL).
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="events older than this id")] = None,
) -> IgnoredEventPage:
    """Webhook events of the caller's organisation that were not acted on, newest first (admins)."""
    return IngestService(container).webhook_events(scope, network, limit, before)
