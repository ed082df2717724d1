"""The FAQ service on a real database: permissions enforced, approval recorded, only approved offered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from relaydesk.auth.scopes import Scope
from relaydesk.auth.service import scope_for
from relaydesk.container import Container
from relaydesk.core.enums import Role
from relaydesk.core.errors import Forbidden
from relaydesk.db import transaction
from relaydesk.guidelines.faq_access import FaqAction
from relaydesk.guidelines.faq_service import faq_service
from relaydesk.guidelines.schemas import FaqIn
from relaydesk.guidelines.service import faq_suggestions
from relaydesk.models import AuditEntry, Department, FaqEntry, User

GIFT = FaqIn(
    question="Can I buy a gift card?",
    answer="Yes, in every café.",
    variants=["Do you sell gift vouchers?"],
    answers={"fa": "بله، در همه کافه‌ها."},
)


def scope_of(
    session: Session, handle: str, role: Role | None = None, departments: list[str] | None = None
) -> Scope:
    """A person's scope; `role`/`departments` make one the fixture has no person for."""
    user = session.scalars(select(User).where(User.handle == handle)).one()
    scope = scope_for(session, user)
    if role is None and departments is None:
        return scope
    ids = (
        frozenset(session.scalars(select(Department.id).where(Department.key.in_(departments))).all())
        if departments is not None
        else scope.department_ids
    )
    return Scope(scope.org_id, scope.user_id, role or scope.role, ids)


SCOPES: dict[str, Callable[[Session], Scope]] = {
    "owner": lambda s: scope_of(s, "ada", Role.OWNER),
    "admin": lambda s: scope_of(s, "ada"),
    "pr manager (Petra)": lambda s: scope_of(s, "petra"),
    "pr agent": lambda s: scope_of(s, "sam", Role.AGENT, ["pr"]),
    "other manager (Nora)": lambda s: scope_of(s, "nora"),
    "agent (Sam)": lambda s: scope_of(s, "sam"),
    "viewer (Vic)": lambda s: scope_of(s, "vic"),
}
APPROVERS = {"owner", "admin", "pr manager (Petra)", "pr agent"}
PROPOSERS = {"other manager (Nora)", "agent (Sam)"}


def _attempt(session: Session, scope: Scope, action: str) -> None:
    if action == "create":
        faq_service.put(session, scope, "new-one", GIFT)
    elif action == "edit draft":
        faq_service.put(session, scope, "gift", GIFT.model_copy(update={"answer": "Changed."}))
    elif action == "edit approved":
        faq_service.put(session, scope, "hours", GIFT.model_copy(update={"answer": "Changed."}))
    elif action == "list":
        faq_service.list(session, scope)
    elif action in ("approve", "retire"):
        faq_service.set_status(session, scope, "gift", FaqAction(action))
    elif action == "draft":
        faq_service.set_status(session, scope, "hours", FaqAction.DRAFT)
    else:
        faq_service.delete(session, scope, "gift")


ACTIONS = ("list", "create", "edit draft", "edit approved", "approve", "draft", "retire", "delete")


def test_the_service_enforces_the_matrix_of_people_and_actions(container: Container) -> None:
    for who, make_scope in SCOPES.items():
        for action in ACTIONS:
            with container.sessions() as session:
                admin = scope_of(session, "ada")
                faq_service.put(session, admin, "gift", GIFT)  # a draft; "hours" is approved
                if who in APPROVERS:
                    expected = True
                elif who in PROPOSERS:
                    expected = action in ("list", "create", "edit draft")
                else:
                    expected = False
                try:
                    _attempt(session, make_scope(session), action)
                    done = True
                except Forbidden:
                    done = False
                assert done is expected, (who, action)
                session.rollback()


def test_an_agents_draft_is_not_offered_until_pr_approves_it(container: Container) -> None:
    message = "Hello, do you sell gift vouchers?"
    with transaction(container.sessions) as session:
        faq_service.put(session, scope_of(session, "sam"), "gift", GIFT, via="web")
    with container.sessions() as session:
        org_id = scope_of(session, "sam").org_id
        assert "gift" not in [s.key for s in faq_suggestions(session, org_id, message, "en")]
    with transaction(container.sessions) as session:
        petra = scope_of(session, "petra")
        approved = faq_service.set_status(session, petra, "gift", FaqAction.APPROVE, via="web")
        assert approved.status == "approved" and approved.approved_by == "Petra PR"
    with container.sessions() as session:
        found = faq_suggestions(session, org_id, message, "fa")
        assert found[0].key == "gift" and found[0].answer == "بله، در همه کافه‌ها."
        entry = session.scalars(select(FaqEntry).where(FaqEntry.key == "gift")).one()
        assert entry.approved_at is not None
        logged = session.scalars(
            select(AuditEntry).where(AuditEntry.key == "gift").order_by(AuditEntry.id)
        ).all()
        assert [(e.action, e.actor_name, e.via) for e in logged] == [
            ("created", "Sam Service", "web"),
            ("updated", "Petra PR", "web"),
        ]
        assert (logged[1].before or {})["status"] == "draft"
        assert (logged[1].after or {})["status"] == "approved"
        assert (logged[1].after or {})["approved_by_id"] == petra.user_id


def test_changing_an_approved_answer_puts_it_back_to_draft(container: Container) -> None:
    with transaction(container.sessions) as session:
        petra = scope_of(session, "petra")
        changed = faq_service.put(
            session, petra, "hours", FaqIn(question="When are you open?", answer="Every day 9–21.")
        )
        assert changed.status == "draft" and changed.approved_by is None
        again = faq_service.set_status(session, petra, "hours", FaqAction.APPROVE)
        # Only the dates changed: still approved.
        dated = faq_service.put(
            session,
            petra,
            "hours",
            FaqIn(question="When are you open?", answer="Every day 9–21.", valid_until=date(2099, 1, 1)),
        )
        assert again.status == dated.status == "approved"


def test_an_entry_outside_its_dates_is_not_offered(container: Container) -> None:
    today = date.today()
    with transaction(container.sessions) as session:
        admin = scope_of(session, "ada")
        for key, start, end in (
            ("past", today - timedelta(days=30), today - timedelta(days=2)),
            ("future", today + timedelta(days=2), None),
        ):
            body = GIFT.model_copy(update={"valid_from": start, "valid_until": end})
            faq_service.put(session, admin, key, body)
            faq_service.set_status(session, admin, key, FaqAction.APPROVE)
        offered = faq_service.suggestions(session, admin.org_id, "do you sell gift vouchers", "en")
        assert not {"past", "future"} & {s.key for s in offered}
        listed = {e.key: e.suggested for e in faq_service.list(session, admin, status="approved")}
        assert listed == {"future": False, "hours": True, "past": False}


def test_the_list_puts_drafts_first_and_searches_every_language(container: Container) -> None:
    with transaction(container.sessions) as session:
        admin = scope_of(session, "ada")
        faq_service.put(session, admin, "gift", GIFT)
        assert [e.key for e in faq_service.list(session, admin)] == ["gift", "hours"]
        assert [e.key for e in faq_service.list(session, admin, search="کافه")] == ["gift"]
        assert [e.key for e in faq_service.list(session, admin, status="approved")] == ["hours"]


@pytest.mark.parametrize("key", ["Bad Key", "", "x" * 65])
def test_a_key_that_could_not_be_written_in_the_file_is_refused(container: Container, key: str) -> None:
    from relaydesk.core.errors import Refused

    with container.sessions() as session, pytest.raises(Refused):
        faq_service.put(session, scope_of(session, "ada"), key, GIFT)
