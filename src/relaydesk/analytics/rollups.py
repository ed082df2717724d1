"""The refresher that keeps the report rollups true (analytics/rollup.py says what a row holds).

Each pass takes the conversations that changed since the last one (`conversations.updated_at`, so
the pipeline writes nothing extra) and those unanswered ones whose 1 h / 24 h / 72 h window has
just passed, computes what each adds now, and applies the difference from what it added last time
(kept in `report_contributions`): rows are only ever added to, in one transaction per batch with
the contributions, so a crash leaves them exact and a pass done twice changes nothing the second
time. The watermark moves only after every batch is in; a restart picks up where it stopped.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session, sessionmaker

from relaydesk.analytics import rollup_repository as rollup_db
from relaydesk.analytics.kpis import RESPONSE_WINDOWS
from relaydesk.analytics.rollup import Contribution, Deltas, contribution_of, restored
from relaydesk.analytics.service import facts_of
from relaydesk.core.timeutil import as_utc, utcnow
from relaydesk.db import transaction

log = logging.getLogger(__name__)

# A transaction that started before the last pass may commit after it with an older updated_at.
LAG = timedelta(seconds=30)
BATCH = 2000


@dataclass(frozen=True, slots=True)
class RefreshResult:
    conversations: int  # conversations looked at
    rows: int  # rollup rows added to


def zone_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[local midnight, next local midnight) of a day, in UTC."""
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def _batches(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


class RollupRefresher:
    """Brings the rollups up to date; `run_once` is safe to call from several processes."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def run_once(
        self, now: datetime | None = None, *, stopping: Callable[[], bool] = lambda: False
    ) -> RefreshResult:
        """Fold what changed since the last pass; `stopping` ends it between batches, leaving the
        watermark where it was so the next pass does the rest."""
        now = now or utcnow()
        with transaction(self.sessions) as session:
            watermark = as_utc(rollup_db.refresh_state(session).watermark)
            ids = set(rollup_db.changed_conversation_ids(session, watermark - LAG if watermark else None))
            if watermark is not None:
                # Unanswered conversations whose response window passed since the last pass count
                # as "not answered within" it only now, with nothing about them having changed.
                for span in RESPONSE_WINDOWS.values():
                    ids.update(
                        rollup_db.unanswered_created_between(session, watermark - LAG - span, now - span)
                    )
            zones = {org: zone_of(name) for org, name in rollup_db.org_zones(session).items()}
        rows = 0
        ordered = sorted(ids)
        for batch in _batches(ordered):
            if stopping():
                return RefreshResult(0, rows)
            rows += self._fold(batch, zones, now)
        if len(ordered) > 10 * BATCH:
            log.info("report rollups: %d conversations folded", len(ordered))
        with transaction(self.sessions) as session:
            rollup_db.refresh_state(session).watermark = now
        return RefreshResult(len(ordered), rows)

    def _fold(self, ids: list[int], zones: dict[int, ZoneInfo], now: datetime) -> int:
        with transaction(self.sessions) as session:
            rollup_db.lock_rollups(session)
            old = {cid: restored(row) for cid, row in rollup_db.contributions(session, ids).items()}
            new = self._contributions(session, ids, zones, now)
            deltas = Deltas.empty()
            for cid in ids:
                deltas.replace(old.get(cid), new.get(cid))
            # Tuples in ROLLUP_KEYS + FIELDS and BAND_KEYS + HISTOGRAM_FIELDS order.
            rollup_rows = [
                (
                    org_id,
                    key.location_id,
                    key.dimension,
                    key.day,
                    key.department_id,
                    key.value,
                    *vector.tolist(),
                )
                for (org_id, key), vector in deltas.changed_rows()
            ]
            band_rows = [
                (org_id, place, day, department, *bands.tolist())
                for (org_id, place, day, department), bands in deltas.changed_bands()
            ]
            rollup_db.add_to_rollups(session, rollup_rows)
            rollup_db.add_to_bands(session, band_rows)
            rollup_db.save_contributions(
                session, ids, [{"conversation_id": cid, **c.stored()} for cid, c in new.items()]
            )
            rollup_db.drop_empty_rows(
                session,
                {org for org, _ in deltas.rows},
                {key.day for _, key in deltas.rows},
            )
        return len(rollup_rows)

    @staticmethod
    def _contributions(
        session: Session, ids: list[int], zones: dict[int, ZoneInfo], now: datetime
    ) -> dict[int, Contribution]:
        by_org: dict[int, list[Any]] = defaultdict(list)
        for row in rollup_db.conversations_by_ids(session, ids):
            by_org[int(row.org_id)].append(row)
        out: dict[int, Contribution] = {}
        for org_id, rows in by_org.items():
            accounts = rollup_db.account_keys(session, org_id)
            paths = rollup_db.location_paths(session, org_id)
            zone = zones.get(org_id, zone_of(None))
            # Spam is left out by facts_of: its old contribution is subtracted and none added.
            for fact in facts_of(session, org_id, rows):
                out[int(fact.conversation_id or 0)] = contribution_of(
                    org_id, fact, zone, now, accounts, paths
                )
        return out

    def rebuild(self, now: datetime | None = None) -> RefreshResult:
        """Fold every conversation from nothing (after a restore, or to check the rows)."""
        with transaction(self.sessions) as session:
            rollup_db.lock_rollups(session)
            rollup_db.forget_rollups(session)
            rollup_db.refresh_state(session).watermark = None
        return self.run_once(now)
