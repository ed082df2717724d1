"""Who may approve a reply held for approval (pure).

A held reply carries a list of approvers: role names and people. A role means anyone of that
rank or above (``manager`` covers managers, admins and owners; ``admin`` covers admins and
owners); ``@handle`` names one person, such as the spokesperson, whatever their role. A routing
rule names them (``then: {require_approval: true, approvers: ["@hannah", manager]}``); without a
list the managers approve. Whatever the list says, nobody approves their own reply, and a reply
held by an agency's contract is approved by the brand, not by the agency's own people.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from relaydesk.core.enums import APPROVER_ROLES, APPROVER_TAG

DEFAULT_APPROVERS: tuple[str, ...] = ("manager",)
_ROLE_RANK = {"viewer": -1, "agent": 0, **APPROVER_ROLES}
_ARTICLE = {"manager": "a manager", "admin": "an admin", "owner": "the owner"}


@dataclass(frozen=True)
class Hold:
    """Why a reply waits, and who may release it."""

    reason: str
    approvers: tuple[str, ...] = DEFAULT_APPROVERS
    # A reply held by an agency's contract: that agency's own people may not approve it.
    excluded_agency_id: int | None = None
    excluded_agency: str | None = None
    people: tuple[str, ...] = field(default=(), compare=False)  # handles who can approve, for display

    def as_dict(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "approvers": list(self.approvers),
            "excluded_agency_id": self.excluded_agency_id,
            "excluded_agency": self.excluded_agency,
        }

    @classmethod
    def from_dict(cls, data: object) -> Hold | None:
        if not isinstance(data, dict) or not isinstance(data.get("reason"), str):
            return None
        approvers = data.get("approvers")
        agency_id = data.get("excluded_agency_id")
        agency = data.get("excluded_agency")
        return cls(
            reason=str(data["reason"]),
            approvers=tuple(str(a) for a in approvers)
            if isinstance(approvers, list) and approvers
            else DEFAULT_APPROVERS,
            excluded_agency_id=agency_id if isinstance(agency_id, int) else None,
            excluded_agency=agency if isinstance(agency, str) else None,
        )

    def waiting_for(self) -> str:
        """``"@hannah or a manager"``: the approvers as a person reads them."""
        return describe_approvers(self.approvers)


def approvers_from_tags(tags: Iterable[object]) -> tuple[str, ...]:
    """The approvers a routing rule put on a conversation (``approver:<who>`` tags)."""
    found = [str(t)[len(APPROVER_TAG) :] for t in tags if isinstance(t, str) and t.startswith(APPROVER_TAG)]
    return tuple(dict.fromkeys(found)) or DEFAULT_APPROVERS


def describe_approvers(approvers: Sequence[str]) -> str:
    names = [a if a.startswith("@") else _ARTICLE.get(a, a) for a in approvers] or [_ARTICLE["manager"]]
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]


def matches(approvers: Sequence[str], role: str, handle: str) -> bool:
    """Whether a person of `role` with `handle` is one of `approvers`."""
    rank = _ROLE_RANK.get(role, -1)
    for approver in approvers:
        if approver.startswith("@"):
            if approver[1:] == handle.lower():
                return True
        elif approver in APPROVER_ROLES and rank >= APPROVER_ROLES[approver]:
            return True
    return False


def refusal(
    hold: Hold,
    *,
    user_id: int,
    role: str,
    handle: str,
    agency_id: int | None,
    author_id: int | None,
) -> str | None:
    """Why this person may not approve the held reply; None when they may."""
    if author_id is not None and user_id == author_id:
        return "you cannot approve your own reply; " + f"it waits for {hold.waiting_for()}"
    if hold.excluded_agency_id is not None and agency_id == hold.excluded_agency_id:
        who = hold.excluded_agency or "the agency"
        return f"replies held under {who}'s contract are approved by the brand, not by {who}"
    if not matches(hold.approvers, role, handle):
        return f"this reply waits for approval by {hold.waiting_for()}"
    return None
