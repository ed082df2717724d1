"""The intents service on a real database: the permission matrix enforced, the change audited,
config export gives it back, and the few-shot check reads the stored intents."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from relaydesk.auth.scopes import Scope
from relaydesk.config.service import export_config
from relaydesk.container import Container
from relaydesk.core.enums import Role
from relaydesk.core.errors import Forbidden, Refused
from relaydesk.db import transaction
from relaydesk.models import AuditEntry
from relaydesk.orgs.intent_service import intent_service
from relaydesk.orgs.schemas import IntentIn
from tests.guidelines.test_faq_service import scope_of

SCOPES: dict[str, Callable[[Session], Scope]] = {
    "owner": lambda s: scope_of(s, "ada", Role.OWNER),
    "admin": lambda s: scope_of(s, "ada"),
    "service manager (whole org)": lambda s: scope_of(s, "nora", Role.MANAGER, ["service"]),
    "service manager (north only)": lambda s: scope_of(s, "nora"),
    "agent (Sam)": lambda s: scope_of(s, "sam"),
    "viewer (Vic)": lambda s: scope_of(s, "vic"),
}
ACTIONS = ("list", "edit mine", "edit other", "create mine", "create none", "delete mine", "delete other")
ALLOWED = {
    "owner": set(ACTIONS),
    "admin": set(ACTIONS),
    "service manager (whole org)": {"list", "edit mine", "create mine", "delete mine"},
    "service manager (north only)": {"list"},
    "agent (Sam)": set(),
    "viewer (Vic)": set(),
}


def _attempt(session: Session, scope: Scope, action: str) -> None:
    if action == "list":
        intent_service.page(session, scope)
    elif action == "edit mine":
        intent_service.put(
            session, scope, "refund_request", IntentIn(examples=["money back"], department="service")
        )
    elif action == "edit other":
        intent_service.put(session, scope, "job_inquiry", IntentIn(examples=["a job?"], department="hr"))
    elif action == "create mine":
        intent_service.put(session, scope, "loyalty", IntentIn(examples=["my points"], department="service"))
    elif action == "create none":
        intent_service.put(session, scope, "loyalty", IntentIn(examples=["my points"], department=None))
    elif action == "delete mine":
        intent_service.delete(session, scope, "order_issue")
    else:
        intent_service.delete(session, scope, "job_inquiry")


def test_the_service_enforces_the_matrix(container: Container) -> None:
    for who, make_scope in SCOPES.items():
        for action in ACTIONS:
            with container.sessions() as session:
                try:
                    _attempt(session, make_scope(session), action)
                    done = True
                except Forbidden:
                    done = False
                assert done is (action in ALLOWED[who]), (who, action)
                session.rollback()


def test_a_manager_cannot_hand_her_intent_to_another_department(container: Container) -> None:
    with container.sessions() as session:
        mine = scope_of(session, "nora", Role.MANAGER, ["service"])
        try:
            intent_service.put(session, mine, "refund_request", IntentIn(examples=["x"], department="hr"))
            raise AssertionError("handed over")
        except Forbidden:
            pass


def test_bad_input_names_the_field(container: Container) -> None:
    with container.sessions() as session:
        admin = scope_of(session, "ada")
        for name, body, field in [
            ("Bad Name", IntentIn(examples=["x"]), "name"),
            ("loyalty", IntentIn.model_construct(examples=[" "], department=None), "examples"),
            ("loyalty", IntentIn(examples=["x"], department="nope"), "department"),
        ]:
            try:
                intent_service.put(session, admin, name, body)
                raise AssertionError(name)
            except Refused as exc:
                assert exc.extra["field"] == field
        # A built-in intent may be listed without examples (to give it a department).
        kept = intent_service.put(
            session, admin, "praise", IntentIn.model_construct(examples=[], department="sales")
        )
        assert kept.builtin and kept.department == "sales"


def test_a_change_is_audited_and_exported(container: Container) -> None:
    with transaction(container.sessions) as session:
        mine = scope_of(session, "nora", Role.MANAGER, ["service"])
        intent_service.put(
            session,
            mine,
            "refund_request",
            IntentIn(
                examples=["I want my money back", "پولم را پس بدهید", "i want my MONEY back"],
                department="service",
            ),
            via="web",
        )
    with container.sessions() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.kind == "intent", AuditEntry.via == "web")
        ).one()
        assert entry.action == "updated" and entry.via == "web" and entry.actor_name == "Nora North"
        assert "پولم را پس بدهید" in (entry.after or {})["examples"]
        exported = export_config(session, "testco")
    refund = next(i for i in exported["intents"] if i["name"] == "refund_request")
    # The same words in another case are one example.
    assert refund["examples"] == ["I want my money back", "پولم را پس بدهید"]


def test_the_few_shot_check_and_the_try_box_use_the_stored_intents(container: Container) -> None:
    with transaction(container.sessions) as session:
        admin = scope_of(session, "ada")
        intent_service.put(
            session,
            admin,
            "refund_request",
            IntentIn(
                examples=["I want my money back", "please refund my order", "I want to apply for a job"],
                department="service",
            ),
        )
        intent_service.put(
            session,
            admin,
            "job_inquiry",
            IntentIn(examples=["I want to apply for a job", "are you hiring"], department="hr"),
        )
    container.triage.invalidate(admin.org_id)
    with container.sessions() as session:
        checks = intent_service.few_shot_check(session, admin, container.triage, "refund_request")
        assert [c.example for c in checks][:2] == ["I want my money back", "please refund my order"]
        assert checks[0].landed == "refund_request" and not checks[0].flagged
        assert checks[0].score > 0
        tried = intent_service.try_message(session, admin, container.triage, "please refund my order", None)
        assert tried.intent == "refund_request" and tried.department == "service"
        assert tried.top[0][0] == "refund_request"
        # A built-in intent listed without examples is checked on the product's examples.
        assert intent_service.few_shot_check(session, admin, container.triage, "praise")
