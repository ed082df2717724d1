"""Listening queries through the service: who may do what (role x action x inside/outside her part
of the organisation), the try box deciding as the poller does, paused queries, the audit, and the
list's counts. SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from relaydesk.auth.scopes import Scope
from relaydesk.auth.service import scope_for
from relaydesk.container import Container
from relaydesk.core.enums import Role
from relaydesk.core.errors import Forbidden, NotFound, UserError
from relaydesk.core.timeutil import utcnow
from relaydesk.crisis.listening_access import ListeningAction
from relaydesk.crisis.query_service import query_service
from relaydesk.crisis.schemas import QueryIn
from relaydesk.db import transaction
from relaydesk.models import AuditEntry, ListeningItem, ListeningQuery, User

A = ListeningAction


def scope_of(container: Container, email: str) -> Scope:
    with container.sessions() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        return scope_for(session, user)


def scopes(container: Container) -> dict[str, Scope]:
    admin = scope_of(container, "admin@test.example")
    nora = scope_of(container, "nora@test.example")  # manager of the north region
    return {
        "owner": dataclasses.replace(admin, role=Role.OWNER),
        "admin": admin,
        "region-admin": dataclasses.replace(
            admin, location_path=nora.location_path, location_ids=nora.location_ids
        ),
        "manager": scope_of(container, "petra@test.example"),
        "region-manager": nora,
        "agent": scope_of(container, "sam@test.example"),
        "viewer": scope_of(container, "vic@test.example"),
    }


def save(container: Container, scope: Scope, name: str, location: str | None, **extra: object) -> None:
    spec = QueryIn(keywords=["saffron", "زعفران"], location=location, **extra)  # type: ignore[arg-type]
    with transaction(container.sessions) as session:
        query_service.save(session, scope, name, spec, via="web")


def _attempt(container: Container, scope: Scope, action: ListeningAction, name: str, location: str) -> None:
    with transaction(container.sessions) as session:
        if action == A.VIEW:
            query_service.get(session, scope, name)
        elif action == A.CREATE:
            query_service.save(session, scope, f"new-{location}", QueryIn(keywords=["x"], location=location))
        elif action == A.EDIT:
            query_service.save(session, scope, name, QueryIn(keywords=["changed"], location=location))
        elif action == A.SWITCH:
            query_service.set_active(session, scope, name, False)
        else:
            query_service.try_post(session, scope, name, "saffron latte", "x", "en")


WHOLE_ORG = {"owner", "admin", "manager"}
ONE_PART = {"region-admin", "region-manager"}


@pytest.mark.parametrize("who", sorted(WHOLE_ORG | ONE_PART | {"agent", "viewer"}))
@pytest.mark.parametrize("where", ["inside", "outside"])
def test_the_permission_matrix(container: Container, who: str, where: str) -> None:
    everyone = scopes(container)
    # The north region is inside the region people's part; the south is outside it.
    name, location = ("north-q", "north-shop") if where == "inside" else ("south-q", "south-shop")
    for action in ListeningAction:
        with transaction(container.sessions) as session:
            for row in session.scalars(select(ListeningQuery)):
                session.delete(row)
        save(container, everyone["admin"], name, location)
        if who in WHOLE_ORG or (who in ONE_PART and where == "inside"):
            _attempt(container, everyone[who], action, name, location)
        elif who in ONE_PART:
            # Outside her part a query does not exist for her (reads are scoped in SQL); a new
            # one cannot be put there, nor can one there be saved over.
            with pytest.raises(Forbidden if action in (A.CREATE, A.EDIT) else NotFound):
                _attempt(container, everyone[who], action, name, location)
        else:
            with pytest.raises(Forbidden):
                _attempt(container, everyone[who], action, name, location)


def test_a_region_manager_must_place_her_queries_and_cannot_take_one_over(container: Container) -> None:
    everyone = scopes(container)
    save(container, everyone["admin"], "org-wide", None)
    with pytest.raises(UserError, match="location: required"):
        save(container, everyone["region-manager"], "mine", None)
    # A query of the same name outside her part is not hers to replace.
    save(container, everyone["admin"], "south-q", "south-shop")
    with pytest.raises(Forbidden):
        save(container, everyone["region-manager"], "south-q", "north-shop")
    with container.sessions() as session:
        rows = query_service.rows(session, everyone["region-manager"])
        assert [r.query.name for r in rows] == []
        assert {key for key, _name in query_service.locations(session, everyone["region-manager"])} == {
            "north",
            "north-shop",
        }


def test_the_try_box_decides_as_the_poller_does(container: Container) -> None:
    admin = scopes(container)["admin"]
    save(container, admin, "brand", "brand", exclude=["recipe"], networks=["x"], languages=["en", "fa"])
    with container.sessions() as session:

        def tried(
            text: str, network: str = "x", lang: str | None = None
        ) -> tuple[bool, tuple[str, ...], str | None]:
            result = query_service.try_post(session, admin, "brand", text, network, lang)
            return result.matched, result.keywords, result.excluded_by

        assert tried("I love Saffron lattes", lang="en") == (True, ("saffron",), None)
        assert tried("زعفرانمان رسید", lang="fa") == (True, ("زعفران",), None)
        assert tried("saffron recipe please", lang="en") == (False, ("saffron",), "recipe")
        assert tried("nothing here", lang="en") == (False, (), None)
        on_instagram = query_service.try_post(session, admin, "brand", "saffron", "instagram", "en")
        assert not on_instagram.matched and not on_instagram.network_ok
        in_thai = query_service.try_post(session, admin, "brand", "saffron", "x", "th")
        assert not in_thai.matched and not in_thai.language_ok and in_thai.keywords == ("saffron",)
        with pytest.raises(NotFound):
            query_service.try_post(session, admin, "nope", "saffron", "x", None)


def test_pause_resume_counts_and_the_audit(container: Container) -> None:
    admin = scopes(container)["admin"]
    save(container, admin, "brand", "brand")
    with transaction(container.sessions) as session:
        query = session.scalars(select(ListeningQuery).where(ListeningQuery.name == "brand")).one()
        for n in range(3):
            session.add(
                ListeningItem(
                    org_id=query.org_id,
                    query_id=query.id,
                    network="x",
                    external_id=str(n),
                    author_id="a",
                    text="saffron",
                )
            )
    with transaction(container.sessions) as session:
        paused = query_service.set_active(session, admin, "brand", False, via="web")
    assert paused.active is False
    with container.sessions() as session:
        row = query_service.get(session, admin, "brand")
        assert (row.items, row.query.active) == (3, False) and row.last_found is not None
        assert row.last_found <= utcnow() and row.location_name == "Test Brand"
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.kind == "listening_query").order_by(AuditEntry.id)
        ).all()
    assert [(e.action, e.key, e.via) for e in entries] == [
        ("created", "brand", "web"),
        ("updated", "brand", "web"),
    ]
    assert entries[1].before == {"active": True} and entries[1].after == {"active": False}
