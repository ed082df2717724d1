"""People through the service on a real database (SQLite and PostgreSQL): the permission matrix
role x action x in/out of the manager's team, invites and their one-time link, the guards against
locking the organisation out, API tokens, the audit, and `config export` giving the page's
changes back."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from relaydesk.auth import welcome
from relaydesk.auth.scopes import Scope
from relaydesk.auth.service import scope_for
from relaydesk.config.service import export_config
from relaydesk.container import Container
from relaydesk.core.errors import Conflict, Forbidden, NotFound, Refused
from relaydesk.db import transaction
from relaydesk.models import ApiToken, AuditEntry, Organization, User
from relaydesk.orgs.people_repository import PeopleQuery
from relaydesk.orgs.people_schemas import PersonIn, PersonOut, PersonPatch
from relaydesk.orgs.people_service import people_service


def scope_of(container: Container, email: str) -> Scope:
    with container.sessions() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        return scope_for(session, user)


def user_id(container: Container, handle: str) -> int:
    with container.sessions() as session:
        return int(session.scalars(select(User.id).where(User.handle == handle)).one())


def update(container: Container, who: str, handle: str, **patch: Any) -> PersonOut:
    scope, whom = scope_of(container, who), user_id(container, handle)
    with transaction(container.sessions) as session:
        return people_service.update(session, scope, whom, PersonPatch(**patch), via="web")


def invite(container: Container, who: str, **values: Any) -> Any:
    body = PersonIn(**{"email": "new@test.example", "name": "New Person", **values})
    scope = scope_of(container, who)
    with transaction(container.sessions) as session:
        return people_service.invite(session, scope, body, via="web")


ADMIN, PETRA, NORA, SAM = "admin@test.example", "petra@test.example", "nora@test.example", "sam@test.example"
SHIFT = {"days": ["mon", "tue"], "start": "09:00", "end": "17:00"}

# who acts, on whom, the change -> allowed. Petra manages PR (whole organisation); Nora manages
# service and sales but only in the North region; Sam is an agent of service with no location.
MATRIX: list[tuple[str, str, dict[str, Any], bool]] = [
    (ADMIN, "sam", {"max_concurrent": 5}, True),
    (ADMIN, "sam", {"name": "Samuel"}, True),
    (ADMIN, "nora", {"role": "agent"}, True),
    (ADMIN, "sam", {"role": "owner"}, False),  # only an owner makes owners
    (ADMIN, "ada", {"active": False}, False),  # not yourself
    (ADMIN, "ada", {"role": "agent"}, False),
    (PETRA, "sam", {"max_concurrent": 5}, False),  # another department
    (PETRA, "nora", {"max_concurrent": 5}, False),
    (NORA, "sam", {"max_concurrent": 5}, False),  # in her department, not inside her region
    (SAM, "sam", {"max_concurrent": 5}, False),  # agents read their own page
    (SAM, "sia", {"max_concurrent": 5}, False),
    ("vic@test.example", "vic", {"languages": ["en"]}, True),  # unchanged values are no change
]


@pytest.mark.parametrize(("who", "whom", "patch", "allowed"), MATRIX)
def test_who_may_change_whom(
    container: Container, who: str, whom: str, patch: dict[str, Any], allowed: bool
) -> None:
    if allowed:
        update(container, who, whom, **patch)
    else:
        with pytest.raises(Forbidden):
            update(container, who, whom, **patch)


def test_a_manager_looks_after_the_agents_of_her_department(container: Container) -> None:
    invited = invite(container, ADMIN, email="pia@test.example", name="Pia PR", departments=["pr"])
    assert invited.welcome_path.startswith("/welcome/rw_")
    person = update(
        container, PETRA, "pia", shifts=[SHIFT], time_off=["2026-12-24"], max_concurrent=3, skills=["press"]
    )
    assert person.shifts == [SHIFT] and person.time_off == ["2026-12-24"] and person.max_concurrent == 3
    assert "shifts" in person.editable and "name" not in person.editable
    with pytest.raises(Forbidden, match="does not change name"):
        update(container, PETRA, "pia", name="Pia P.")
    with pytest.raises(Forbidden, match="agent or viewer"):
        update(container, PETRA, "pia", role="manager")
    with pytest.raises(Forbidden, match="own departments"):
        update(container, PETRA, "pia", departments=["pr", "service"])
    update(container, PETRA, "pia", role="viewer")
    update(container, PETRA, "pia", active=False)
    # Her list holds her team only, and another department's agent does not open.
    scope, sam = scope_of(container, PETRA), user_id(container, "sam")
    with container.sessions() as session:
        listed = people_service.page(session, scope, PeopleQuery())
        assert {p.handle for p in listed.people} == {"pia", "petra"}
        with pytest.raises(Forbidden):
            people_service.get(session, scope, sam)
        with pytest.raises(NotFound):
            people_service.get(session, scope, 99999)


def test_a_manager_invites_into_her_departments_only(container: Container) -> None:
    with pytest.raises(Forbidden, match="own departments"):
        invite(container, PETRA, departments=["service"])
    with pytest.raises(Forbidden, match="agent or viewer"):
        invite(container, PETRA, departments=["pr"], role="manager")
    with pytest.raises(Forbidden, match="agency"):
        invite(container, PETRA, departments=["pr"], agency="outco")
    # A manager of a region keeps her people inside it.
    with pytest.raises(Forbidden):
        invite(container, NORA, departments=["sales"])
    done = invite(container, NORA, departments=["sales"], location="north-shop")
    assert done.person.location == "north-shop"
    with pytest.raises(Forbidden):
        invite(container, SAM, departments=["service"])


def test_bad_values_are_refused_by_field_and_row(container: Container) -> None:
    with pytest.raises(Refused) as caught:
        update(
            container,
            ADMIN,
            "sam",
            shifts=[SHIFT, {"days": ["mon"], "start": "25:00", "end": "17:00"}],
            time_off=["2026-13-01"],
            timezone="Mars/Olympus",
            languages=["english!"],
        )
    errors = {e["field"]: e["message"] for e in caught.value.extra["errors"]}
    assert set(errors) == {"shifts.2", "time_off", "timezone", "languages"}
    assert "25:00" in errors["shifts.2"]
    with pytest.raises(Conflict):
        update(container, ADMIN, "sam", email="SIA@test.example")
    with pytest.raises(Refused, match="no department"):
        update(container, ADMIN, "sam", departments=["nowhere"])
    assert people_page_total(container, "sam") == 1  # nothing half-saved


def people_page_total(container: Container, search: str) -> int:
    scope = scope_of(container, ADMIN)
    with container.sessions() as session:
        return people_service.page(session, scope, PeopleQuery(search=search)).total


def test_the_last_owner_stays(container: Container) -> None:
    update(container, ADMIN, "hank", role="admin")
    with transaction(container.sessions) as session:
        owner = session.scalars(select(User).where(User.handle == "ada")).one()
        owner.role = "owner"
    update(container, ADMIN, "sam", role="owner")  # an owner makes an owner
    update(container, ADMIN, "sam", role="agent")  # and unmakes one while another is left
    with pytest.raises(Forbidden, match="own role"):
        update(container, ADMIN, "ada", role="admin")
    with pytest.raises(Forbidden, match="only an owner"):
        update(container, "hank@test.example", "ada", active=False)


def test_search_filters_and_paging(container: Container) -> None:
    scope = scope_of(container, ADMIN)
    with container.sessions() as session:
        everyone = people_service.page(session, scope, PeopleQuery())
        assert everyone.total == 9 and everyone.people[0].name == "Ada Admin"
        assert people_service.page(session, scope, PeopleQuery(search="SAL")).total == 1
        assert people_service.page(session, scope, PeopleQuery(search="outco.example")).total == 1
        assert people_service.page(session, scope, PeopleQuery(search="100%")).total == 0
        assert people_service.page(session, scope, PeopleQuery(role="manager")).total == 2
        service = people_service.choices(session, scope).departments
        service_id = next(i for i, key, _ in service if key == "service")
        in_service = people_service.page(session, scope, PeopleQuery(department_id=service_id))
        assert {p.handle for p in in_service.people} == {"sam", "sia", "vic", "nora"}
    update(container, ADMIN, "hank", active=False)
    with container.sessions() as session:
        assert people_service.page(session, scope, PeopleQuery(active=False)).total == 1


def test_an_invite_link_sets_a_password_once(container: Container) -> None:
    done = invite(container, ADMIN, departments=["service"])
    token = done.welcome_path.removeprefix("/welcome/")
    assert welcome.check(container.sessions, token).state == welcome.LinkState.OK
    with pytest.raises(Refused):
        welcome.redeem(container.sessions, token, "short")
    state, email = welcome.redeem(container.sessions, token, "a long enough password")
    assert state == welcome.LinkState.OK and email == "new@test.example"
    assert welcome.redeem(container.sessions, token, "a long enough password")[0] == welcome.LinkState.USED
    assert welcome.check(container.sessions, "rw_nonsense").state == welcome.LinkState.UNKNOWN
    # A new link retires the old one; a deactivated person's link does nothing.
    new_id, admin = user_id(container, "new"), scope_of(container, ADMIN)
    with transaction(container.sessions) as session:
        first = people_service.new_welcome_link(session, admin, new_id)
    with transaction(container.sessions) as session:
        second = people_service.new_welcome_link(session, admin, new_id)
    assert welcome.check(container.sessions, first.welcome_path[9:]).state == welcome.LinkState.USED
    update(container, ADMIN, "new", active=False)
    assert welcome.check(container.sessions, second.welcome_path[9:]).state == welcome.LinkState.INACTIVE


def test_tokens_each_their_own_and_admins_revoke_any(container: Container) -> None:
    sam = user_id(container, "sam")
    own, admin = scope_of(container, SAM), scope_of(container, ADMIN)
    sia, nora = scope_of(container, "sia@test.example"), scope_of(container, NORA)
    with transaction(container.sessions) as session:
        info, secret = people_service.mint_token(session, own, sam, "laptop", 30, via="web")
    assert secret.startswith("rd_") and info.prefix == secret[:7]
    with transaction(container.sessions) as session, pytest.raises(Forbidden):
        people_service.mint_token(session, admin, sam, "for sam", 30)
    with container.sessions() as session:
        with pytest.raises(Forbidden):
            people_service.tokens(session, sia, sam)
        with pytest.raises(Forbidden):
            people_service.tokens(session, nora, sam)
        assert [t.name for t in people_service.tokens(session, admin, sam)] == ["laptop"]
    with transaction(container.sessions) as session:
        people_service.revoke_token(session, admin, sam, info.id, via="web")
    with container.sessions() as session:
        assert session.get(ApiToken, info.id).revoked  # type: ignore[union-attr]
        kinds = [e.action for e in session.scalars(select(AuditEntry).where(AuditEntry.kind == "api_token"))]
        assert kinds == ["created", "updated"]
        created = session.scalars(select(AuditEntry).where(AuditEntry.kind == "api_token")).first()
        assert created is not None and created.after is not None
        assert created.after["token_hash"] == "(secret)" and secret not in str(created.after)


def test_changes_are_audited_and_exported(container: Container) -> None:
    update(
        container,
        ADMIN,
        "sam",
        shifts=[SHIFT],
        time_off=["2026-12-24"],
        max_concurrent=4,
        departments=["sales"],
    )
    with container.sessions() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.kind.in_(["person", "membership"]), AuditEntry.via == "web")
        ).all()
        person = next(e for e in entries if e.kind == "person")
        assert person.via == "web" and person.actor_name == "Ada Admin"
        assert person.before == {"max_concurrent": 2, "shifts": []}
        assert person.after is not None and person.after["max_concurrent"] == 4
        assert {(e.action, e.key) for e in entries if e.kind == "membership"} == {
            ("created", "sam → sales"),
            ("deleted", "sam → service"),
        }
        org = session.scalars(select(Organization)).one()
        exported = export_config(session, org.key)
    sam = next(a for a in exported["agents"] if a["handle"] == "sam")
    assert sam["shifts"] == [SHIFT] and sam["time_off"] == ["2026-12-24"]
    assert sam["max_concurrent"] == 4 and sam["departments"] == ["sales"]
