"""Queries of the intake queue (`staged_events`): accepted webhook events before they are messages.

The only place that runs them; `staging.py` appends, `Pipeline.materialise` turns rows into
messages (one materialiser at a time, see `materialiser_lock`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, func, select
from sqlalchemy.orm import Session

from relaydesk.models import ChannelAccount, IgnoredEvent, Message, Organization, StagedEvent
from relaydesk.models.upsert import conflict_insert

PENDING = "pending"
DONE = "done"
DEAD = "dead"

# One materialiser at a time across every worker process (PostgreSQL; SQLite has one writer):
# events become messages, and their work items get ids, in the order they were accepted.
MATERIALISE_LOCK = 0x52445354  # "RDST"


@dataclass(frozen=True)
class StagedRef:
    id: int
    account_id: int
    external_id: str
    message_id: int | None


def stage(session: Session, rows: list[dict[str, Any]]) -> list[StagedRef]:
    """Append the rows; returns the ones inserted (a row already staged is left as it is)."""
    if not rows:
        return []
    # A Core insert: the ORM's bulk path cost more than the SQL (cProfile of `staging.write`).
    table = cast(Table, StagedEvent.__table__)
    stmt = (
        conflict_insert(session, table)
        .on_conflict_do_nothing(index_elements=["account_id", "external_id"])
        .returning(table.c.id, table.c.account_id, table.c.external_id)
    )
    # executemany: one cached statement, sent in batches ("insertmanyvalues"); the rows come
    # back named by their key, so the order they come back in does not matter.
    return [StagedRef(int(r[0]), int(r[1]), str(r[2]), None) for r in session.execute(stmt, rows)]


def staged_refs(session: Session, keys: set[tuple[int, str]]) -> dict[tuple[int, str], StagedRef]:
    """The staged rows of these (account id, external id) pairs, with their message once stored."""
    out: dict[tuple[int, str], StagedRef] = {}
    by_account: dict[int, list[str]] = {}
    for account_id, external_id in keys:
        by_account.setdefault(account_id, []).append(external_id)
    for account_id, external_ids in by_account.items():
        rows = session.execute(
            select(StagedEvent.id, StagedEvent.external_id, StagedEvent.message_id).where(
                StagedEvent.account_id == account_id, StagedEvent.external_id.in_(sorted(external_ids))
            )
        )
        for row in rows:
            out[(account_id, str(row[1]))] = StagedRef(int(row[0]), account_id, str(row[1]), row[2])
    return out


def conversations_of(session: Session, message_ids: list[int]) -> dict[int, int]:
    """message id -> conversation id."""
    if not message_ids:
        return {}
    rows = session.execute(select(Message.id, Message.conversation_id).where(Message.id.in_(message_ids)))
    return {int(r[0]): int(r[1]) for r in rows}


def materialiser_lock(session: Session) -> bool:
    """Whether this transaction may turn staged events into messages (held until it ends)."""
    if session.get_bind().dialect.name != "postgresql":
        return True  # the transaction already holds SQLite's only write lock (db.py)
    # Advisory locks are per database: the schema in the key keeps installations (or test
    # workers) sharing one database in separate schemas from waiting on each other.
    key = func.hashtext(func.current_schema())
    return bool(session.scalar(select(func.pg_try_advisory_xact_lock(MATERIALISE_LOCK, key))))


def accounts_and_organisations(session: Session, account_ids: set[int]) -> list[object]:
    """The accounts and their organisations, read in two queries (kept by the caller: see `materialise.run`)."""
    if not account_ids:
        return []
    accounts = list(session.scalars(select(ChannelAccount).where(ChannelAccount.id.in_(sorted(account_ids)))))
    org_ids = sorted({a.org_id for a in accounts})
    organisations = list(session.scalars(select(Organization).where(Organization.id.in_(org_ids))))
    return [*accounts, *organisations]


def pending_staged(session: Session, limit: int) -> list[StagedEvent]:
    return list(
        session.scalars(
            select(StagedEvent).where(StagedEvent.state == PENDING).order_by(StagedEvent.id).limit(limit)
        )
    )


def purge_staged(session: Session, before: datetime) -> int:
    """Forget events stored as messages before `before` (the message keeps their content)."""
    result = session.execute(
        delete(StagedEvent).where(StagedEvent.state == DONE, StagedEvent.received_at < before),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def keep_unstorable(session: Session, row: StagedEvent, network: str, kind: str, reason: str) -> None:
    """An event that cannot become a message is kept raw where admins look for such parts."""
    raw = (row.event or {}).get("raw") if isinstance(row.event, dict) else None
    session.add(
        IgnoredEvent(
            org_id=row.org_id,
            account_id=row.account_id,
            network=network[:32],
            kind=kind[:128],
            reason=reason[:500],
            raw=raw if isinstance(raw, dict) else {},
        )
    )
