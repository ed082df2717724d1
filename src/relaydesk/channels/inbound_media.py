"""Customers' files, fetched from their network the first time someone opens them, then kept.

Networks send a reference, not the file (a WhatsApp media id, a Telegram file_id, a Meta CDN
address), and the reference expires. The first colleague who opens the file has RelayDesk fetch
it server-side (the customer never learns who looked, and the page loads nothing from outside);
the bytes are checked like an agent's upload (core.media) and kept in media_files, so later
views and other processes read the database.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from relaydesk.auth.crypto import SecretBox
from relaydesk.channels import registry
from relaydesk.channels.channel import MediaUnavailable
from relaydesk.core.media import MEDIA_TYPES, media_type
from relaydesk.db import reading, transaction
from relaydesk.models import ChannelAccount, MediaFile, Message

FETCH_TIMEOUT_S = 20.0


def fetchable_networks() -> set[str]:
    """The networks whose customers' files RelayDesk can fetch (the page offers them inline)."""
    return {name for name, c in registry.channels().items() if c.fetch_media is not None}


def fetch_inbound(
    sessions: sessionmaker[Session],
    box: SecretBox,
    message_id: int,
    index: int,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """The media_files id of the message's `index`-th attachment, fetched now if not yet kept.

    The caller has checked that the person may see the message. MediaUnavailable says why not.
    """
    with reading(sessions) as session:
        message = session.get(Message, message_id)
        account = session.get(ChannelAccount, message.account_id) if message is not None else None
        items: list[Any] = list(message.attachments or []) if message is not None else []
        if (
            message is None
            or account is None
            or not 0 <= index < len(items)
            or not isinstance(items[index], dict)
        ):
            raise MediaUnavailable("no such attachment")
        attachment = dict(items[index])
        if attachment.get("media_id"):
            return int(attachment["media_id"])
        channel = registry.channel(account.network)
        if channel is None or channel.fetch_media is None:
            raise MediaUnavailable(f"files sent on {account.network} are not fetched by RelayDesk")
        credentials = box.open(account.credentials_encrypted) or {}
    with httpx.Client(transport=transport, timeout=FETCH_TIMEOUT_S, follow_redirects=False) as client:
        data = channel.fetch_media(attachment, credentials, client)
    mime = media_type(data)
    if mime is None:
        raise MediaUnavailable("the file is not of a type RelayDesk shows")
    with transaction(sessions) as session:
        message = session.get(Message, message_id, with_for_update=True)
        assert message is not None
        current = list(message.attachments or [])
        if isinstance(current[index], dict) and current[index].get("media_id"):
            return int(current[index]["media_id"])  # a colleague fetched it meanwhile
        row = MediaFile.holding(
            data,
            mime,
            org_id=message.org_id,
            conversation_id=message.conversation_id,
            name=str(attachment.get("name") or f"{MEDIA_TYPES[mime]}-{message_id}-{index + 1}"),
        )
        session.add(row)
        session.flush()
        current[index] = {**current[index], "media_id": row.id, "mime_type": mime, "size": len(data)}
        message.attachments = current
        return row.id
