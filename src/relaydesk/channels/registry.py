"""What RelayDesk knows about each network, in one table: how its webhooks are checked and read,
which sender posts its replies, and which credential names an account of it needs.

Endpoints, the outbox and `relaydesk channels check` all read this table, so adding a network is
one entry here plus its module. Verifiers and parsers are normalised to one call shape each:
``verify(body, headers, secret)`` raises ``SignatureError``; ``parse(body, account_ref)`` returns a
``ParseResult`` (``account_ref`` is our id on the network: the bot id, the mailbox, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from relaydesk.channels.base import OutboundRequest, ParseResult, SendResult

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
    note: str = ""
    # What the account's external_id is on the network, in words ("page", "phone number id").
    identity: str = "account"


def _meta(network: str, echoed: bool, identity: str) -> NetworkSpec:
    return NetworkSpec(
        network=network,
        send_credentials=("access_token",),
        webhook_credentials=("app_secret", "verify_token"),
        webhook_path="/webhooks/meta",
        server_idempotency=False,
        key_echoed_back=echoed,
        note="one callback URL and verify token per Meta app; every page / number of the app shares it",
        identity=identity,
    )


SPECS: dict[str, NetworkSpec] = {
    # Messenger echoes carry message.metadata, WhatsApp statuses carry biz_opaque_callback_data;
    # Instagram hands nothing back.
    "facebook": _meta("facebook", echoed=True, identity="page"),
    "instagram": _meta("instagram", echoed=False, identity="user id"),
    "whatsapp": _meta("whatsapp", echoed=True, identity="phone number id"),
    "x": NetworkSpec(
        network="x",
        send_credentials=("access_token",),
        webhook_credentials=("consumer_secret",),
        webhook_path="/webhooks/x",
        server_idempotency=False,
        identity="user",
    ),
    "telegram": NetworkSpec(
        network="telegram",
        send_credentials=("bot_token",),
        webhook_credentials=("webhook_secret",),
        webhook_path="/webhooks/telegram/{account_id}",
        server_idempotency=False,
        aliases={"bot_token": ("token",), "webhook_secret": ("secret_token",)},
        note="call setWebhook with this url and secret_token=<webhook_secret>",
        identity="bot",
    ),
    "line": NetworkSpec(
        network="line",
        send_credentials=("channel_access_token",),
        webhook_credentials=("channel_secret",),
        webhook_path="/webhooks/line/{account_id}",
        server_idempotency=True,  # X-Line-Retry-Key on push
        aliases={"channel_access_token": ("access_token",)},
        identity="bot",  # the `destination` of its webhooks
    ),
    "email": NetworkSpec(
        network="email",
        send_credentials=("host", "from_address"),
        webhook_credentials=(),
        webhook_path="",
        server_idempotency=True,  # our Message-ID is derived from the key; clients fold duplicates
        aliases={"from_address": ("username",)},
        note="no webhook: the mailbox is polled over IMAP",
        identity="mailbox",
    ),
    "generic": NetworkSpec(
        network="generic",
        send_credentials=("url",),
        webhook_credentials=("webhook_secret",),
        webhook_path="/webhooks/generic/{account_id}",
        server_idempotency=True,  # the receiver is told to treat `id` (our key) as the message id
        aliases={"url": ("outbound_url", "reply_url")},
        note="replies are POSTed to `url`, signed with `secret` (default: webhook_secret)",
        identity="source",
    ),
    "webchat": NetworkSpec(
        network="webchat",
        send_credentials=(),
        webhook_credentials=("widget_secret",),
        webhook_path="",
        server_idempotency=True,  # the widget fetches the stored reply: nothing to send twice
        note="embed the widget script on the site",
        identity="site",
    ),
    "listening": NetworkSpec(
        network="listening",
        send_credentials=(),
        webhook_credentials=(),
        webhook_path="",
        server_idempotency=True,
        note="listening queries only read; nothing is sent",
        identity="account",
    ),
}


def spec(network: str) -> NetworkSpec | None:
    return SPECS.get(network)


def identity_label(network: str, external_id: str) -> str:
    """An account's identity in words, e.g. "facebook page 1234", "whatsapp phone number id 5678"."""
    found = SPECS.get(network)
    return f"{network} {found.identity if found else 'id'} {external_id}"


def credential(credentials: Mapping[str, Any], spec_: NetworkSpec, name: str) -> Any:
    """The value of `name` in the account's credentials, or of one of its aliases."""
    for candidate in (name, *spec_.aliases.get(name, ())):
        value = credentials.get(candidate)
        if value not in (None, ""):
            return value
    return None


def missing(credentials: Mapping[str, Any], names: tuple[str, ...], spec_: NetworkSpec) -> list[str]:
    return [name for name in names if credential(credentials, spec_, name) is None]


def sender_credentials(network: str, credentials: Mapping[str, Any]) -> dict[str, Any]:
    """The credentials as the sender of `network` reads them (aliases filled in)."""
    out = dict(credentials)
    found = spec(network)
    if found is not None:
        for name in found.send_credentials:
            value = credential(credentials, found, name)
            if value is not None:
                out.setdefault(name, value)
    if network == "generic":
        # One secret both ways unless the account sets a separate outbound one.
        out.setdefault("secret", credentials.get("webhook_secret"))
    return out


# -- webhook verifiers and parsers, one call shape ---------------------------------------------


def verifier(network: str) -> Verifier | None:
    from relaydesk.channels import generic, line, meta, telegram, x

    verifiers: dict[str, Verifier] = {
        "facebook": lambda body, headers, secret: meta.verify_signature(headers, body, secret),
        "instagram": lambda body, headers, secret: meta.verify_signature(headers, body, secret),
        "whatsapp": lambda body, headers, secret: meta.verify_signature(headers, body, secret),
        "x": x.verify,
        "telegram": lambda _body, headers, secret: telegram.verify(headers, secret),
        "line": line.verify,
        "generic": lambda body, headers, secret: generic.verify(body, headers, secret),
    }
    return verifiers.get(network)


def parser(network: str) -> Parser | None:
    from relaydesk.channels import email, generic, line, meta, telegram, x

    parsers: dict[str, Parser] = {
        "facebook": lambda body, _ref: meta.parse(body),
        "instagram": lambda body, _ref: meta.parse(body),
        "whatsapp": lambda body, _ref: meta.parse(body),
        "x": lambda body, _ref: x.parse(body),
        "telegram": lambda body, ref: telegram.parse(body, bot_id=ref),
        "line": lambda body, _ref: line.parse(body),
        "email": lambda body, ref: email.parse(body, mailbox=ref),
        "generic": lambda body, ref: generic.parse(body, account_ref=ref),
    }
    return parsers.get(network)


# -- senders ---------------------------------------------------------------------------------


def default_senders() -> dict[str, Sender]:
    """One sender per network, talking to the real APIs (tests pass their own, on the fakes)."""
    from relaydesk.channels.email import SmtpSender
    from relaydesk.channels.generic import GenericSender
    from relaydesk.channels.line import LineSender
    from relaydesk.channels.meta import GraphSender
    from relaydesk.channels.telegram import TelegramSender
    from relaydesk.channels.x import XSender

    graph = GraphSender()
    return {
        "facebook": graph,
        "instagram": graph,
        "whatsapp": graph,
        "x": XSender(),
        "telegram": TelegramSender(),
        "line": LineSender(),
        "email": SmtpSender(),
        "generic": GenericSender(),
    }
