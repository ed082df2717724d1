"""The web-chat widget as a network: what `channels check` and the outbox need to know of it.

Apart from webchat.py (the widget's endpoints and visitor sessions) so that reading the network
table does not load the web framework.
"""

from __future__ import annotations

from relaydesk.channels.channel import Channel, NetworkSpec

NETWORK = "webchat"

CHANNEL = Channel(
    spec=NetworkSpec(
        network=NETWORK,
        send_credentials=(),
        webhook_credentials=("widget_secret",),
        webhook_path="",
        server_idempotency=True,  # the widget fetches the stored reply: nothing to send twice
        note="embed the widget script on the site",
        identity="site",
        snippet='<script src="{base_url}/webchat/widget.js" data-account="{account_id}"></script>',
        ready="ready: embed {address} on the site",
        no_replies="nothing to set up",
    ),
    delivered_by_storing=True,
)
