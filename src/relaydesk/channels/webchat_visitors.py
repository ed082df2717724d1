"""The web-chat widget's account and the visitor's side of the conversation, read and written.

There is no network to deliver agent replies to: the widget fetching them is the delivery, and
they are marked delivered when it does.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from fastapi import HTTPException
from pydantic import BaseModel, Field

from relaydesk.auth.crypto import SecretKeyMissing
from relaydesk.channels import repository
from relaydesk.channels.webchat_tokens import TokenError, read_visitor_token
from relaydesk.container import Container
from relaydesk.core.enums import DeliveryStatus, Direction, Network
from relaydesk.core.timeutil import as_utc, utcnow
from relaydesk.db import transaction

PAGE_SIZE = 100
# Replies the visitor must not see: held for approval, or turned down by a manager.
HIDDEN_STATUSES = ("draft", "rejected")
ALREADY_DELIVERED = (DeliveryStatus.DELIVERED.value, DeliveryStatus.READ.value)


@dataclass(frozen=True)
class Widget:
    account_id: int
    org_id: int
    secret: str
    allowed_origins: frozenset[str]  # empty: any origin


def normal_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def load_widget(container: Container, account_id: int) -> Widget:
    with container.sessions() as session:
        account = repository.account(session, account_id)
        if account is None or account.network != Network.WEBCHAT.value or not account.active:
            raise HTTPException(status_code=404, detail=f"no web chat {account_id}")
        org_id, sealed, settings = account.org_id, account.credentials_encrypted, dict(account.settings or {})
    try:
        secret = container.box.open(sealed).get("widget_secret")
    except SecretKeyMissing as exc:
        raise HTTPException(status_code=503, detail="web chat is not configured correctly") from exc
    if not isinstance(secret, str) or not secret:
        raise HTTPException(status_code=503, detail="web chat has no widget_secret configured")
    origins = settings.get("allowed_origins") or []
    allowed = (
        frozenset(normal_origin(o) for o in origins if isinstance(o, str))
        if isinstance(origins, list)
        else frozenset()
    )
    return Widget(account_id=account_id, org_id=org_id, secret=secret, allowed_origins=allowed)


# -- the visitor ----------------------------------------------------------------------------


def authenticate(container: Container, widget: Widget, token: str | None, cors: dict[str, str]) -> str:
    """The key of the visitor the token names; 401/403 when there is none or it is not ours."""
    if not token:
        raise HTTPException(
            status_code=401, detail="send the visitor token (Authorization: Bearer <token>)", headers=cors
        )
    try:
        key = read_visitor_token(widget.secret, token, widget.account_id, time.time())
    except TokenError as exc:
        raise HTTPException(status_code=403, detail=f"{exc}; start a new session", headers=cors) from None
    with container.sessions() as session:
        known = repository.visitor_exists(session, widget.account_id, key)
    if not known:
        raise HTTPException(status_code=403, detail="unknown visitor; start a new session", headers=cors)
    return key


def open_session(
    container: Container, widget: Widget, key: str | None, name: str | None, email: str | None
) -> tuple[str, bool]:
    """The visitor key (a new one when `key` is None) and whether the visitor was known."""
    now = utcnow()
    with transaction(container.sessions) as session:
        if key is not None:
            visitor = repository.visitor(session, widget.account_id, key)
            if visitor is None:
                raise HTTPException(status_code=403, detail="unknown visitor; start a new session")
            visitor.last_seen_at = now
            if name:
                visitor.name = name
            if email:
                visitor.email = email
            return key, True
        key = secrets.token_urlsafe(18)
        repository.add_visitor(session, widget.account_id, key, name, email, now)
        return key, False


def profile(container: Container, widget: Widget, key: str) -> tuple[str | None, str | None]:
    """The visitor's (name, email) as given when opening the session."""
    with container.sessions() as session:
        return repository.visitor_profile(session, widget.account_id, key)


def external_prefix(key: str) -> str:
    # Message ids are namespaced by visitor: a client-chosen id can never land on (and reveal)
    # another visitor's message through the pipeline's duplicate check.
    return f"{key}:"


def _conversations_of(container: Container, widget: Widget, key: str) -> list[int]:
    with container.sessions() as session:
        contact_id = repository.identity_contact_id(session, widget.org_id, Network.WEBCHAT.value, key)
        if contact_id is None:
            return []
        # The pipeline threads onto the surviving contact of a merge; follow the same chain.
        for _ in range(10):
            merged = repository.merged_into(session, contact_id)
            if merged is None:
                break
            contact_id = merged
        return repository.conversations_written_in(
            session, widget.account_id, contact_id, external_prefix(key)
        )


# -- the visitor's messages -----------------------------------------------------------------


class VisitorMessage(BaseModel):
    id: int
    sender: str = Field(description="visitor or agent")
    text: str
    author: str | None = Field(description="the agent's first name for agent messages")
    client_id: str | None = Field(description="the id the widget gave its own message")
    sent_at: datetime


def fetch(container: Container, widget: Widget, key: str, after: int) -> tuple[list[VisitorMessage], int]:
    """The visitor's messages after `after`, and the id to continue from."""
    conversation_ids = _conversations_of(container, widget, key)
    if not conversation_ids:
        return [], after
    prefix = external_prefix(key)
    with transaction(container.sessions) as session:
        rows = repository.conversation_messages(
            session, conversation_ids, widget.account_id, after, PAGE_SIZE
        )
        visible = [
            m
            for m in rows
            if (m.direction == Direction.INBOUND.value and (m.external_id or "").startswith(prefix))
            or (m.direction == Direction.OUTBOUND.value and m.delivery_status not in HIDDEN_STATUSES)
        ]
        authors = {m.author_user_id for m in visible if m.author_user_id}
        names = (
            {u.id: (u.name.split() or [""])[0] for u in repository.users(session, authors)} if authors else {}
        )
        out = []
        for m in visible:
            inbound = m.direction == Direction.INBOUND.value
            if not inbound and m.delivery_status not in ALREADY_DELIVERED:
                m.delivery_status = DeliveryStatus.DELIVERED.value
                m.delivery_error = None
            out.append(
                VisitorMessage(
                    id=m.id,
                    sender="visitor" if inbound else "agent",
                    text=m.text,
                    author=None if inbound else names.get(m.author_user_id or 0) or None,
                    client_id=(m.external_id or "")[len(prefix) :] if inbound else None,
                    sent_at=as_utc(m.sent_at) or m.sent_at,
                )
            )
        # The cursor passes rows hidden for good (rejected drafts, someone else's words after a
        # merge) but stops before a reply waiting for approval: approving keeps its id.
        cursor = after
        for m in rows:
            if m.direction == Direction.OUTBOUND.value and m.delivery_status == "draft":
                break
            cursor = m.id
        return out, cursor
