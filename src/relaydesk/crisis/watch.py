"""The crisis watch: every minute, count the new messages, learn, and raise alerts.

For each organisation, in one pass:
1. **Count** the inbound messages processed since the last pass (a watermark on message ids; a
   message still waiting for triage holds the watermark for up to `WAIT_FOR_TRIAGE`), per minute,
   at its location and every place above it and the whole organisation (place 0), in the series
   "all", "negative" and "public" (comments, posts, mentions, reviews). Each message is also
   matched against the trigger phrases (triggers.py): a match raises or grows a trigger alert.
2. **Learn** every finished local hour into its series' baseline (detector.Baseline).
3. **Check** each series that has learned `READY_HOURS` (the watch learns for three days before
   it can say what is unusual): the last 15, 60 and 180 minutes against the baseline; the
   detector decides raise / grow / quiet.

Alerts are grouped so a storm is one alert: a surge at a place whose ancestor or descendant already
has an open alert of the same series joins it ("also at ..."), a trigger category has one open
alert per brand, and at most `MAX_NEW_PER_HOUR` alerts open per organisation per hour (the rest
join the newest). People are told when an alert opens and when it turns high (detector.severity),
never for each message: in the app and by e-mail as each chose for "crisis", and through the
webhook destination named "crisis" if there is one.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from relaydesk.core.enums import PUBLIC_KINDS
from relaydesk.core.timeutil import as_utc, utcnow
from relaydesk.crisis import audience, detector, playbook
from relaydesk.crisis import watch_repository as repo
from relaydesk.crisis.places import (
    ORG_WIDE,
    Place,
    ancestors,
    brand_of,
    describe_surge,
    is_above,
    minute_of,
    related,
    subtree,
    zone_named,
)
from relaydesk.crisis.triggers import TriggerSet, builtin, severity_of
from relaydesk.db import transaction
from relaydesk.models import CrisisAlert, CrisisSeries
from relaydesk.notifications import webhooks
from relaydesk.notifications.service import notify_alert

log = logging.getLogger(__name__)

SERIES = ("all", "negative", "public")
BATCH = 5000
WAIT_FOR_TRIAGE = timedelta(minutes=2)
COMMIT_LAG = timedelta(seconds=30)
READY_HOURS = 72
GROUP_SURGE = timedelta(hours=6)
GROUP_TRIGGER = timedelta(hours=24)
MAX_NEW_PER_HOUR = 10
MAX_MESSAGES = 50
KEEP_COUNTS = timedelta(days=8)
MAX_LEARN_BACKLOG = timedelta(days=14)
WEBHOOK = "crisis"
LONGEST = max(detector.WINDOWS)


@dataclass(frozen=True, slots=True)
class WatchResult:
    messages: int
    raised: int


class CrisisWatch:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        triggers: Callable[[], TriggerSet] = builtin,
        hand_over: Callable[[Session, int, str | None], int] | None = None,
    ) -> None:
        # The agencies' open conversations at an alert's place go in-house (RoutingService).
        self.hand_over = hand_over
        self.sessions = sessions
        self.triggers = triggers
        # each organisation's playbooks, read at the start of its pass (one pass at a time per process)
        self._books: dict[int, dict[int | None, playbook.Playbook]] = {}

    def run_once(self, now: datetime | None = None) -> WatchResult:
        now = now or utcnow()
        with transaction(self.sessions) as session:
            orgs = repo.organizations(session)
        messages = raised = 0
        for org_id, zone in orgs:
            try:
                m, r = self._run_org(org_id, zone_named(zone), now)
            except Exception:
                log.exception("crisis watch failed for organisation %s; next pass retries", org_id)
                continue
            messages += m
            raised += r
        return WatchResult(messages, raised)

    def _places(self, session: Session, org_id: int, org_zone: ZoneInfo) -> dict[int, Place]:
        out = {ORG_WIDE: Place(ORG_WIDE, None, org_zone, "the whole organisation")}
        for location_id, (path, zone, name) in repo.places(session, org_id).items():
            out[location_id] = Place(location_id, path, zone_named(zone), name)
        return out

    def _run_org(self, org_id: int, org_zone: ZoneInfo, now: datetime) -> tuple[int, int]:
        # One transaction under the organisation's watermark lock: two processes running the watch
        # the same minute wait for each other instead of raising the same alert twice.
        with transaction(self.sessions) as session:
            mark = repo.watermark(session, org_id)
            places = self._places(session, org_id, org_zone)
            rows = repo.new_messages(session, org_id, mark.last_message_id, BATCH)
            self._books[org_id] = books = {
                r.place_id: playbook.of_row(r) for r in repo.playbooks(session, org_id)
            }
            series_rows = repo.series(session, org_id)
            counts: dict[tuple[int, str, datetime], int] = defaultdict(int)
            matched: list[tuple[Any, dict[str, list[str]]]] = []
            last = mark.last_message_id
            own = playbook.all_triggers(books.values())
            triggers = TriggerSet(own) if own else self.triggers()
            # Hours are learned only once every message of them is counted.
            counted_until = now - COMMIT_LAG
            taken = 0
            for row in rows:
                created = as_utc(row.created_at)
                # A message id can commit after a higher one (sequences are not commit order):
                # the newest seconds wait, and so does a message whose sentiment is coming.
                if created > now - COMMIT_LAG or (
                    row.processed_at is None and created > now - WAIT_FOR_TRIAGE
                ):
                    counted_until = min(counted_until, created)
                    break
                last = int(row.id)
                taken += 1
                minute = minute_of(row.created_at)
                location = places.get(row.location_id) if row.location_id else None
                at = [*ancestors(location.path), ORG_WIDE] if location and location.path else [ORG_WIDE]
                series = ["all"]
                if (row.triage or {}).get("sentiment") == "negative":
                    series.append("negative")
                if row.kind in PUBLIC_KINDS:
                    series.append("public")
                for place in at:
                    for name in series:
                        counts[(place, name, minute)] += 1
                found = audience.merged(
                    triggers.categories(row.text or ""),
                    audience.audience(row.author, (row.triage or {}).get("sentiment")),
                )
                if found:
                    matched.append((row, found))
            else:
                if len(rows) == BATCH and rows:  # more are waiting: this pass counted up to here
                    counted_until = min(counted_until, as_utc(rows[-1].created_at))
            repo.add_counts(session, [(org_id, p, s, m, c) for (p, s, m), c in counts.items()])
            for key in {(p, s) for p, s, _ in counts} - set(series_rows):
                series_rows[key] = self._series_row(session, org_id, key, places, now)
            mark.last_message_id = last
            mark.checked_at = now
            raised = sum(self._trigger(session, org_id, row, found, places, now) for row, found in matched)
            raised += self._learn_and_check(session, org_id, places, series_rows, now, counted_until)
        return taken, raised

    @staticmethod
    def _series_row(
        session: Session, org_id: int, key: tuple[int, str], places: dict[int, Place], now: datetime
    ) -> CrisisSeries:
        zone = places[key[0]].zone if key[0] in places else ZoneInfo("UTC")
        local = as_utc(now).astimezone(zone).replace(minute=0, second=0, microsecond=0)
        row = CrisisSeries(
            org_id=org_id, place_id=key[0], series=key[1], baseline={}, state={}, learned_until=local
        )
        session.add(row)
        return row

    # -- learning and checking -------------------------------------------------------------

    def _learn_and_check(
        self,
        session: Session,
        org_id: int,
        places: dict[int, Place],
        rows: dict[tuple[int, str], CrisisSeries],
        now: datetime,
        counted_until: datetime,
    ) -> int:
        if not rows:
            return 0
        live = [r for key, r in rows.items() if key[0] in places and r.learned_until]
        oldest = min((as_utc(r.learned_until) for r in live if r.learned_until), default=now)
        oldest = max(oldest, now - MAX_LEARN_BACKLOG)
        minutes = repo.counts_between(
            session, org_id, min(oldest, now - timedelta(minutes=LONGEST)), now + timedelta(minutes=1)
        )
        by_series: dict[tuple[int, str], dict[datetime, int]] = defaultdict(dict)
        for row in minutes:
            by_series[(int(row.place_id), str(row.series))][as_utc(row.minute)] = int(row.count)
        raised = 0
        recent = now - timedelta(minutes=LONGEST + 1)
        for key, row in rows.items():
            place = places.get(key[0])
            if place is None:
                continue  # the place was deleted
            found = by_series.get(key, {})
            # A chain has thousands of series: most minutes most of them neither finish an hour nor
            # have anything to check, and their stored state is neither parsed nor written.
            learns = (
                row.learned_until is None or as_utc(row.learned_until) + timedelta(hours=1) <= counted_until
            )
            busy = any(minute >= recent for minute in found) or bool((row.state or {}).get("alert_since"))
            if not (learns or busy):
                continue
            baseline = detector.Baseline.of(row.baseline)
            if learns:
                self._learn(row, baseline, found, place.zone, counted_until)
                row.baseline = baseline.as_dict()
            if busy and baseline.hours >= READY_HOURS:
                raised += self._check(session, org_id, row, baseline, found, place, places, now)
        return raised

    @staticmethod
    def _learn(
        row: CrisisSeries,
        baseline: detector.Baseline,
        found: dict[datetime, int],
        zone: ZoneInfo,
        now: datetime,
    ) -> None:
        start = as_utc(row.learned_until or now)
        if start < now - MAX_LEARN_BACKLOG:  # a long stop: skip whole hours, keeping the hour's edge
            start += timedelta(hours=(now - MAX_LEARN_BACKLOG - start) // timedelta(hours=1) + 1)
        while start + timedelta(hours=1) <= now:
            end = start + timedelta(hours=1)
            count = sum(c for minute, c in found.items() if start <= minute < end)
            baseline.learn(start.astimezone(zone).replace(tzinfo=None), count)
            start = end
        row.learned_until = start

    def _check(
        self,
        session: Session,
        org_id: int,
        row: CrisisSeries,
        baseline: detector.Baseline,
        found: dict[datetime, int],
        place: Place,
        places: dict[int, Place],
        now: datetime,
    ) -> int:
        end = minute_of(now) + timedelta(minutes=1)
        local_end = end.astimezone(place.zone).replace(tzinfo=None)
        readings = []
        for minutes in detector.WINDOWS:
            observed = sum(
                c for minute, c in found.items() if end - timedelta(minutes=minutes) <= minute < end
            )
            if observed < detector.MIN_COUNT:
                continue
            reading = detector.check_window(observed, baseline.expected(local_end, minutes), minutes)
            if reading is not None:
                readings.append(reading)
        state = detector.SeriesState.of(row.state)
        decision = detector.decide(state, now, readings)
        if state.as_dict() != (row.state or {}):
            row.state = state.as_dict()
        if decision.reading is None:
            return 0
        return self._surge(session, org_id, row.series, place, places, decision, now)

    # -- alerts ----------------------------------------------------------------------------

    def _surge(
        self,
        session: Session,
        org_id: int,
        series: str,
        place: Place,
        places: dict[int, Place],
        decision: detector.Decision,
        now: datetime,
    ) -> int:
        reading = decision.reading
        assert reading is not None
        text = describe_surge(series, place.name, reading)
        severity = detector.severity(reading)
        numbers = {
            "observed": reading.observed,
            "expected": round(reading.expected, 2),
            "minutes": reading.minutes,
            "probability": reading.probability,
            "ratio": round(min(reading.ratio, 1e6), 2),
        }
        open_ = repo.open_alerts(session, org_id, "surge", now - GROUP_SURGE)
        # one storm, one alert: the same series first, then any surge around the same places
        around = [a for a in open_ if related(a.place_id, place, places)]
        same = [a for a in around if a.series == series] + [a for a in around if a.series != series]
        alert = same[0] if same else None
        if alert is None and not decision.raised:
            return 0  # this storm's alert was resolved by a person: it is not opened again for it
        if (
            alert is None
            and repo.alerts_opened_since(session, org_id, now - timedelta(hours=1)) >= MAX_NEW_PER_HOUR
        ):
            # a storm: more places of the same brand join its newest alert
            brand = brand_of(place)
            alert = next((a for a in open_ if brand_of(self._place_of(a, places)) == brand), None)
        if alert is not None:
            alert.updated_at = now
            widened = is_above(place, self._place_of(alert, places))
            if widened:
                # the storm is wider than where it was first seen: the alert now covers the wider
                # place, and the people of the wider place are told
                alert.place_id = place.id or None
                alert.numbers = {**numbers, "text": text}
                repo.add_event(session, alert, "spread", f"now {text}", now)
                self._tell(session, org_id, alert, place, f"Crisis alert spread: {text}")
            elif alert.place_id != (place.id or None) and (decision.raised or decision.grew):
                repo.add_event(session, alert, "spread", f"also {text}", now)
            elif decision.grew:
                repo.add_event(session, alert, "grew", text, now)
            if alert.place_id == (place.id or None):
                alert.numbers = {**numbers, "text": text}
            if severity == "high" and alert.severity != "high":
                alert.severity = "high"
                repo.add_event(session, alert, "escalated", f"now high: {text}", now)
                self._tell(
                    session, org_id, alert, self._place_of(alert, places), f"Crisis alert now HIGH: {text}"
                )
            return 0
        locations = None if place.id == ORG_WIDE else subtree(place, places)
        since = now - timedelta(minutes=reading.minutes)
        recent = repo.recent_message_ids(
            session, org_id, locations, since, series == "negative", MAX_MESSAGES
        )
        self._open(
            session,
            org_id,
            place,
            "surge",
            series,
            severity,
            {**numbers, "text": text},
            recent,
            reading.observed,
            now,
        )
        return 1

    def _trigger(
        self,
        session: Session,
        org_id: int,
        row: Any,
        found: dict[str, list[str]],
        places: dict[int, Place],
        now: datetime,
    ) -> int:
        location = places.get(row.location_id) if row.location_id else None
        brand_id = ancestors(location.path)[0] if location and location.path else ORG_WIDE
        brand = places.get(brand_id, places[ORG_WIDE])
        raised = 0
        for category, phrases in found.items():
            open_ = [
                a
                for a in repo.open_alerts(session, org_id, "trigger", now - GROUP_TRIGGER)
                if a.series == category and (a.place_id or ORG_WIDE) == brand.id
            ]
            said = ", ".join(f"“{p}”" for p in phrases)
            if open_:
                alert = open_[0]
                alert.messages += 1
                alert.message_ids = [int(row.id), *[i for i in alert.message_ids if i != row.id]][
                    :MAX_MESSAGES
                ]
                alert.updated_at = now
                alert.numbers = {
                    **alert.numbers,
                    "phrases": sorted({*alert.numbers.get("phrases", []), *phrases}),
                }
                if alert.messages <= 10 or alert.messages % 10 == 0:
                    repo.add_event(session, alert, "matched", f"message #{row.id}: {said}", now)
                severity = severity_of(category, alert.messages)
                if severity == "high" and alert.severity != "high":
                    alert.severity = "high"
                    repo.add_event(session, alert, "escalated", f"now high: {alert.messages} messages", now)
                    self._tell(
                        session,
                        org_id,
                        alert,
                        brand,
                        f"Crisis alert now HIGH: {category} ({alert.messages} messages)",
                    )
                continue
            text = f"{category.replace('_', ' ')} at {brand.name}: {said} in message #{row.id}"
            self._open(
                session, org_id, brand, "trigger", category, severity_of(category, 1),
                {"phrases": sorted(phrases), "text": text}, [int(row.id)], 1, now,
            )  # fmt: skip
            raised += 1
        return raised

    def _open(
        self,
        session: Session,
        org_id: int,
        place: Place,
        kind: str,
        series: str,
        severity: str,
        numbers: dict[str, Any],
        message_ids: list[int],
        messages: int,
        now: datetime,
    ) -> CrisisAlert:
        """A new alert, with the playbook's holding statement, raised and told on its timeline."""
        alert = CrisisAlert(
            org_id=org_id,
            place_id=place.id or None,
            kind=kind,
            series=series,
            severity=severity,
            status="open",
            numbers=numbers,
            message_ids=message_ids,
            messages=messages,
            holding_statements=dict(self._book(org_id, place).holding_statements),
            opened_at=now,
            updated_at=now,
        )
        session.add(alert)
        session.flush()
        repo.add_event(session, alert, "raised", str(numbers.get("text", "")), now)
        self._tell(session, org_id, alert, place, f"Crisis alert ({severity}): {numbers.get('text', '')}")
        return alert

    @staticmethod
    def _place_of(alert: CrisisAlert, places: dict[int, Place]) -> Place:
        return places.get(alert.place_id or ORG_WIDE, places[ORG_WIDE])

    def _book(self, org_id: int, place: Place) -> playbook.Playbook:
        return playbook.applying(self._books.get(org_id, {}), brand_of(place))

    def _tell(self, session: Session, org_id: int, alert: CrisisAlert, place: Place, text: str) -> None:
        """Everyone who must know, by every way the playbook names; said on the timeline."""
        book = self._book(org_id, place)
        people = {
            *repo.recipients(session, org_id, place.path),
            *repo.department_members(session, org_id, book.notify_departments),
        }
        told = notify_alert(session, org_id, alert.id, sorted(people), text)
        posted = [
            name
            for name in dict.fromkeys([WEBHOOK, *book.notify_destinations])
            if webhooks.queue(session, name, f"{text} (alert #{alert.id})", org_id)
        ]
        said = f"{told} people in the app" + (f"; webhooks: {', '.join(posted)}" if posted else "")
        repo.add_event(session, alert, "notified", said, alert.updated_at)
        self._agency_holds(session, org_id, alert, place)

    def _agency_holds(self, session: Session, org_id: int, alert: CrisisAlert, place: Place) -> None:
        """The playbook's automatic step: the agency is told to hold, and its open conversations at
        the place go to the in-house team (its replies there wait for approval: held_replies.py)."""
        agency = repo.agency_people(session, org_id, place.path)
        told = notify_alert(
            session,
            org_id,
            alert.id,
            agency,
            f"Hold: crisis alert #{alert.id} is open at {place.name}. Do not answer its conversations: "
            "they go to the in-house team, and your replies there wait for approval.",
        )
        moved = self.hand_over(session, org_id, place.path) if self.hand_over is not None else 0
        if told or moved:
            repo.add_event(
                session,
                alert,
                "agency_hold",
                f"{told} agency people told to hold; {moved} conversations handed over",
                alert.updated_at,
            )

    def forget_old_counts(self, now: datetime | None = None) -> None:
        with transaction(self.sessions) as session:
            repo.forget_counts(session, (now or utcnow()) - KEEP_COUNTS)
