"""What Facebook Pages, Instagram and WhatsApp Cloud API share: one app, one webhook format.

Inbound: Meta verifies the callback URL with a GET handshake (``verify_handshake``), signs every
POST with the app secret (``verify_signature``) and batches events for many pages / IG accounts /
phone numbers into one body ``{"object": ..., "entry": [...]}`` (``parse``). The per-network
modules turn one entry into network-neutral events; this module only dispatches and merges.

Outbound: ``GraphSender`` posts replies to the Graph API. The payload of each mode is built by the
network module (``build_request``); the mapping of Graph's error objects to ``SendResult`` is
shared here because the error codes are shared.

Graph has no idempotency key. The outbox must guard exactly-once itself (mark the row before and
after the call). To help it reconcile a send whose response was lost, we put the outbox key where
Meta hands it back: Messenger ``message.metadata`` (returned in the echo webhook) and WhatsApp
``biz_opaque_callback_data`` (returned in status webhooks). Instagram has no such field.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from relaydesk.channels import graph, http
from relaydesk.channels.base import (
    OutboundRequest,
    ParseResult,
    SendResult,
    SignatureError,
)
from relaydesk.channels.channel import MediaUnavailable, NetworkSpec, download
from relaydesk.channels.graph import (
    GraphCall,
    dig,
    id_str,
    merge,
    text_of,
)

# The crisis slice reads Meta timestamps and ids through this module.
to_datetime = graph.to_datetime

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
DEFAULT_BASE_URL = "https://graph.facebook.com/v21.0"
DEFAULT_TIMEOUT_S = 15.0
# Graph's rate-limit errors carry no wait hint unless a header does; an hour-window quota rarely
# frees up within seconds, so a minute is the smallest wait worth trying.
DEFAULT_RATE_LIMIT_WAIT_S = 60.0

# The networks of one Meta app, and the webhook `object` each one's deliveries carry.
NETWORKS = ("facebook", "instagram", "whatsapp")
OBJECTS = {"page": "facebook", "instagram": "instagram", "whatsapp_business_account": "whatsapp"}


def network_spec(network: str, echoed: bool, identity: str) -> NetworkSpec:
    """What the networks of a Meta app share; `echoed`: our key comes back (echo, status)."""
    return NetworkSpec(
        network=network,
        send_credentials=("access_token",),
        webhook_credentials=("app_secret", "verify_token"),
        webhook_path="/webhooks/meta",
        server_idempotency=False,
        key_echoed_back=echoed,
        note="one callback URL and verify token per Meta app; every page / number of the app shares it",
        identity=identity,
        routed_by_external_id=True,
    )


# --------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------


def verify_handshake(params: Mapping[str, str], verify_token: str) -> str:
    """Answer Meta's subscription check: return ``hub.challenge`` if the verify token matches."""
    if not verify_token:
        raise SignatureError("no verify token configured for this webhook", 403)
    if params.get("hub.mode") != "subscribe":
        raise SignatureError("hub.mode must be 'subscribe'", 403)
    given = params.get("hub.verify_token") or ""
    if not hmac.compare_digest(given.encode(), verify_token.encode()):
        raise SignatureError("hub.verify_token does not match", 403)
    challenge = params.get("hub.challenge")
    if not challenge:
        raise SignatureError("hub.challenge is missing", 403)
    return challenge


def sign(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends for `body` (for tests and replay tools)."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


_SIGNATURE_RE = re.compile(r"sha256=([0-9a-fA-F]{64})")


def verify_signature(headers: Mapping[str, str], body: bytes, app_secret: str) -> None:
    """Raise SignatureError unless `body` carries a valid HMAC-SHA256 of the app secret.

    401 when the header is missing or garbled, 403 when it is well formed but wrong.
    """
    if not app_secret:
        # An empty key would make the HMAC computable by anyone: fail closed.
        raise SignatureError("no app secret configured; refusing unsigned webhooks", 401)
    given = http.header(headers, SIGNATURE_HEADER)
    if not given:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header", 401)
    match = _SIGNATURE_RE.fullmatch(given.strip())
    if match is None:
        raise SignatureError(f"{SIGNATURE_HEADER} is not 'sha256=<64 hex digits>'", 401)
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(match.group(1).lower(), expected):
        raise SignatureError(f"{SIGNATURE_HEADER} does not match the body", 403)


def verify(body: bytes, headers: Mapping[str, str], app_secret: str) -> None:
    """`verify_signature` in the call shape of every network's verifier."""
    verify_signature(headers, body, app_secret)


def parse_delivery(body: bytes, account_ref: str | None) -> ParseResult:
    """`parse` in the call shape of every network's parser: a Meta body names its accounts."""
    del account_ref
    return parse(body)


def parse(body: bytes) -> ParseResult:
    """Parse one Meta webhook body (any object type) into events, statuses, ignored and errors.

    Raises ValueError only when the body as a whole is unusable (not JSON, not an object).
    """
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"webhook body is not valid JSON ({exc})") from None
    if not isinstance(payload, dict):
        raise ValueError(f"webhook body must be a JSON object, got {type(payload).__name__}")

    result = ParseResult()
    kind = payload.get("object")
    parse_entry = _entry_parser(kind)
    if parse_entry is None:
        result.ignored.append(f"object: {kind!r} is not a Meta object we handle")
        return result
    entries = payload.get("entry")
    if not isinstance(entries, list):
        result.errors.append("entry: missing or not a list")
        return result
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            result.errors.append(f"entry[{index}]: expected an object, got {type(entry).__name__}")
            continue
        merge(result, parse_entry(entry, index))
    return result


def _entry_parser(kind: Any) -> Callable[[dict[str, Any], int], ParseResult] | None:
    # Imported here: each of them imports this module for what the networks share.
    from relaydesk.channels import facebook, instagram, whatsapp

    parsers: dict[str, Callable[[dict[str, Any], int], ParseResult]] = {
        "page": facebook.parse_entry,
        "instagram": instagram.parse_entry,
        "whatsapp_business_account": whatsapp.parse_entry,
    }
    return parsers.get(kind) if isinstance(kind, str) else None


# --------------------------------------------------------------------------------------------
# Sending
# --------------------------------------------------------------------------------------------


RATE_LIMIT_CODES = frozenset(
    {4, 17, 32, 613, 80001, 80002, 80003, 80004, 80005, 80006, 80007, 80008, 80009, 80014, 130429, 131056}
)
TOKEN_CODES = frozenset({190, 102})
TRANSIENT_CODES = frozenset({1, 2, 131000, 131016, 133004})
UNDELIVERABLE_CODES = frozenset({131026, 551})
# Messenger / Instagram: code 10 with these subcodes means "outside the allowed window".
WINDOW_SUBCODES = frozenset({2018278, 2534022})
WHATSAPP_WINDOW_CODE = 131047
ALREADY_REPLIED_CODE = 10900  # a private reply was already sent for this comment


MAX_RETRY_AFTER_S = 24 * 3600.0


def _seconds(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return min(max(number, 0.0), MAX_RETRY_AFTER_S) if math.isfinite(number) else None


def _retry_after(headers: Mapping[str, str], now: datetime) -> float | None:
    raw = http.header(headers, "Retry-After")
    if raw:
        raw = raw.strip()
        seconds = _seconds(raw)
        if seconds is not None:
            return seconds
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return _seconds((when - now).total_seconds())
    usage = http.header(headers, "X-Business-Use-Case-Usage")
    if usage:
        try:
            data = json.loads(usage)
        except json.JSONDecodeError:
            return None
        # {"<business id>": [{"type": ..., "estimated_time_to_regain_access": <minutes>}]}
        minutes = [
            _seconds(item.get("estimated_time_to_regain_access")) or 0.0
            for items in (data.values() if isinstance(data, dict) else [])
            if isinstance(items, list)
            for item in items
            if isinstance(item, dict)
        ]
        if minutes and max(minutes) > 0:
            return _seconds(max(minutes) * 60.0)
    return None


def _redact(text: str, secret: str | None) -> str:
    if secret and secret in text:
        text = text.replace(secret, "[redacted]")
    return text


def _external_id(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return None
    for key in ("message_id", "id"):
        found = id_str(payload.get(key))
        if found:
            return found
    messages = payload.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        return id_str(messages[0].get("id"))
    return None


def classify_response(
    status_code: int,
    headers: Mapping[str, str],
    payload: Any,
    *,
    now: datetime | None = None,
    token: str | None = None,
) -> SendResult:
    """Map a Graph API answer to a SendResult (pure: no I/O, so every branch is unit-tested)."""
    now = now or datetime.now(UTC)
    if 200 <= status_code < 300:
        return SendResult(ok=True, external_id=_external_id(payload))

    error = payload.get("error") if isinstance(payload, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code") if isinstance(error.get("code"), int) else None
    subcode = error.get("error_subcode") if isinstance(error.get("error_subcode"), int) else None
    message = text_of(error.get("message")) or f"HTTP {status_code} from Graph API"
    details = text_of(dig(error, "error_data.details"))
    if details and details not in message:
        message = f"{message}: {details}"
    message = _redact(message, token)
    label = f"Graph error {code}" if code is not None else f"HTTP {status_code}"
    described = f"{label}: {message}" if code is not None else message

    if code in TOKEN_CODES:
        return SendResult(ok=False, error=described, code="token_expired")
    if code == WHATSAPP_WINDOW_CODE or (code == 10 and subcode in WINDOW_SUBCODES):
        return SendResult(ok=False, error=described, code="window_closed")
    if status_code == 429 or code in RATE_LIMIT_CODES:
        wait = _retry_after(headers, now)
        return SendResult(
            ok=False,
            error=described,
            retryable=True,
            retry_after=DEFAULT_RATE_LIMIT_WAIT_S if wait is None else wait,
        )
    if code in UNDELIVERABLE_CODES or (code == 100 and subcode == 2018001):
        return SendResult(ok=False, error=described, code="undeliverable")
    if code == ALREADY_REPLIED_CODE:
        return SendResult(ok=False, error=described, code="already_replied")
    if status_code >= 500 or code in TRANSIENT_CODES or error.get("is_transient") is True:
        return SendResult(ok=False, error=described, retryable=True, retry_after=_retry_after(headers, now))
    return SendResult(ok=False, error=described)


def _builder(network: str) -> Callable[[OutboundRequest], GraphCall] | None:
    from relaydesk.channels import facebook, instagram, whatsapp

    builders: dict[str, Callable[[OutboundRequest], GraphCall]] = {
        "facebook": facebook.build_request,
        "instagram": instagram.build_request,
        "whatsapp": whatsapp.build_request,
    }
    return builders.get(network)


class GraphSender:
    """Posts replies for facebook / instagram / whatsapp through the Graph API.

    ``credentials`` must hold ``access_token`` (a Page token for facebook and instagram with
    Facebook Login, a system-user token for WhatsApp). The token travels in the Authorization
    header, never in the URL, and is scrubbed from every error string.

    Use ``async with GraphSender(...) as sender`` to share one connection pool across sends;
    without it each send opens and closes its own client.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.base_url = base_url
        self._transport = transport
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, transport=self._transport, timeout=self._timeout)

    async def __aenter__(self) -> GraphSender:
        if self._client is None:
            self._client = self._new_client()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _post(
        self,
        client: httpx.AsyncClient,
        req: OutboundRequest,
        call: GraphCall,
        build: Callable[[OutboundRequest], GraphCall],
        headers: dict[str, str],
        token: str,
    ) -> httpx.Response | SendResult:
        """The reply's call; a WhatsApp file is uploaded first (``POST /{phone}/media``) and the
        message then names it by id. A retried send uploads again: an unused upload expires."""
        if req.files and req.network == "whatsapp":
            file = req.files[0]
            uploaded = await client.post(
                f"/{req.account_external_id}/media",
                data={"messaging_product": "whatsapp", "type": file.mime_type},
                files={"file": (file.name, file.data, file.mime_type)},
                headers=headers,
            )
            try:
                answer: Any = uploaded.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                answer = None
            media_id = answer.get("id") if isinstance(answer, dict) and uploaded.status_code == 200 else None
            if not isinstance(media_id, str) or not media_id:
                return classify_response(uploaded.status_code, uploaded.headers, answer, token=token)
            try:
                call = build(replace(req, extra={**req.extra, "media": {"id": media_id}}))
            except ValueError as exc:
                return SendResult(ok=False, error=_redact(str(exc), token), code="invalid_request")
        if call.file is not None:
            # Form fields hold JSON text (the Send API's multipart form), the file its bytes.
            fields = {k: v if isinstance(v, str) else json.dumps(v) for k, v in call.body.items()}
            upload = {"filedata": (call.file.name, call.file.data, call.file.mime_type)}
            return await client.post(call.path, data=fields, files=upload, headers=headers)
        return await client.post(call.path, json=call.body, headers=headers)

    async def send(self, req: OutboundRequest, credentials: dict[str, Any]) -> SendResult:
        build = _builder(req.network)
        if build is None:
            return SendResult(ok=False, error=f"network {req.network!r} is not sent through Graph API")
        token = credentials.get("access_token")
        if not isinstance(token, str) or not token:
            return SendResult(
                ok=False, error="no access_token in the account credentials", code="token_expired"
            )
        try:
            call = build(req)
        except ValueError as exc:
            return SendResult(ok=False, error=_redact(str(exc), token), code="invalid_request")

        headers = {"Authorization": f"Bearer {token}"}
        try:
            if self._client is not None:
                response = await self._post(self._client, req, call, build, headers, token)
            else:
                async with self._new_client() as client:
                    response = await self._post(client, req, call, build, headers, token)
            if isinstance(response, SendResult):
                return response
        except httpx.TimeoutException as exc:
            # The request may have reached Meta: only the outbox can decide whether to resend.
            logger.warning("graph send timed out: network=%s mode=%s", req.network, req.mode)
            return SendResult(
                ok=False, error=f"timed out talking to Graph API ({type(exc).__name__})", retryable=True
            )
        except httpx.TransportError as exc:
            logger.warning(
                "graph send failed: network=%s mode=%s %s", req.network, req.mode, type(exc).__name__
            )
            return SendResult(
                ok=False, error=f"network error talking to Graph API ({type(exc).__name__})", retryable=True
            )

        try:
            payload: Any = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            payload = None
        result = classify_response(response.status_code, response.headers, payload, token=token)
        if not result.ok:
            logger.info(
                "graph send refused: network=%s mode=%s status=%s code=%s retryable=%s",
                req.network,
                req.mode,
                response.status_code,
                result.code,
                result.retryable,
            )
        return result


# Where Meta serves the files customers send (the address comes in the signed webhook).
CDN_HOSTS = (".fbcdn.net", ".fbsbx.com")


def fetch_cdn_media(
    attachment: Mapping[str, Any], credentials: Mapping[str, Any], client: httpx.Client
) -> bytes:
    """A Messenger or Instagram file: its CDN address, fetched only from Meta's own hosts."""
    del credentials  # the address is signed; no token is sent to a CDN
    url = str(attachment.get("url") or "")
    host = httpx.URL(url).host if url.startswith("https://") else ""
    if not host.endswith(CDN_HOSTS):
        raise MediaUnavailable("not an address of Meta's file servers")
    return download(client, url)
