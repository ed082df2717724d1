"""Listening accounts: they only read (their queries are searched by the crisis slice), never send."""

from __future__ import annotations

from relaydesk.channels.channel import Channel, NetworkSpec

NETWORK = "listening"

CHANNEL = Channel(
    spec=NetworkSpec(
        network=NETWORK,
        send_credentials=(),
        webhook_credentials=(),
        webhook_path="",
        server_idempotency=True,
        note="listening queries only read; nothing is sent",
        identity="account",
        no_webhook="no webhook: listening queries poll the networks",
    ),
)
