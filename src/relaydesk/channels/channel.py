"""What a network is to the rest of RelayDesk: one `Channel` per network module (its ``CHANNEL``).

The endpoints, the outbox, the reply builder and `relaydesk channels check` know no network by
name: they read the account's Channel (`registry.channel`). What differs between networks is
data on its `NetworkSpec` (credential names, webhook address, the words `channels check` uses) or
one of the few hooks below; a hook left at its default is "nothing special here".

Pure: no database, no HTTP client. Verifiers and parsers have one call shape each:
``verify(body, headers, secret)`` raises ``SignatureError``; ``parse(body, account_ref)`` returns a
``ParseResult`` (``account_ref`` is our id on the network: the bot id, the mailbox, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx

from relaydesk.channels.base import OutboundRequest, ParseResult, SendResult

# NetworkSpec.polled: how polling.py reads the network's accounts.
ALWAYS = "always"
WHEN_ASKED = "when asked"

Verifier = Callable[[bytes, Mapping[str, str], str], None]
Parser = Callable[[bytes, "str | None"], ParseResult]


class Sender(Protocol):
    async def send(self, req: OutboundRequest, credentials: dict[str, Any]) -> SendResult: ...


@dataclass(frozen=True)
class NetworkSpec:
    network: str
    # Credential names replies need (the sender reads them from the opened credentials).
    send_credentials: tuple[str, ...]
    # Credential names the inbound webhook needs (signature secret, verify token).
    webhook_credentials: tuple[str, ...]
    # The address to register with the network; "{account_id}" is filled in. "" = no webhook.
    webhook_path: str
    # The network de-duplicates on our idempotency key, so a resend after a crash is harmless.
    server_idempotency: bool
    # How our key comes back to us (echo / status webhook) when the network has no server-side
    # idempotency: the outbox waits for it before resending something that may have arrived.
    key_echoed_back: bool = False
    # Names that may stand in for a send credential (older configs, other libraries' names).
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Sender credential -> the credential it defaults to when the account does not set it.
    defaults: dict[str, str] = field(default_factory=dict)
    note: str = ""
    # What the account's external_id is on the network, in words ("page", "phone number id").
    identity: str = "account"
    # `channels check` words. `snippet`: what to put on a site instead of a webhook address
    # ("{base_url}", "{account_id}" filled in); `no_webhook`: why there is nothing to register;
    # `ready`: the webhook line once its credentials are there ("{address}", "{network}").
    snippet: str = ""
    no_webhook: str = ""
    ready: str = "ready: register {address} with {network}"
    no_replies: str = "this account does not send replies"
    # Its webhooks name the account by its id on the network (see ParsedEvent.account_ref).
    routed_by_external_id: bool = False
    # ALWAYS (it has no webhook), WHEN_ASKED (the account's settings say ``poll: true``: no
    # webhook access or no public URL), or "" (never polled).
    polled: str = ""


def message_mode(kind: str, raw: Mapping[str, Any]) -> str:
    """How a network without comment threads answers anything: a message to the customer."""
    del kind, raw
    return "message"


def no_reply_extra(
    raw: Mapping[str, Any], received_at: datetime | None, attempt: int, now: datetime
) -> dict[str, Any]:
    del raw, received_at, attempt, now
    return {}


def no_reply_check(
    settings: Mapping[str, Any] | None, last_inbound_at: datetime | None, template: str | None, now: datetime
) -> None:
    del settings, last_inbound_at, template, now


def no_template_check(settings: Mapping[str, Any] | None, template: str, values: list[str]) -> None:
    del settings, template, values


def always_open(
    settings: Mapping[str, Any] | None, last_inbound_at: datetime | None, now: datetime
) -> dict[str, Any]:
    del settings, last_inbound_at, now
    return {"window_open": True, "templates": []}


class MediaUnavailable(Exception):
    """The network will not hand the file over (expired, deleted, no access, unreachable)."""


MAX_FETCHED_BYTES = 16 * 1024 * 1024  # WhatsApp's own limit for images and audio


def download(client: httpx.Client, url: str, headers: Mapping[str, str] | None = None) -> bytes:
    """A file's bytes, read no further than MAX_FETCHED_BYTES; MediaUnavailable otherwise."""
    try:
        with client.stream("GET", url, headers=dict(headers or {})) as response:
            if response.status_code != 200:
                raise MediaUnavailable(f"the network answered {response.status_code}")
            data = bytearray()
            for chunk in response.iter_bytes():
                data.extend(chunk)
                if len(data) > MAX_FETCHED_BYTES:
                    raise MediaUnavailable(f"larger than {MAX_FETCHED_BYTES // 1_048_576} MB")
            return bytes(data)
    except httpx.HTTPError as exc:
        raise MediaUnavailable(f"the network could not be reached ({type(exc).__name__})") from exc


@dataclass(frozen=True)
class Channel:
    spec: NetworkSpec
    verify: Verifier | None = None
    parse: Parser | None = None
    # Makes the sender that talks to the real API. Networks sharing one API share the factory,
    # and `registry.default_senders` makes one sender per factory (one connection pool).
    sender: Callable[[], Sender] | None = None
    # -- replies (replies.py) --
    # (kind of the customer's message, its raw) -> OutboundRequest.mode of the answer.
    reply_mode: Callable[[str, Mapping[str, Any]], str] = message_mode
    # (raw of the customer's message, when it arrived, attempt, now) -> OutboundRequest.extra:
    # what the answer must carry to address that message (reply token, e-mail threading).
    reply_extra: Callable[[Mapping[str, Any], datetime | None, int, datetime], dict[str, Any]] = (
        no_reply_extra
    )
    # Raises core.errors.Refused for a reply the network would refuse anyway (settings, last
    # inbound time, template name, now).
    check_reply: Callable[[Mapping[str, Any] | None, datetime | None, str | None, datetime], None] = (
        no_reply_check
    )
    # Raises Refused for a template's values the network would refuse (settings, name, values).
    check_template: Callable[[Mapping[str, Any] | None, str, list[str]], None] = no_template_check
    # (settings, last inbound time, now) -> {"window_open", "templates"}: whether free text may go
    # now and, when not, the templates that may (WhatsApp's 24-hour window).
    reply_window: Callable[[Mapping[str, Any] | None, datetime | None, datetime], dict[str, Any]] = (
        always_open
    )
    # Fetches a customer's file (the stored attachment, the account's credentials, an HTTP
    # client) -> its bytes; raises MediaUnavailable. None: this network's files are not fetched.
    fetch_media: Callable[[Mapping[str, Any], Mapping[str, Any], httpx.Client], bytes] | None = None
    # Files one reply may carry on this network (0: none yet), and the most text that may go
    # with them (Telegram sends the text as the file's caption).
    max_files: int = 0
    max_text_with_files: int | None = None
    # -- per-account webhooks (service.py) --
    # The parser is given the account's external_id (the bot id), not None.
    parse_with_account_ref: bool = False
    # Words for an account other than the one the webhook address names ("another LINE bot"):
    # set when a body names its account, so events for another are refused.
    other_account: str = ""
    # A delivery in which nothing was valid is answered 422 (the sender is an integrator who can
    # fix the payload), not accepted with errors.
    refuse_unparsed: bool = False
    # -- outbox --
    # Storing the reply is its delivery (the widget fetches it): nothing is sent.
    delivered_by_storing: bool = False
