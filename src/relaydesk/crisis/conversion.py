"""Turning a listening item into a conversation: which account holds it, and the message it becomes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from relaydesk.auth.scopes import Scope
from relaydesk.channels.base import InboundEvent
from relaydesk.core.enums import Network
from relaydesk.core.errors import NotFound, Refused
from relaydesk.core.timeutil import as_utc
from relaydesk.crisis import repository as repo
from relaydesk.models import ChannelAccount, ListeningItem, ListeningQuery


def target_account(
    session: Session,
    scope: Scope,
    item: ListeningItem,
    query: ListeningQuery,
    account_id: int | None,
) -> ChannelAccount:
    usable = (item.network, Network.LISTENING.value)
    if account_id is not None:
        account = repo.usable_account(session, scope, account_id)
        if account is None:
            raise NotFound(f"account_id: no active account {account_id} you can use")
        if account.network not in usable:
            raise Refused(
                f"account_id: a {item.network} post can become a conversation on a {item.network} "
                f"or a listening account, not on {account.network}"
            )
        return account
    candidates = repo.usable_accounts(session, scope, usable)
    if not candidates:
        raise Refused(
            f"no {item.network} or listening account to hold this conversation; add one, or pass account_id"
        )
    brand_path = repo.location_path(session, query.brand_location_id) if query.brand_location_id else ""

    def rank(account: ChannelAccount) -> tuple[int, int, int]:
        # Prefer the post's own network (the reply can go out there), then the query's brand.
        inside = bool(brand_path) and repo.location_path(session, account.location_id).startswith(brand_path)
        return (0 if account.network == item.network else 1, 0 if inside else 1, account.id)

    return min(candidates, key=rank)


def event_for(item: ListeningItem, query: ListeningQuery, account: ChannelAccount) -> InboundEvent:
    native = account.network == item.network
    raw: dict[str, Any] = dict(item.raw or {}) if isinstance(item.raw, dict) else {}
    raw.update(
        {
            "lang": item.language,
            "listening": {
                "item_id": item.id,
                "query": query.name,
                "network": item.network,
                "url": item.url,
            },
        }
    )
    thread = raw.get("conversation_id") if native and item.network == Network.X.value else None
    return InboundEvent(
        network=account.network,
        # On the post's own network the ids are the network's, so a later webhook for the
        # same post finds this message; on a listening account they are namespaced by network.
        external_id=item.external_id if native else f"{item.network}:{item.external_id}",
        author_id=item.author_id if native else f"{item.network}:{item.author_id}",
        text=item.text,
        author_handle=item.author_handle,
        author_name=item.author_handle,
        sent_at=as_utc(item.posted_at),
        thread_id=str(thread) if thread else None,
        kind="mention",
        raw=raw,
        author_followers=item.author_followers,
        lang_hint=item.language,
    )
