"""Reports for a date range from the rollups, scoped to what the caller may see, and their exports.

What a report counts: conversations started in the period (local days of the organisation's time
zone), spam left out, in the caller's departments (everyone's for owners and admins) and location
subtree. The per-conversation export lists exactly those conversations, so its lines add up to the
page's numbers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from relaydesk.analytics import repository
from relaydesk.analytics import rollup_repository as rollup_db
from relaydesk.analytics.kpis import ConversationFacts
from relaydesk.analytics.live_rows import LiveRows
from relaydesk.analytics.report import (
    GroupLine,
    Period,
    Report,
    breakdown,
    daily_series,
    figures,
    hour_grid,
    measures_of,
    total,
)
from relaydesk.analytics.rollup import ALL, NO_DEPARTMENT, ORG_WIDE, Contribution, Measures, contribution_of
from relaydesk.analytics.rollups import day_bounds, zone_of
from relaydesk.analytics.service import IN_HOUSE, facts_of
from relaydesk.analytics.staffing import on_shift_by_hour
from relaydesk.auth.scopes import Scope
from relaydesk.core.errors import Refused
from relaydesk.core.timeutil import utcnow
from relaydesk.db import reading

NOWHERE = -1  # a place no row has: the caller's subtree and the chosen one do not meet
# The dashboard's tables; "location" is read on request (a chain has a thousand of them).
TABLES = ("department", "team", "channel", "account", "intent", "language", "stage", "assignee", "policy")
WIDE_TABLES = ("location",)
EXPORT_PAGE = 2000


@dataclass(frozen=True, slots=True)
class Where:
    """The rollup rows a caller's report adds up."""

    location_ids: frozenset[int] | None  # the subtree's places (exports, live); None: all
    department_ids: frozenset[int] | None  # None: every department
    zone: str
    department_keys: dict[int, tuple[str, str]]  # id -> (key, name), every department of the org
    teams: dict[int, str]  # department id -> "in-house" / "agency:<key>"
    # For a person limited to named accounts: their conversations folded on the spot.
    live: LiveRows | None = None
    place: int = ORG_WIDE  # the rollup rows read: the subtree's root (-1: nothing in reach)


class ReportService:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def zone(self, scope: Scope) -> str:
        with reading(self.sessions) as session:
            return repository.org_zone(session, scope.org_id)

    def on_shift(self, scope: Scope, department: str = "") -> list[float]:
        """People on shift per local hour of an average day of the coming week, in the caller's teams."""
        with reading(self.sessions) as session:
            where = self.where(session, scope, department)
            people = repository.shift_people(session, scope.org_id, where.department_ids)
        zone = zone_of(where.zone)
        today = utcnow().astimezone(zone).date()
        return on_shift_by_hour(people, zone, today)

    def agent_loads(self, scope: Scope, lines: list[GroupLine]) -> dict[str, tuple[int, int]]:
        """The agent table's people: open conversations they hold now, and their capacity."""
        ids = [int(line.value) for line in lines if line.value.isdigit()]
        with reading(self.sessions) as session:
            loads = repository.agent_loads(session, scope.org_id, ids)
        return {str(i): load for i, load in loads.items()}

    def as_of(self) -> datetime | None:
        """When the rollups were last brought up to date (None: never yet)."""
        with reading(self.sessions) as session:
            return rollup_db.refresh_watermark(session)

    def where(self, session: Session, scope: Scope, department: str = "", location: str = "") -> Where:
        """The caller's scope, narrowed by a department and a location (a key: its whole subtree)."""
        locations: frozenset[int] | None = scope.location_ids
        if locations is None and scope.location_path:
            locations = repository.location_subtree_ids(session, scope.org_id, scope.location_path)
        root_path = scope.location_path
        if location:
            found = repository.location_by_key(session, scope.org_id, location)
            if found is None:
                raise Refused(f"location: no location {location!r} in this organisation")
            subtree = repository.location_subtree_ids(session, scope.org_id, found.path)
            locations = subtree if locations is None else locations & subtree
            root_path = _narrower(root_path, found.path)
        place = _place_of(root_path)
        org_departments = repository.departments(session, scope.org_id)
        agencies = repository.agency_keys(session, scope.org_id)
        keys = {d.id: (d.key, d.name) for d in org_departments}
        departments: frozenset[int] | None = None if scope.org_wide else frozenset(scope.department_ids)
        if department:
            chosen = frozenset(d.id for d in org_departments if d.key == department)
            if not chosen:
                raise Refused(f"department: no department {department!r} in this organisation")
            departments = chosen if departments is None else departments & chosen
        teams = {
            d.id: f"agency:{agencies.get(d.agency_id, d.agency_id)}" if d.agency_id else IN_HOUSE
            for d in org_departments
        }
        return Where(
            locations, departments, repository.org_zone(session, scope.org_id), keys, teams, place=place
        )

    def report(
        self,
        scope: Scope,
        period: Period,
        *,
        department: str = "",
        location: str = "",
        wide: bool = False,
        limit: int | None = None,
    ) -> Report:
        """The numbers of the period and the one before; each breakdown's first `limit` lines."""
        with reading(self.sessions) as session:
            where = self.where(session, scope, department, location)
            if scope.account_ids is not None:
                where = replace(where, live=self._live(session, scope, where, period))
            per_day: dict[date, Measures] = defaultdict(Measures)
            per_department: dict[int, Measures] = defaultdict(Measures)
            for (day, department_id), fields in self._sums(
                session, scope, where, period, ALL, ("day", "department_id")
            ):
                m = measures_of(fields)
                per_day[day].add(m)
                per_department[int(department_id)].add(m)
            totals = self._with_histograms(session, scope, where, period, total(per_day.values()))
            before = total(
                measures_of(f) for _, f in self._sums(session, scope, where, period.previous(), ALL, ())
            )
            before = self._with_histograms(session, scope, where, period.previous(), before)
            tables: dict[str, list[GroupLine]] = {
                "department": breakdown(
                    {self._department_value(where, d): m for d, m in per_department.items()},
                    {key: name for key, name in where.department_keys.values()},
                ),
                "team": breakdown(_by_team(per_department, where.teams)),
            }
            sizes = {name: len(lines) for name, lines in tables.items()}
            hours: dict[str, int] = {}
            for dimension in (
                "channel",
                "account",
                "intent",
                "language",
                "stage",
                "assignee",
                "policy",
                "hour",
            ):
                if dimension == "hour" and where.live is None:
                    hours = self._counts(session, scope, where, period, dimension)
                    sizes[dimension] = len(hours)
                    continue
                groups = self._groups(session, scope, where, period, dimension, limit, sizes)
                if dimension == "hour":
                    hours = {k: m["conversations"] for k, m in groups.items()}
                elif dimension == "assignee":
                    people = repository.user_names(
                        session, scope.org_id, (int(v) for v in groups if v.isdigit())
                    )
                    tables[dimension] = breakdown(groups, {str(i): n for i, (_, n) in people.items()}, limit)
                else:
                    tables[dimension] = breakdown(groups, limit=limit)
            if wide:
                tables["location"], sizes["location"] = self._locations(session, scope, where, period, limit)
        return Report(
            period=period,
            previous=period.previous(),
            totals=figures(totals),
            before=figures(before),
            series=daily_series(period, per_day),
            breakdowns=tables,
            hour_of_week=hour_grid(period, hours),
            sizes=sizes,
        )

    def _sums(
        self,
        session: Session,
        scope: Scope,
        where: Where,
        period: Period,
        dimension: str,
        group_by: tuple[str, ...],
    ) -> list[tuple[tuple[Any, ...], list[int]]]:
        if where.live is not None:
            return where.live.sums(period.start, period.end, dimension, group_by)
        rows = rollup_db.rollup_sums(
            session,
            scope.org_id,
            period.start,
            period.end,
            dimension,
            where.place,
            where.department_ids,
            group_by,
        )
        # No grouping still answers one row (of NULLs) when nothing matched: not a conversation.
        return [(key, fields) for key, fields in rows if fields[0]]

    def _counts(
        self, session: Session, scope: Scope, where: Where, period: Period, dimension: str
    ) -> dict[str, int]:
        return rollup_db.rollup_counts(
            session, scope.org_id, period.start, period.end, dimension, where.place, where.department_ids
        )

    def _groups(
        self,
        session: Session,
        scope: Scope,
        where: Where,
        period: Period,
        dimension: str,
        limit: int | None,
        sizes: dict[str, int],
    ) -> dict[str, Measures]:
        """A dimension's lines in full; above `limit` values, only the largest are summed in full
        (ranked on one column first: a chain's thousand accounts cost one narrow pass)."""
        values: list[str] | None = None
        if where.live is None and limit is not None:
            counts = self._counts(session, scope, where, period, dimension)
            sizes[dimension] = len(counts)
            if len(counts) > limit:
                # ties with the last line shown come too: breakdown() orders them by name
                floor = sorted(counts.values(), reverse=True)[limit - 1]
                values = [value for value, count in counts.items() if count >= floor]
        if where.live is not None:
            rows = self._sums(session, scope, where, period, dimension, ("value",))
        else:
            rows = [
                (key, fields)
                for key, fields in rollup_db.rollup_sums(
                    session,
                    scope.org_id,
                    period.start,
                    period.end,
                    dimension,
                    where.place,
                    where.department_ids,
                    ("value",),
                    values,
                )
                if fields[0]
            ]
        groups = {str(key[0]): measures_of(fields) for key, fields in rows}
        sizes.setdefault(dimension, len(groups))
        return groups

    def _with_histograms(
        self, session: Session, scope: Scope, where: Where, period: Period, measures: Measures
    ) -> Measures:
        bands = (
            where.live.bands(period.start, period.end)
            if where.live is not None
            else rollup_db.band_sums(
                session, scope.org_id, period.start, period.end, where.place, where.department_ids
            )
        )
        return Measures(measures.vector, measures.bands + np.asarray(bands, dtype=np.int64))

    def _live(self, session: Session, scope: Scope, where: Where, period: Period) -> LiveRows:
        """The caller's conversations of the period and the one before, folded as the refresher would."""
        zone = zone_of(where.zone)
        start, _ = day_bounds(period.previous().start, zone)
        _, end = day_bounds(period.end, zone)
        accounts = rollup_db.account_keys(session, scope.org_id)
        now = utcnow()
        contributions: list[Contribution] = []
        after = 0
        while True:
            rows = repository.export_conversations(
                session, scope, start, end, where.location_ids, where.department_ids, after, EXPORT_PAGE
            )
            if not rows:
                return LiveRows(contributions)
            after = int(rows[-1].id)
            contributions += [
                contribution_of(scope.org_id, fact, zone, now, accounts)
                for fact in facts_of(session, scope.org_id, rows)
            ]

    @staticmethod
    def _department_value(where: Where, department_id: int) -> str:
        if department_id == NO_DEPARTMENT:
            return ""
        return where.department_keys.get(department_id, (str(department_id), ""))[0]

    def _locations(
        self, session: Session, scope: Scope, where: Where, period: Period, limit: int | None
    ) -> tuple[list[GroupLine], int]:
        rows = self._sums(session, scope, where, period, "location", ("value",))
        groups = {str(key[0]): measures_of(fields) for key, fields in rows}
        places = repository.location_names(session, scope.org_id, (int(v) for v in groups if v.isdigit()))
        lines = breakdown(groups, {str(i): name for i, (_, name) in places.items()}, limit)
        # The drill-down filters by key: the line's value becomes the location's key.
        keyed = [
            GroupLine(places[int(line.value)][0], line.name, line.figures)
            if line.value.isdigit() and int(line.value) in places
            else line
            for line in lines
        ]
        return keyed, len(groups)

    # -- the per-conversation export ----------------------------------------------------------------

    def conversation_lines(
        self, scope: Scope, period: Period, *, department: str = "", location: str = ""
    ) -> Iterator[tuple[ConversationFacts, str, int]]:
        """(facts, status, transfers) of every conversation the report counts, oldest first, in pages."""
        with reading(self.sessions) as session:
            where = self.where(session, scope, department, location)
        zone = zone_of(where.zone)
        start, _ = day_bounds(period.start, zone)
        _, end = day_bounds(period.end, zone)
        after = 0
        while True:
            with reading(self.sessions) as session:
                rows = repository.export_conversations(
                    session, scope, start, end, where.location_ids, where.department_ids, after, EXPORT_PAGE
                )
                if not rows:
                    return
                after = int(rows[-1].id)
                status = {int(r.id): (str(r.status), int(r.transfer_count or 0)) for r in rows}
                facts = facts_of(session, scope.org_id, rows)
            for fact in facts:
                state, transfers = status[fact.conversation_id or 0]
                yield fact, state, transfers

    def export_names(self, scope: Scope) -> tuple[dict[int, str], dict[int, str], dict[int, str]]:
        """(account keys, location keys, people's names) of the organisation, for export columns."""
        with reading(self.sessions) as session:
            accounts = rollup_db.account_keys(session, scope.org_id)
            places = repository.location_keys(session, scope.org_id)
            people = repository.people_names(session, scope.org_id)
        return accounts, places, people


def _narrower(scope_path: str | None, chosen: str) -> str:
    """The deeper of two subtrees when one holds the other; "" when they do not meet."""
    if not scope_path or chosen.startswith(scope_path):
        return chosen
    if scope_path.startswith(chosen):
        return scope_path
    return ""


def _place_of(path: str | None) -> int:
    """The rollup place of a subtree: its root's id (the last in "/3/17/"), ORG_WIDE for none."""
    if path is None:
        return ORG_WIDE
    ids = [int(part) for part in path.strip("/").split("/") if part.isdigit()]
    return ids[-1] if ids else NOWHERE


def _by_team(per_department: dict[int, Measures], teams: dict[int, str]) -> dict[str, Measures]:
    out: dict[str, Measures] = defaultdict(Measures)
    for department_id, m in per_department.items():
        out[teams.get(department_id, IN_HOUSE)].add(m)
    return out


def drill_instant(day: date, zone_name: str, *, end: bool = False) -> datetime:
    """Where a day starts (or, with `end`, where the next one starts) in UTC: a drill-down's bounds."""
    start, stop = day_bounds(day, zone_of(zone_name))
    return stop if end else start
