"""The audit log for the people who may read it: filtered, paged, exported as CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from relaydesk.audit import repository
from relaydesk.audit.schemas import AuditEntryOut, AuditPage
from relaydesk.audit.trail import KINDS, Actor, acting, actor_of, install
from relaydesk.auth.scopes import Scope
from relaydesk.core.errors import Forbidden
from relaydesk.core.spreadsheet import cell
from relaydesk.core.timeutil import utcnow
from relaydesk.db import reading
from relaydesk.models import AuditEntry

__all__ = [
    "KINDS",
    "Actor",
    "AuditFilter",
    "act_as",
    "acting",
    "actor_of",
    "audit_service",
    "install",
    "record",
]

install()

PAGE_SIZE = 100
EXPORT_LIMIT = 100_000
CSV_COLUMNS = ("id", "at", "actor", "via", "kind", "key", "action", "field", "before", "after")


@dataclass(frozen=True)
class AuditFilter:
    kind: str | None = None
    actor: str | None = None
    key: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def act_as(session: Session, scope: Scope, via: str) -> None:
    """Record this session's configuration changes as the caller's."""
    name = repository.user_name(session, scope.user_id) or f"#{scope.user_id}"
    acting(session, Actor(scope.user_id, name, via))


def record(
    session: Session,
    org_id: int,
    *,
    kind: str,
    key: str,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """One entry for a change made around the unit of work (one UPDATE of many rows), which the
    flush listener cannot see; by the session's actor, in the same transaction."""
    actor = actor_of(session)
    if actor is None:
        raise RuntimeError("a recorded change needs a session that says who is acting (act_as)")
    repository.insert_entries(
        session,
        [
            {
                "org_id": org_id,
                "at": utcnow(),
                "actor_id": actor.user_id,
                "actor_name": actor.name,
                "via": actor.via,
                "kind": kind,
                "key": key[:300],
                "action": action,
                "before": before,
                "after": after,
            }
        ],
    )


def _out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=entry.id,
        at=entry.at,
        actor=entry.actor_name,
        actor_id=entry.actor_id,
        via=entry.via,
        kind=entry.kind,
        key=entry.key,
        action=entry.action,
        before=entry.before,
        after=entry.after,
    )


def _cell(value: object) -> str:
    return str(
        cell(
            value
            if value is None or isinstance(value, str)
            else json.dumps(value, ensure_ascii=False, sort_keys=True)
        )
    )


def _rows(
    session: Session, scope: Scope, where: AuditFilter, *, before_id: int | None = None, limit: int
) -> Sequence[AuditEntry]:
    return repository.entries(
        session,
        scope.org_id,
        kind=where.kind,
        actor=where.actor,
        key=where.key,
        since=where.since,
        until=where.until,
        before_id=before_id,
        limit=limit,
    )


class AuditService:
    def _require(self, scope: Scope) -> None:
        if not scope.can_configure:
            raise Forbidden("only owners and admins can read the audit log")

    def page(
        self, sessions: sessionmaker[Session], scope: Scope, where: AuditFilter, before_id: int | None = None
    ) -> AuditPage:
        self._require(scope)
        with reading(sessions) as session:
            rows = _rows(session, scope, where, before_id=before_id, limit=PAGE_SIZE + 1)
        entries = [_out(r) for r in rows[:PAGE_SIZE]]
        return AuditPage(entries=entries, older=entries[-1].id if len(rows) > PAGE_SIZE else None)

    def actors(self, sessions: sessionmaker[Session], scope: Scope) -> list[str]:
        self._require(scope)
        with reading(sessions) as session:
            return repository.actor_names(session, scope.org_id)

    def csv_text(self, sessions: sessionmaker[Session], scope: Scope, where: AuditFilter) -> str:
        """One line per changed field, so a spreadsheet can filter by field and compare values."""
        self._require(scope)
        with reading(sessions) as session:
            rows = _rows(session, scope, where, limit=EXPORT_LIMIT)
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(CSV_COLUMNS)
            for r in rows:
                fields = sorted(set(r.before or {}) | set(r.after or {})) or [""]
                for field in fields:
                    writer.writerow(
                        [
                            r.id,
                            r.at.isoformat(),
                            _cell(r.actor_name),
                            r.via,
                            r.kind,
                            _cell(r.key),
                            r.action,
                            field,
                            _cell((r.before or {}).get(field)),
                            _cell((r.after or {}).get(field)),
                        ]
                    )
        return out.getvalue()


audit_service = AuditService()
