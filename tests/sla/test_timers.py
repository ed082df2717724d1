"""Which clocks warn or breach now (pure): the warning lead is each policy's own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from relaydesk.sla.timers import ClockState, due_actions

NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)


def clock(ident: int, due_in_minutes: int, lead: int | None = None, warned: bool = False) -> ClockState:
    return ClockState(
        ident,
        NOW + timedelta(minutes=due_in_minutes),
        warned,
        False,
        None if lead is None else timedelta(minutes=lead),
    )


def test_each_clock_warns_as_early_as_its_own_lead() -> None:
    clocks = [clock(1, 25, lead=30), clock(2, 25), clock(3, 10), clock(4, 40, lead=60)]
    actions = due_actions(clocks, NOW, timedelta(minutes=15))
    assert [(a.conversation_id, a.kind) for a in actions] == [(1, "warning"), (3, "warning"), (4, "warning")]


def test_a_zero_lead_never_warns_but_still_breaches() -> None:
    assert due_actions([clock(1, 1, lead=0)], NOW, timedelta(minutes=15)) == []
    breached = due_actions([clock(1, 0, lead=0)], NOW, timedelta(minutes=15))
    assert [a.kind for a in breached] == ["breach"]


def test_a_warned_clock_is_not_warned_twice() -> None:
    assert due_actions([clock(1, 5, lead=30, warned=True)], NOW, timedelta(minutes=15)) == []
