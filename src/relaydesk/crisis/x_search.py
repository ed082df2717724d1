"""Searching X for the listening queries: which queries to search, with which accounts, from where.

The poller (channels/polling.py) runs without a caller: these reads span the installation.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from relaydesk.core.enums import Network
from relaydesk.crisis import listening
from relaydesk.crisis import repository as repo
from relaydesk.models import ChannelAccount, ListeningQuery


@dataclass(frozen=True)
class XSearchJob:
    """One listening query to search on X (recent search), and where the last search stopped."""

    query_id: int
    name: str
    search: str  # the X search query (`listening.x_search_query`)
    since_id: str | None
    names_x: bool  # the query lists x among its networks, rather than listening everywhere
    account_ids: tuple[int, ...]  # the organisation's X accounts to search with, best first


def _newer_id(a: str | None, b: str) -> str:
    if a is None or not a.isdigit() or not b.isdigit():
        return b if a is None or b.isdigit() else a
    return a if int(a) >= int(b) else b


def newer_id(a: str | None, b: str) -> str:
    """The later of two post ids (X ids grow with time); a non-numeric id loses to a numeric one."""
    if a is None or not a.isdigit() or not b.isdigit():
        return b if a is None or b.isdigit() else a
    return a if int(a) >= int(b) else b


def search_jobs(session: Session) -> list[XSearchJob]:
    """Every active query that listens on X, with its since-id and the accounts to search with.

    An account is usable when it is an active, non-sandbox X account of the query's
    organisation; one inside the query's brand comes first (the poller still checks that it
    has a token).
    """
    jobs: list[XSearchJob] = []
    for query in repo.active_queries(session):
        networks = [str(n).lower() for n in query.networks or []]
        keywords = [str(k) for k in query.keywords or []]
        if (networks and Network.X.value not in networks) or not keywords:
            continue
        seen = (query.cursor or {}).get(Network.X.value)
        jobs.append(
            XSearchJob(
                query_id=query.id,
                name=query.name,
                search=listening.x_search_query(
                    keywords,
                    [str(e) for e in query.exclude or []],
                    [str(lang) for lang in query.languages or []],
                ),
                since_id=seen if isinstance(seen, str) and seen.isdigit() else None,
                names_x=bool(networks),
                account_ids=_x_accounts(session, query),
            )
        )
    return jobs


def _x_accounts(session: Session, query: ListeningQuery) -> tuple[int, ...]:
    accounts = repo.active_x_accounts(session, query.org_id)
    brand = repo.location_path(session, query.brand_location_id) if query.brand_location_id else ""
    usable = [a for a in accounts if (a.settings or {}).get("sandbox") is not True]

    def rank(account: ChannelAccount) -> tuple[int, int]:
        inside = bool(brand) and repo.location_path(session, account.location_id).startswith(brand)
        return (0 if inside else 1, account.id)

    return tuple(a.id for a in sorted(usable, key=rank))
