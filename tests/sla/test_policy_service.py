"""SLA policies and agency contracts on a real database: admins change them, managers read them,
the change is audited and exported as relaydesk.yaml writes it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from relaydesk.auth.scopes import Scope
from relaydesk.config.service import export_config
from relaydesk.container import Container
from relaydesk.core.enums import Role
from relaydesk.core.errors import Forbidden, Refused
from relaydesk.db import transaction
from relaydesk.models import AuditEntry
from relaydesk.sla.policy_service import policy_service
from tests.guidelines.test_faq_service import scope_of

SCOPES: dict[str, Callable[[Session], Scope]] = {
    "owner": lambda s: scope_of(s, "ada", Role.OWNER),
    "admin": lambda s: scope_of(s, "ada"),
    "manager (Petra)": lambda s: scope_of(s, "petra"),
    "agent (Sam)": lambda s: scope_of(s, "sam"),
    "viewer (Vic)": lambda s: scope_of(s, "vic"),
}
ACTIONS = ("list", "create", "edit", "delete", "contract")
ALLOWED = {
    "owner": set(ACTIONS),
    "admin": set(ACTIONS),
    "manager (Petra)": {"list"},
    "agent (Sam)": set(),
    "viewer (Vic)": set(),
}
HR: dict[str, Any] = {
    "name": "hr-slow",
    "department": "hr",
    "first_response_minutes": "240",
    "around_the_clock": False,
}


def _attempt(session: Session, scope: Scope, action: str) -> None:
    if action == "list":
        policy_service.page(session, scope)
    elif action == "create":
        policy_service.put(session, scope, HR)
    elif action == "edit":
        policy_service.put(
            session, scope, {"name": "sales-fast", "department": "sales", "first_response_minutes": 10}
        )
    elif action == "delete":
        policy_service.delete(session, scope, "sales-fast")
    else:
        policy_service.put_contract(session, scope, "outco", {"first_response_minutes": 20})


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


def test_a_policy_and_a_contract_are_audited_and_exported(container: Container) -> None:
    with transaction(container.sessions) as session:
        admin = scope_of(session, "ada")
        policy_service.put(
            session, admin, {**HR, "business_hours": "always", "warn_before_minutes": "30"}, via="web"
        )
        policy_service.put_contract(
            session,
            admin,
            "outco",
            {
                "first_response_minutes": "20",
                "intents": ["question"],
                "languages": ["th"],
                "around_the_clock": True,
            },
            via="web",
        )
    with container.sessions() as session:
        kinds = session.scalars(select(AuditEntry.kind).where(AuditEntry.via == "web")).all()
        assert sorted(kinds) == ["agency", "sla_policy"]
        exported = export_config(session, "testco")
    hr = next(p for p in exported["sla_policies"] if p["name"] == "hr-slow")
    assert hr == {
        "name": "hr-slow",
        "first_response_minutes": 240,
        "department": "hr",
        "business_hours": "always",
        "warn_before_minutes": 30,
    }
    outco = next(a for a in exported["agencies"] if a["key"] == "outco")
    assert outco["contract"]["first_response_minutes"] == 20
    assert outco["contract"]["intents"] == ["question"] and outco["contract"]["languages"] == ["th"]


def test_bad_input_names_the_field(container: Container) -> None:
    with container.sessions() as session:
        admin = scope_of(session, "ada")
        for fields, field in [
            ({"name": "x", "first_response_minutes": "0"}, "first_response_minutes"),
            ({"name": "x", "first_response_minutes": "soon"}, "first_response_minutes"),
            ({"name": "x", "first_response_minutes": 5, "department": "nope"}, "department"),
            ({"name": "x", "first_response_minutes": 5, "business_hours": "nope"}, "business_hours"),
            (
                {"name": "x", "first_response_minutes": 5, "department": "sales"},
                "name",
            ),  # sales-fast covers it
        ]:
            try:
                policy_service.put(session, admin, fields)
                raise AssertionError(fields)
            except Refused as exc:
                assert exc.extra["field"] == field
        try:
            policy_service.put_contract(session, admin, "outco", {"intents": ["nope"]})
            raise AssertionError("unknown intent")
        except Refused as exc:
            assert exc.extra["field"] == "intents"
