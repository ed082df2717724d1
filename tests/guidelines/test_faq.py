"""FAQ suggestions and who may change FAQ entries: the pure parts, without a database."""

from __future__ import annotations

from datetime import date

import pytest

from relaydesk.core.enums import Role
from relaydesk.guidelines.faq import FaqAnswer, in_force, suggest
from relaydesk.guidelines.faq_access import (
    FaqAction,
    FaqEditor,
    allowed,
    refusal,
    status_after_edit,
    transitions,
)

GIFT = FaqAnswer(
    "gift",
    "Can I buy a gift card?",
    "Yes, in every café.",
    "en",
    variants=("Do you sell gift vouchers?", "کارت هدیه دارید؟"),
    answers={"en": "Yes, in every café.", "fa": "بله، در همه کافه‌ها."},
)
HOURS = FaqAnswer("hours", "When are you open?", "8-20 daily", "en")


def test_a_message_like_a_variant_finds_the_entry() -> None:
    found = suggest("do you sell gift vouchers", [GIFT, HOURS], "en")
    assert [s.key for s in found][:1] == ["gift"]
    assert found[0].matched == "Do you sell gift vouchers?"


def test_a_variant_in_another_language_matches_and_the_answer_is_in_the_conversations_language() -> None:
    found = suggest("کارت هدیه دارید", [GIFT, HOURS], "fa")
    assert found and found[0].key == "gift"
    assert found[0].answer == "بله، در همه کافه‌ها." and found[0].language == "fa"


def test_without_an_answer_in_the_conversations_language_the_primary_is_offered() -> None:
    found = suggest("Can I buy a gift card please", [GIFT], "th")
    assert found[0].answer == "Yes, in every café." and found[0].language == "en"


def test_a_message_like_nothing_finds_nothing() -> None:
    assert suggest("xyzzy qwerty", [GIFT, HOURS], "en") == []
    assert suggest("   ", [GIFT], "en") == []


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "today", "expected"),
    [
        (None, None, date(2026, 1, 1), True),
        (date(2026, 1, 1), None, date(2026, 1, 1), True),
        (date(2026, 1, 2), None, date(2026, 1, 1), False),
        (None, date(2026, 1, 1), date(2026, 1, 1), True),
        (None, date(2026, 1, 1), date(2026, 1, 2), False),
        (date(2026, 1, 1), date(2026, 1, 31), date(2026, 1, 15), True),
    ],
)
def test_validity_dates_are_inclusive_and_open_when_missing(
    valid_from: date | None, valid_until: date | None, today: date, expected: bool
) -> None:
    assert in_force(valid_from, valid_until, today) is expected


OWNER = FaqEditor(Role.OWNER, spokesperson=False)
ADMIN = FaqEditor(Role.ADMIN, spokesperson=False)
PR_MANAGER = FaqEditor(Role.MANAGER, spokesperson=True)
PR_AGENT = FaqEditor(Role.AGENT, spokesperson=True)
MANAGER = FaqEditor(Role.MANAGER, spokesperson=False)
AGENT = FaqEditor(Role.AGENT, spokesperson=False)
VIEWER = FaqEditor(Role.VIEWER, spokesperson=False)
PR_VIEWER = FaqEditor(Role.VIEWER, spokesperson=True)

APPROVERS = (OWNER, ADMIN, PR_MANAGER, PR_AGENT)
PROPOSERS = (MANAGER, AGENT)
NOBODY = (VIEWER, PR_VIEWER)


@pytest.mark.parametrize("action", list(FaqAction))
@pytest.mark.parametrize("status", ["draft", "approved", "retired"])
def test_the_matrix_of_roles_and_actions(action: FaqAction, status: str) -> None:
    for editor in APPROVERS:
        assert allowed(editor, action, status), (editor, action, status)
    for editor in NOBODY:
        assert not allowed(editor, action, status), (editor, action, status)
    proposer_may = action in (FaqAction.VIEW, FaqAction.CREATE) or (
        action == FaqAction.EDIT and status == "draft"
    )
    for editor in PROPOSERS:
        assert allowed(editor, action, status) is proposer_may, (editor, action, status)


def test_a_proposer_creates_a_new_entry_and_is_told_why_she_cannot_approve() -> None:
    assert allowed(AGENT, FaqAction.CREATE, None) and allowed(AGENT, FaqAction.EDIT, None)
    reason = refusal(AGENT, FaqAction.APPROVE, "draft")
    assert reason is not None and "PR" in reason


def test_a_changed_text_puts_only_an_approved_entry_back_to_draft() -> None:
    assert status_after_edit("approved", text_changed=True) == "draft"
    assert status_after_edit("approved", text_changed=False) == "approved"
    assert status_after_edit("draft", text_changed=True) == "draft"
    assert status_after_edit("retired", text_changed=True) == "retired"


def test_the_status_changes_offered_depend_on_the_status_and_the_person() -> None:
    assert transitions(PR_MANAGER, "draft") == [FaqAction.APPROVE, FaqAction.RETIRE]
    assert transitions(PR_MANAGER, "approved") == [FaqAction.DRAFT, FaqAction.RETIRE]
    assert transitions(ADMIN, "retired") == [FaqAction.APPROVE, FaqAction.DRAFT]
    assert transitions(AGENT, "draft") == [] and transitions(MANAGER, "approved") == []
