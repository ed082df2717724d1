"""The saved replies service on a real database: the permission matrix, reads scoped to what a
person is offered, a macro's actions kept, the change audited and exported."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from relaydesk.auth.scopes import Scope
from relaydesk.config.service import export_config
from relaydesk.container import Container
from relaydesk.conversations.canned_service import canned_service
from relaydesk.conversations.schemas import CannedIn
from relaydesk.core.enums import Role
from relaydesk.core.errors import Forbidden, NotFound, Refused
from relaydesk.db import transaction
from relaydesk.models import AuditEntry, CannedResponse
from tests.guidelines.test_faq_service import scope_of

SCOPES: dict[str, Callable[[Session], Scope]] = {
    "owner": lambda s: scope_of(s, "ada", Role.OWNER),
    "admin": lambda s: scope_of(s, "ada"),
    "service manager (whole org)": lambda s: scope_of(s, "nora", Role.MANAGER, ["service"]),
    "service manager (north only)": lambda s: scope_of(s, "nora"),
    "agent (Sam)": lambda s: scope_of(s, "sam"),
    "viewer (Vic)": lambda s: scope_of(s, "vic"),
}
ACTIONS = ("list", "create mine", "create for everyone", "edit mine", "edit other", "delete mine")
ALLOWED = {
    "owner": set(ACTIONS),
    "admin": set(ACTIONS),
    "service manager (whole org)": {"list", "create mine", "edit mine", "delete mine"},
    "service manager (north only)": {"list"},
    "agent (Sam)": {"list"},
    "viewer (Vic)": set(),
}
THANKS = CannedIn(title="Thanks", texts={"en": "Thank you {customer.first_name}!", "th": "ขอบคุณค่ะ"})


def _seed(session: Session) -> None:
    admin = scope_of(session, "ada")
    canned_service.put(session, admin, "svc", THANKS.model_copy(update={"departments": ["service"]}))
    canned_service.put(session, admin, "hr-only", THANKS.model_copy(update={"departments": ["hr"]}))


def _attempt(session: Session, scope: Scope, action: str) -> None:
    if action == "list":
        canned_service.page(session, scope)
    elif action == "create mine":
        canned_service.put(session, scope, "new-one", THANKS.model_copy(update={"departments": ["service"]}))
    elif action == "create for everyone":
        canned_service.put(session, scope, "new-one", THANKS)
    elif action == "edit mine":
        canned_service.put(session, scope, "svc", THANKS.model_copy(update={"departments": ["service"]}))
    elif action == "edit other":
        canned_service.put(session, scope, "hr-only", THANKS.model_copy(update={"departments": ["hr"]}))
    else:
        canned_service.delete(session, scope, "svc")


def test_the_service_enforces_the_matrix(container: Container) -> None:
    for who, make_scope in SCOPES.items():
        for action in ACTIONS:
            with container.sessions() as session:
                _seed(session)
                try:
                    _attempt(session, make_scope(session), action)
                    done = True
                except Forbidden:
                    done = False
                assert done is (action in ALLOWED[who]), (who, action)
                session.rollback()


def test_reads_are_scoped_to_what_a_person_is_offered(container: Container) -> None:
    with container.sessions() as session:
        _seed(session)
        sam = scope_of(session, "sam")
        keys = [r.key for r in canned_service.page(session, sam).rows]
        assert keys == ["refund", "svc"]  # refund is for everyone; hr-only is HR's
        try:
            canned_service.get(session, sam, "hr-only")
            raise AssertionError("HR's reply shown to Sam")
        except NotFound:
            pass
        admin_keys = [r.key for r in canned_service.page(session, scope_of(session, "ada")).rows]
        assert admin_keys == ["hr-only", "refund", "svc"]
        assert [r.key for r in canned_service.page(session, sam, search="SV").rows] == ["svc"]
        session.rollback()


def test_a_macros_actions_are_kept_and_the_change_audited_and_exported(container: Container) -> None:
    with transaction(container.sessions) as session:
        row = session.scalars(select(CannedResponse).where(CannedResponse.key == "refund")).one()
        row.actions = {"status": "resolved", "tags": ["refund"]}
    with transaction(container.sessions) as session:
        canned_service.put(
            session,
            scope_of(session, "ada"),
            "refund",
            CannedIn(
                title="Refund sent",
                texts={"en": "Hi {customer.first_name}, it is sent.", "he": "שלום, נשלח."},
            ),
            via="web",
        )
    with container.sessions() as session:
        exported = export_config(session, "testco")
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.kind == "canned_response", AuditEntry.via == "web")
        ).one()
        assert entry.action == "updated" and entry.actor_name == "Ada Admin"
    refund = next(r for r in exported["canned_responses"] if r["key"] == "refund")
    assert refund["texts"] == {"en": "Hi {customer.first_name}, it is sent.", "he": "שלום, נשלח."}
    assert refund["actions"] == {"status": "resolved", "tags": ["refund"]}


def test_bad_input_names_the_field(container: Container) -> None:
    with container.sessions() as session:
        admin = scope_of(session, "ada")
        for key, body, field in [
            ("Bad Key", THANKS, "key"),
            ("ok", THANKS.model_copy(update={"texts": {"en": " "}}), "texts"),
            ("ok", THANKS.model_copy(update={"texts": {"en": "Hi {customer.age}"}}), "texts.en"),
            ("ok", THANKS.model_copy(update={"departments": ["nope"]}), "departments"),
        ]:
            try:
                canned_service.put(session, admin, key, body)
                raise AssertionError(field)
            except Refused as exc:
                assert exc.extra["field"] == field
