"""Every network RelayDesk knows, by name: network -> its module's ``CHANNEL``.

Endpoints, the outbox, the reply builder and `relaydesk channels check` all read this mapping, so
adding a network is its module (ending in ``CHANNEL = Channel(...)``) plus one line in `_load`.
The modules are imported on first use: the CLI starts without them, and they may import what
imports this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from relaydesk.channels.channel import Channel, NetworkSpec, Parser, Sender, Verifier

__all__ = [
    "Channel",
    "NetworkSpec",
    "Parser",
    "Sender",
    "Verifier",
    "channel",
    "channels",
    "credential",
    "default_senders",
    "identity_label",
    "missing",
    "parser",
    "sender_credentials",
    "spec",
    "verifier",
]


@cache
def _load() -> dict[str, Channel]:
    from relaydesk.channels import (
        email,
        facebook,
        generic,
        instagram,
        line,
        listening,
        telegram,
        webchat_channel,
        whatsapp,
        x,
    )

    found = [
        facebook.CHANNEL,
        instagram.CHANNEL,
        whatsapp.CHANNEL,
        x.CHANNEL,
        telegram.CHANNEL,
        line.CHANNEL,
        email.CHANNEL,
        generic.CHANNEL,
        webchat_channel.CHANNEL,
        listening.CHANNEL,
    ]
    return {c.spec.network: c for c in found}


def channels() -> Mapping[str, Channel]:
    return _load()


def channel(network: str) -> Channel | None:
    return _load().get(network)


def spec(network: str) -> NetworkSpec | None:
    found = channel(network)
    return found.spec if found else None


def identity_label(network: str, external_id: str) -> str:
    """An account's identity in words, e.g. "facebook page 1234", "whatsapp phone number id 5678"."""
    found = spec(network)
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
    """The credentials as the sender of `network` reads them (aliases and defaults filled in)."""
    out = dict(credentials)
    found = spec(network)
    if found is not None:
        for name in found.send_credentials:
            value = credential(credentials, found, name)
            if value is not None:
                out.setdefault(name, value)
        for name, source in found.defaults.items():
            out.setdefault(name, credentials.get(source))
    return out


def verifier(network: str) -> Verifier | None:
    found = channel(network)
    return found.verify if found else None


def parser(network: str) -> Parser | None:
    found = channel(network)
    return found.parse if found else None


def default_senders() -> dict[str, Sender]:
    """One sender per network, talking to the real APIs (tests pass their own, on the fakes)."""
    made: dict[Any, Sender] = {}
    out: dict[str, Sender] = {}
    for network, found in _load().items():
        if found.sender is not None:
            if found.sender not in made:
                made[found.sender] = found.sender()
            out[network] = made[found.sender]
    return out
