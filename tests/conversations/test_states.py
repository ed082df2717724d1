"""The conversation state machine (pure): what each agent action may start from, and where it leads."""

from __future__ import annotations

import pytest

from relaydesk.conversations.states import (
    TRANSITIONS,
    InvalidTransition,
    after_agent_reply,
    is_transfer_loop,
    next_status,
)
from relaydesk.core.enums import ConversationStatus as S

ALL = frozenset(S)

# The whole table, written out by hand: a change to the machine has to change this test too.
ALLOWED: dict[str, tuple[S, set[S]]] = {
    "open": (S.OPEN, {S.NEW, S.PENDING, S.SNOOZED, S.REOPENED}),
    "pending": (S.PENDING, {S.NEW, S.OPEN, S.REOPENED, S.SNOOZED}),
    "resolve": (S.RESOLVED, {S.NEW, S.OPEN, S.PENDING, S.REOPENED, S.SNOOZED}),
    "reopen": (S.REOPENED, {S.RESOLVED}),
    "snooze": (S.SNOOZED, {S.NEW, S.OPEN, S.PENDING, S.REOPENED}),
}


def test_the_actions_are_exactly_the_five_agents_have() -> None:
    assert set(TRANSITIONS) == set(ALLOWED)


@pytest.mark.parametrize(
    ("action", "current"),
    [(action, state) for action, (_target, starts) in ALLOWED.items() for state in sorted(starts)],
)
def test_allowed_transitions_lead_to_the_action_s_status(action: str, current: S) -> None:
    assert next_status(action, current.value) == ALLOWED[action][0]


@pytest.mark.parametrize(
    ("action", "current"),
    [(action, state) for action, (_target, starts) in ALLOWED.items() for state in sorted(ALL - starts)],
)
def test_refused_transitions_say_what_the_action_is_allowed_from(action: str, current: S) -> None:
    with pytest.raises(InvalidTransition) as refused:
        next_status(action, current.value)
    message = str(refused.value)
    assert message.startswith(f"cannot {action} a conversation that is {current.value}")
    allowed = ", ".join(sorted(s.value for s in ALLOWED[action][1]))
    assert message.endswith(f"(allowed from: {allowed})")


def test_a_resolved_conversation_can_only_be_reopened() -> None:
    assert next_status("reopen", "resolved") == S.REOPENED
    for action in ("open", "pending", "resolve", "snooze"):
        with pytest.raises(InvalidTransition):
            next_status(action, "resolved")


def test_an_action_refuses_the_status_it_leads_to() -> None:
    # Snoozing a snoozed conversation or reopening an open one is a mistake, not a no-op.
    for action, (target, _starts) in ALLOWED.items():
        with pytest.raises(InvalidTransition):
            next_status(action, target.value)


def test_an_unknown_action_lists_the_known_ones() -> None:
    with pytest.raises(
        InvalidTransition, match=r"unknown action 'close'; known: open, pending, reopen, resolve, snooze"
    ):
        next_status("close", "open")


def test_an_unknown_status_is_not_a_transition_error() -> None:
    # A status the enum does not know is corrupt data, not an agent's mistake: it is not hidden.
    with pytest.raises(ValueError) as raised:
        next_status("open", "archived")
    assert not isinstance(raised.value, InvalidTransition)


def test_invalid_transition_is_a_value_error() -> None:
    assert issubclass(InvalidTransition, ValueError)


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        (S.NEW, S.OPEN),
        (S.REOPENED, S.OPEN),
        (S.SNOOZED, S.OPEN),
        (S.PENDING, S.OPEN),
        (S.OPEN, S.OPEN),
        (S.RESOLVED, S.RESOLVED),
    ],
)
def test_an_agent_reply_opens_a_waiting_conversation(current: S, expected: S) -> None:
    assert after_agent_reply(current.value, set_pending=False) == expected


@pytest.mark.parametrize("current", list(S))
def test_reply_and_wait_parks_every_conversation_on_the_customer(current: S) -> None:
    assert after_agent_reply(current.value, set_pending=True) == S.PENDING


def test_a_first_transfer_is_never_a_loop() -> None:
    assert not is_transfer_loop([], "billing")


def test_a_transfer_to_the_current_department_is_a_loop() -> None:
    assert is_transfer_loop(["sales"], "sales")
    assert is_transfer_loop(["sales", "billing"], "billing")


def test_a_department_may_get_a_conversation_back_once() -> None:
    assert not is_transfer_loop(["sales", "billing"], "sales")
    assert not is_transfer_loop(["sales", "billing", "support"], "sales")
    assert not is_transfer_loop(["sales", "billing"], "support")


def test_the_second_return_to_a_department_is_a_loop() -> None:
    assert is_transfer_loop(["sales", "billing", "sales", "billing"], "sales")
    assert is_transfer_loop(["sales", "billing", "sales", "support"], "sales")
    assert not is_transfer_loop(["sales", "billing", "sales", "support"], "billing")


def test_max_bounces_sets_how_many_returns_are_allowed() -> None:
    history = ["sales", "billing"]
    assert is_transfer_loop(history, "sales", max_bounces=1)
    assert not is_transfer_loop(["sales", "billing", "sales", "billing"], "sales", max_bounces=3)


def test_staying_in_a_department_twice_in_a_row_counts_as_one_stay() -> None:
    # Two route events for the same team are one stay, not a bounce back.
    assert not is_transfer_loop(["sales", "sales", "billing"], "sales")
    assert is_transfer_loop(["sales", "sales", "billing", "sales", "billing"], "sales")
