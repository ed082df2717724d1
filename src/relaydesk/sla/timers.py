"""Which SLA clocks need a warning or an escalation now (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from relaydesk.core.enums import PRIORITY_ORDER, Priority


@dataclass(frozen=True)
class ClockState:
    conversation_id: int
    due: datetime | None
    warned: bool
    breached: bool
    # The policy's own warning lead; None = the caller's default. Zero means never warn.
    warn_before: timedelta | None = None


@dataclass(frozen=True)
class ClockAction:
    conversation_id: int
    kind: str  # warning|breach


def due_actions(clocks: list[ClockState], now: datetime, warn_before: timedelta) -> list[ClockAction]:
    """A warning once when the due time is near, a breach once when it has passed.

    Each clock is warned ``clock.warn_before`` (else ``warn_before``) ahead of its due time; a lead
    of zero never warns, the breach still comes.
    """
    actions: list[ClockAction] = []
    for clock in clocks:
        if clock.due is None:
            continue
        lead = warn_before if clock.warn_before is None else clock.warn_before
        if clock.due <= now and not clock.breached:
            actions.append(ClockAction(clock.conversation_id, "breach"))
        elif lead > timedelta(0) and clock.due - lead <= now < clock.due and not clock.warned:
            actions.append(ClockAction(clock.conversation_id, "warning"))
    return actions


def raised_priority(current: str) -> str:
    """One step up on a breach, never past urgent."""
    try:
        index = PRIORITY_ORDER.index(Priority(current))
    except ValueError:
        index = PRIORITY_ORDER.index(Priority.NORMAL)
    return PRIORITY_ORDER[min(index + 1, len(PRIORITY_ORDER) - 1)].value
