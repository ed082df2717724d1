"""Crisis alerts for the people who handle them: listed, opened, acknowledged, escalated, resolved,
and the holding statement PR writes, offered in the reply box of the conversations under it.

Reads are limited to the caller's places in the query (alert_repository); who may act is
alert_access.py. Every step goes on the alert's timeline with who and when; escalating tells the
owners and admins again, by the same ways the watch does.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from relaydesk.auth.scopes import Scope
from relaydesk.core.enums import PUBLIC_KINDS
from relaydesk.core.errors import Conflict, Forbidden, NotFound
from relaydesk.core.timeutil import as_utc, utcnow
from relaydesk.crisis import alert_repository as repo
from relaydesk.crisis import playbook, watch_repository
from relaydesk.crisis.alert_access import AlertAction, refusal
from relaydesk.crisis.alert_metrics import EARLY, AlertFacts, AlertMetrics, measure
from relaydesk.crisis.schemas import AlertDetailOut, AlertEventOut, AlertMessageOut, AlertOut
from relaydesk.guidelines.service import speaks_for_brand
from relaydesk.models import CrisisAlert
from relaydesk.notifications import webhooks
from relaydesk.notifications.service import notify_alert

PAGE_SIZE = 50
STATUSES = ("open", "acknowledged", "resolved")
MAX_RECENT = 50
# action -> (the status it needs, the status it leaves, the timeline word)
MOVES = {
    "acknowledge": (("open",), "acknowledged", "acknowledged"),
    "escalate": (("open", "acknowledged"), None, "escalated"),
    "resolve": (("open", "acknowledged"), "resolved", "resolved"),
    "reopen": (("resolved",), "open", "reopened"),
}


def _minutes(start: datetime, end: datetime | None) -> float | None:
    if end is None:
        return None
    # never below zero: the watch's clock and a person's may differ by a little
    return max(0.0, round((as_utc(end) - as_utc(start)).total_seconds() / 60, 1))


def median_minutes(alerts: list[AlertOut]) -> float | None:
    """The median time to acknowledge of these alerts (None when none was acknowledged)."""
    times = sorted(a.minutes_to_acknowledge for a in alerts if a.minutes_to_acknowledge is not None)
    if not times:
        return None
    middle = len(times) // 2
    return times[middle] if len(times) % 2 else round((times[middle - 1] + times[middle]) / 2, 1)


# A period with more alerts than this is measured on its first ones (the page says how many).
METRICS_LIMIT = 2000


class AlertService:
    """Stateless; every method runs in the caller's transaction."""

    def _spokesperson(self, session: Session, scope: Scope) -> bool:
        return speaks_for_brand(session, scope.org_id, scope.department_ids)

    def _require(self, session: Session, scope: Scope, action: AlertAction) -> None:
        reason = refusal(scope.role, self._spokesperson(session, scope), action)
        if reason is not None:
            raise Forbidden(reason)

    def allowed(self, session: Session, scope: Scope, row: CrisisAlert | None = None) -> list[str]:
        if row is not None:
            try:
                self._within(scope, row)
            except Forbidden:
                return []
        spokesperson = self._spokesperson(session, scope)
        return [
            a.value
            for a in (AlertAction.HANDLE, AlertAction.STATEMENT)
            if refusal(scope.role, spokesperson, a) is None
        ]

    def _out(self, session: Session, scope: Scope, rows: list[CrisisAlert]) -> list[AlertOut]:
        people = repo.names(
            session, scope.org_id, {i for r in rows for i in (r.acknowledged_by, r.resolved_by) if i}
        )
        places = repo.place_names(session, scope.org_id, {r.place_id for r in rows if r.place_id})
        return [
            AlertOut(
                id=r.id,
                kind=r.kind,
                series=r.series,
                severity=r.severity,
                status=r.status,
                place=places.get(r.place_id) if r.place_id else None,
                text=str((r.numbers or {}).get("text", "")),
                numbers={k: v for k, v in (r.numbers or {}).items() if k != "text"},
                messages=r.messages,
                opened_at=r.opened_at,
                updated_at=r.updated_at,
                acknowledged_at=r.acknowledged_at,
                minutes_to_acknowledge=_minutes(r.opened_at, r.acknowledged_at),
                acknowledged_by=people.get(r.acknowledged_by) if r.acknowledged_by else None,
                escalated_at=r.escalated_at,
                resolved_at=r.resolved_at,
                resolved_by=people.get(r.resolved_by) if r.resolved_by else None,
                holding_statements={str(k): str(v) for k, v in (r.holding_statements or {}).items()},
            )
            for r in rows
        ]

    def page(
        self, session: Session, scope: Scope, status: str = "", offset: int = 0
    ) -> tuple[list[AlertOut], bool]:
        """Newest activity first; `status` one of STATUSES or "" for the unresolved ones."""
        self._require(session, scope, AlertAction.VIEW)
        statuses = [status] if status in STATUSES else ["open", "acknowledged"]
        rows = list(repo.alerts(session, scope, statuses, max(offset, 0), PAGE_SIZE + 1))
        return self._out(session, scope, rows[:PAGE_SIZE]), len(rows) > PAGE_SIZE

    def _row(self, session: Session, scope: Scope, alert_id: int, *, lock: bool = False) -> CrisisAlert:
        row = repo.alert(session, scope, alert_id, lock=lock)
        if row is None:
            raise NotFound(f"no alert #{alert_id}")
        return row

    def get(self, session: Session, scope: Scope, alert_id: int) -> AlertDetailOut:
        self._require(session, scope, AlertAction.VIEW)
        row = self._row(session, scope, alert_id)
        events = repo.events(session, row.id)
        actors = repo.names(session, scope.org_id, {e.actor_id for e in events if e.actor_id})
        out = self._out(session, scope, [row])[0]
        recent = repo.messages(session, scope, [int(i) for i in (row.message_ids or [])][:MAX_RECENT])
        return AlertDetailOut(
            **out.model_dump(),
            timeline=[
                AlertEventOut(
                    at=e.at,
                    kind=e.kind,
                    detail=e.detail,
                    actor=actors.get(e.actor_id) if e.actor_id else None,
                )
                for e in events
            ],
            recent=[
                AlertMessageOut(
                    id=m.id,
                    conversation_id=m.conversation_id,
                    text=m.text or "",
                    language=m.language,
                    at=m.created_at,
                )
                for m in recent
            ],
            allowed=self.allowed(session, scope, row),
        )

    @staticmethod
    def _within(scope: Scope, row: CrisisAlert) -> None:
        """People limited to part of the tree see the alerts above them, but handle only their own."""
        if scope.location_path is None:
            return
        if row.place_id is None or row.place_id not in (scope.location_ids or frozenset()):
            raise Forbidden("this alert covers more than your places: the people of its place handle it")

    def act(self, session: Session, scope: Scope, alert_id: int, action: str, note: str = "") -> AlertOut:
        self._require(session, scope, AlertAction.HANDLE)
        if action not in MOVES:
            raise Conflict(f"action: one of {', '.join(MOVES)}")
        row = self._row(session, scope, alert_id, lock=True)
        self._within(scope, row)
        needs, leaves, word = MOVES[action]
        if row.status not in needs:
            raise Conflict(f"the alert is {row.status}: it cannot be {word} now").saying(
                "alert_state", status=row.status
            )
        now = utcnow()
        if action == "acknowledge":
            row.acknowledged_at, row.acknowledged_by = now, scope.user_id
        elif action == "resolve":
            row.resolved_at, row.resolved_by = now, scope.user_id
        elif action == "escalate":
            row.escalated_at, row.severity = now, "high"
        elif action == "reopen":
            row.resolved_at = row.resolved_by = None
        if leaves is not None:
            row.status = leaves
        row.updated_at = now
        watch_repository.add_event(session, row, word, note.strip()[:2000], now, actor_id=scope.user_id)
        if action == "escalate":
            # the people of the alert's own place, as when it opened, and the crisis webhook
            path = repo.place_path(session, scope.org_id, row.place_id)
            people = [
                u for u in watch_repository.recipients(session, scope.org_id, path) if u != scope.user_id
            ]
            text = f"Crisis alert ESCALATED: {(row.numbers or {}).get('text', '')} {note}".strip()
            told = notify_alert(session, scope.org_id, row.id, people, text)
            posted = webhooks.queue(session, "crisis", f"{text} (alert #{row.id})", scope.org_id)
            said = f"{told} people in the app" + ("; webhooks: crisis" if posted else "")
            watch_repository.add_event(session, row, "notified", said, now)
        session.flush()
        return self._out(session, scope, [row])[0]

    def set_statements(
        self, session: Session, scope: Scope, alert_id: int, statements: dict[str, str]
    ) -> AlertOut:
        self._require(session, scope, AlertAction.STATEMENT)
        row = self._row(session, scope, alert_id, lock=True)
        self._within(scope, row)
        merged = {**(row.holding_statements or {}), **{k: v.strip() for k, v in statements.items()}}
        kept = {k: v for k, v in merged.items() if v}
        if kept != (row.holding_statements or {}):
            row.holding_statements = kept
            now = utcnow()
            row.updated_at = now
            languages = ", ".join(sorted(kept)) or "none"
            watch_repository.add_event(
                session, row, "statement", f"holding statement: {languages}", now, actor_id=scope.user_id
            )
        session.flush()
        return self._out(session, scope, [row])[0]

    def statements_for(
        self, session: Session, scope: Scope, conversation_id: int, language: str | None
    ) -> list[tuple[int, str, str]]:
        """(alert id, language, text) of the holding statements over this conversation: its language first."""
        if not scope.can_write:
            return []
        out: list[tuple[int, str, str]] = []
        for alert in repo.open_over(session, scope, conversation_id):
            statements = {str(k): str(v) for k, v in (alert.holding_statements or {}).items()}
            ordered = sorted(statements.items(), key=lambda kv: (kv[0] != language, kv[0]))
            out += [(alert.id, lang, text) for lang, text in ordered]
        return out

    def metrics(self, session: Session, scope: Scope, start: datetime, end: datetime) -> AlertMetrics | None:
        """The reports page's crisis lines for the alerts raised in [start, end) the caller sees;
        None for those who do not see alerts (viewers)."""
        if refusal(scope.role, False, AlertAction.VIEW) is not None:
            return None
        rows = repo.opened_between(session, scope, start, end, METRICS_LIMIT)
        places = repo.message_places(
            session, scope.org_id, [int(i) for r in rows for i in (r.message_ids or []) if isinstance(i, int)]
        )
        facts = []
        for row in rows:
            behind = [places[i] for i in (row.message_ids or []) if i in places]
            facts.append(
                AlertFacts(
                    opened_at=as_utc(row.opened_at),
                    acknowledged_at=as_utc(row.acknowledged_at) if row.acknowledged_at else None,
                    resolved_at=as_utc(row.resolved_at) if row.resolved_at else None,
                    conversations=frozenset(c for c, _kind in behind),
                    public=frozenset(c for c, kind in behind if kind in PUBLIC_KINDS),
                )
            )
        since = min((f.opened_at for f in facts), default=start) - EARLY
        replies = repo.replies_since(
            session, scope.org_id, sorted({c for f in facts for c in f.conversations}), since
        )
        return measure(facts, {c: [as_utc(t) for t in times] for c, times in replies.items()})

    def any_open_at(self, session: Session, org_id: int, location_id: int | None) -> bool:
        """Whether an alert not yet resolved covers this place (no automatic answer goes there)."""
        return self.first_open_at(session, org_id, location_id) is not None

    def first_open_at(self, session: Session, org_id: int, location_id: int | None) -> int | None:
        """The id of the oldest alert not yet resolved over this place, if any."""
        found = repo.open_at(session, org_id, location_id)
        return found[0][0].id if found else None

    def hold_for(
        self, session: Session, org_id: int, location_id: int | None
    ) -> tuple[int, tuple[str, ...]] | None:
        """(alert id, approvers) when an open alert over this place has a playbook that holds replies."""
        books = {row.place_id: playbook.of_row(row) for row in watch_repository.playbooks(session, org_id)}
        if not books:
            return None
        for alert, brand in repo.open_at(session, org_id, location_id):
            book = playbook.applying(books, brand)
            if book.hold_replies:
                return alert.id, book.approvers
        return None


alert_service = AlertService()
