"""Choosing the SLA policy for a conversation: the most specific matching policy wins."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar


class PolicyLike(Protocol):
    name: str
    department_key: str | None
    priority: str | None
    channel: str | None


def policy_specificity(policy: PolicyLike) -> int:
    return sum(value is not None for value in (policy.department_key, policy.priority, policy.channel))


P = TypeVar("P", bound=PolicyLike)


def choose_policy(policies: Sequence[P], department: str | None, priority: str, channel: str) -> P | None:
    """Policies whose set fields all match; among them the one with most fields set, then first."""
    best: P | None = None
    best_score = -1
    for policy in policies:
        if policy.department_key is not None and policy.department_key != department:
            continue
        if policy.priority is not None and policy.priority != priority:
            continue
        if policy.channel is not None and policy.channel != channel:
            continue
        score = policy_specificity(policy)
        if score > best_score:
            best, best_score = policy, score
    return best
