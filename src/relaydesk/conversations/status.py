"""Status changes: an agent's open/pending/snooze/resolve/reopen, and snoozes waking on their own."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from relaydesk.auth.scopes import Scope
from relaydesk.conversations import repository as repo
from relaydesk.conversations import timeline
from relaydesk.conversations.context import Deps, visible
from relaydesk.conversations.schemas import ConversationOut
from relaydesk.conversations.states import InvalidTransition, next_status
from relaydesk.conversations.views import summary
from relaydesk.core.enums import ConversationStatus
from relaydesk.core.errors import Conflict, UserError
from relaydesk.core.events import ConversationResolved, ConversationUpdated, publish_on_commit
from relaydesk.core.timeutil import as_utc, utcnow
from relaydesk.db import transaction, turn_over
from relaydesk.sla.service import count_actions
from relaydesk.sla.timers import ClockAction


def change_status(
    deps: Deps, scope: Scope, conversation_id: int, action: str, until: datetime | None = None
) -> ConversationOut:
    scope.require_write()
    with transaction(deps.sessions) as session:
        conversation = visible(session, scope, conversation_id, lock=True)
        before = conversation.status
        try:
            target = next_status(action, before)
        except InvalidTransition as exc:
            raise Conflict(str(exc)).saying("transition", action=action, status=before) from exc
        now = utcnow()
        detail = ""
        if target == ConversationStatus.SNOOZED:
            wake = as_utc(until)
            if wake is None or wake <= now:
                raise UserError("until: must be a future time with a timezone").saying("snooze_past")
            conversation.snoozed_until = wake
            detail = f" until {wake.isoformat()}"
        else:
            conversation.snoozed_until = None
        if target == ConversationStatus.RESOLVED:
            freed_org = conversation.org_id
            record = deps.sla.on_resolve(session, conversation, now)
            conversation.resolved_at = now
            if record is not None:
                detail = f"; resolution {'met' if record.met else 'breached'}"
        if target == ConversationStatus.PENDING:
            # Waiting on the customer: the clocks pause, keeping the business time they had left.
            deps.sla.pause(session, conversation, now)
        elif target != ConversationStatus.RESOLVED and conversation.sla_paused_at is not None:
            deps.sla.resume(session, conversation, now, f"{before} -> {target.value}")
        if target == ConversationStatus.REOPENED:
            conversation.resolved_at = None
        conversation.status = target.value
        if target == ConversationStatus.RESOLVED:
            session.flush()
            # The agent has room again: the queue is drained now, not at the next tick.
            deps.routing.drain(session, freed_org, limit=20)
        timeline.record(
            session,
            conversation,
            "status",
            f"{before} -> {target.value}{detail}",
            {
                "from": before,
                "to": target.value,
                **({"until": conversation.snoozed_until.isoformat()} if conversation.snoozed_until else {}),
            },
            actor_id=scope.user_id,
        )
        if target == ConversationStatus.RESOLVED:
            publish_on_commit(
                session,
                ConversationResolved(
                    org_id=conversation.org_id, conversation_id=conversation.id, actor_user_id=scope.user_id
                ),
            )
        else:
            publish_on_commit(
                session,
                ConversationUpdated(
                    org_id=conversation.org_id, conversation_id=conversation.id, fields=["status"]
                ),
            )
        out = summary(session, conversation)
    return out


# A round that still finds work after this many transactions leaves the rest to the next round.
TICK_ROUNDS = 500
TICK_PAUSE_MAX_S = 0.2


class _Turn:
    """One short write transaction's budget (`db.turn_over`); remembers whether it ran out.

    The budget counts from the first change made, not from the reads that found the work: with
    hundreds of clocks due, reading them took the whole budget, and every round then changed one
    conversation and read them all again.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.started: float | None = None
        self.ran_out = False

    def __call__(self) -> bool:
        if self.started is None:
            self.started = time.perf_counter()
        self.ran_out = self.ran_out or turn_over(self.session, self.started)
        return self.ran_out


def tick(deps: Deps, now: datetime | None = None) -> dict[str, int]:
    """Housekeeping run every few seconds: wake snoozed conversations, SLA warnings/breaches,
    queued conversations to agents who freed up.

    In short transactions: a round of SLA warnings or queued assignments can touch hundreds of
    conversations, and one transaction holding SQLite's only writer for it kept webhooks waiting
    a second (`relaydesk bench e2e`, accept p99 ~1 s).
    """
    now = now or utcnow()
    woken = 0
    actions: list[ClockAction] = []
    drained = 0
    for _ in range(TICK_ROUNDS):
        started = time.perf_counter()
        with transaction(deps.sessions) as session:
            turn = _Turn(session)
            woken += _wake_snoozed(session, now, turn)
            if not turn.ran_out:
                actions += deps.sla.tick(session, now, enough=turn)
            if not turn.ran_out:
                drained += deps.routing.drain(session, enough=turn)
        if not turn.ran_out:
            break
        # Timers can wait; messages should not: at most a quarter of the time goes to them. A
        # round of 300 SLA warnings otherwise kept the workers from the writer (and the
        # interpreter) for a second, and messages arriving meanwhile waited a second more
        # (`relaydesk bench e2e`).
        time.sleep(min(TICK_PAUSE_MAX_S, 3 * (time.perf_counter() - started)))
    count_actions(actions)
    return {
        "woken": woken,
        "warnings": sum(a.kind == "warning" for a in actions),
        "breaches": sum(a.kind == "breach" for a in actions),
        "assigned_from_queue": drained,
    }


def _wake_snoozed(session: Session, now: datetime, enough: Callable[[], bool]) -> int:
    woken = 0
    for conversation in repo.snoozed_until_before(session, now):
        if woken and enough():
            break
        woken += 1
        conversation.status = ConversationStatus.OPEN.value
        conversation.snoozed_until = None
        timeline.record(
            session,
            conversation,
            "status",
            "snooze ended: snoozed -> open",
            {"from": "snoozed", "to": "open"},
        )
        publish_on_commit(
            session,
            ConversationUpdated(
                org_id=conversation.org_id, conversation_id=conversation.id, fields=["status"]
            ),
        )
    return woken
