"""The conversation state machine (pure): which status changes are allowed and why not."""

from __future__ import annotations

from relaydesk.core.enums import ConversationStatus as S

# Agent actions. Customer messages move states too (pipeline): resolved -> reopened,
# pending/snoozed -> open.
# action -> (target status, statuses it may start from)
TRANSITIONS: dict[str, tuple[S, frozenset[S]]] = {
    "open": (S.OPEN, frozenset({S.NEW, S.PENDING, S.SNOOZED, S.REOPENED})),
    "pending": (S.PENDING, frozenset({S.NEW, S.OPEN, S.REOPENED, S.SNOOZED})),
    "resolve": (S.RESOLVED, frozenset({S.NEW, S.OPEN, S.PENDING, S.REOPENED, S.SNOOZED})),
    "reopen": (S.REOPENED, frozenset({S.RESOLVED})),
    "snooze": (S.SNOOZED, frozenset({S.NEW, S.OPEN, S.PENDING, S.REOPENED})),
}


class InvalidTransition(ValueError):
    pass


def next_status(action: str, current: str) -> S:
    """The status an action leads to from `current`, or InvalidTransition saying why not."""
    if action not in TRANSITIONS:
        raise InvalidTransition(f"unknown action {action!r}; known: {', '.join(sorted(TRANSITIONS))}")
    target, allowed = TRANSITIONS[action]
    state = S(current)
    if state not in allowed:
        raise InvalidTransition(
            f"cannot {action} a conversation that is {state.value} "
            f"(allowed from: {', '.join(sorted(s.value for s in allowed))})"
        )
    return target


def after_agent_reply(current: str, set_pending: bool) -> S:
    """An agent's reply opens a new conversation; 'reply and wait' parks it on the customer."""
    if set_pending:
        return S.PENDING
    state = S(current)
    if state in (S.NEW, S.REOPENED, S.SNOOZED, S.PENDING):
        return S.OPEN
    return state


def is_transfer_loop(history: list[str], target: str, max_bounces: int = 2) -> bool:
    """A->B->A->B...: stop a conversation bouncing between departments instead of being answered.

    `history` is the list of department keys the conversation has been in, oldest first.
    A transfer back to a department it already left `max_bounces` times is a loop.
    """
    if not history:
        return False
    if history[-1] == target:
        return True
    returns = sum(1 for i, dept in enumerate(history[:-1]) if dept == target and history[i + 1] != target)
    return returns >= max_bounces
