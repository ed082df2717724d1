"""Notification destinations, the pure parts: who may do what (the whole matrix) and which names
and addresses are accepted."""

from __future__ import annotations

import pytest

from relaydesk.core.enums import Role
from relaydesk.notifications.destination_access import DestinationAction, may, refusal
from relaydesk.notifications.destination_values import env_destination_name, name_problem, url_problem

A = DestinationAction
# role -> what it may do when it answers for the whole organisation (in scope) / for one part only.
EXPECTED: dict[Role, tuple[set[DestinationAction], set[DestinationAction]]] = {
    Role.OWNER: (set(A), {A.VIEW}),
    Role.ADMIN: (set(A), {A.VIEW}),
    Role.MANAGER: ({A.VIEW}, {A.VIEW}),
    Role.AGENT: (set(), set()),
    Role.VIEWER: (set(), set()),
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(DestinationAction))
@pytest.mark.parametrize("org_wide", [True, False], ids=["whole-org", "one-part"])
def test_the_matrix(role: Role, action: DestinationAction, org_wide: bool) -> None:
    allowed = EXPECTED[role][0 if org_wide else 1]
    assert may(role, action, org_wide=org_wide) is (action in allowed)
    reason = refusal(role, action, org_wide=org_wide)
    assert (reason is None) is (action in allowed)
    if reason is not None:
        assert "http" not in reason  # a refusal never carries an address


def test_every_role_is_in_the_matrix() -> None:
    assert set(EXPECTED) == set(Role)


@pytest.mark.parametrize("name", ["pr-desk", "escalations", "team-2", "a"])
def test_good_names(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize("name", ["", "PR-desk", "pr_desk", "pr--desk", "-pr", "pr desk", "x" * 65, "سلام"])
def test_bad_names_say_what_is_wrong(name: str) -> None:
    problem = name_problem(name)
    assert problem is not None and problem.startswith("name:")


@pytest.mark.parametrize(
    "url", ["https://hooks.slack.com/services/T1/B2/xyz", "http://chat.internal:8080/hook?x=1"]
)
def test_good_addresses(url: str) -> None:
    assert url_problem(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "",
        "hooks.slack.com/services/T1",
        "ftp://example.com/x",
        "https://",
        "https://exa mple.com/x",
        "javascript:alert(1)",
        "https://example.com:99999/x",
        "https://example.com/" + "x" * 2000,
    ],
)
def test_bad_addresses_never_repeat_the_address(url: str) -> None:
    problem = url_problem(url)
    assert problem is not None and problem.startswith("url:")
    assert url[8:] not in problem or not url[8:]


def test_environment_names_read_as_rule_names() -> None:
    assert env_destination_name("RELAYDESK_WEBHOOK_PR_DESK", "RELAYDESK_WEBHOOK_") == "pr-desk"
