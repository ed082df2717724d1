"""The organisation tree through its services, on SQLite and PostgreSQL: the permission matrix
(role x action x in/out of the caller's subtree), one-statement bulk changes with their single
audit entry and configuration stamp, and refusals that leave everything as it was."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from relaydesk.auth.scopes import Scope
from relaydesk.auth.service import scope_for
from relaydesk.container import Container
from relaydesk.core.errors import Forbidden, NotFound, Refused
from relaydesk.db import transaction
from relaydesk.models import AuditEntry, BusinessHours, Location, Organization, User
from relaydesk.orgs.location_bulk import BulkTarget, location_bulk
from relaydesk.orgs.location_service import location_service

WEEK = {"mon": [["09:00", "17:00"]]}
ADMIN, NORA, PETRA, SAM, VIC = (
    "admin@test.example",
    "nora@test.example",  # manager of the north region
    "petra@test.example",  # manager of the whole organisation
    "sam@test.example",
    "vic@test.example",
)


def scope_of(container: Container, email: str) -> Scope:
    with container.sessions() as session:
        return scope_for(session, session.scalars(select(User).where(User.email == email)).one())


@pytest.fixture
def kiosks(container: Container) -> None:
    """An empty place in each region, each with a schedule of its own."""
    admin = scope_of(container, ADMIN)
    with transaction(container.sessions) as session:
        for region in ("north", "south"):
            location_service.add(session, admin, region, "location", f"{region}-kiosk", "Kiosk")
            location_service.new_schedule(session, admin, f"{region}-kiosk", f"{region}-hours", "H", WEEK, [])


def _actions() -> dict[str, Callable[[Session, Scope, str], Any]]:
    region = {"north-kiosk": "north", "south-kiosk": "south"}
    return {
        "view": lambda s, scope, key: location_service.detail(s, scope, key),
        "rename": lambda s, scope, key: location_service.rename(s, scope, key, "Renamed"),
        "hours": lambda s, scope, key: location_service.set_hours(s, scope, key, timezone="Asia/Tokyo"),
        "add": lambda s, scope, key: location_service.add(s, scope, key, "location", f"{key}-new", "New"),
        "delete": lambda s, scope, key: location_service.delete(s, scope, key),
        "bulk": lambda s, scope, key: location_bulk.apply(
            s, scope, BulkTarget(under=region[key]), None, "Asia/Tokyo"
        ),
        "new_schedule": lambda s, scope, key: location_service.new_schedule(
            s, scope, key, f"{key}-own", "Own", WEEK, []
        ),
        "edit_schedule": lambda s, scope, key: location_service.edit_schedule(
            s, scope, f"{region[key]}-hours", "Changed", WEEK, ["2026-12-25"]
        ),
    }


EVERYTHING = set(_actions())
MANAGING = {"view", "rename", "hours", "bulk", "new_schedule", "edit_schedule"}
ALLOWED: dict[str, tuple[set[str], set[str]]] = {  # email -> (inside her part, outside it)
    ADMIN: (EVERYTHING, EVERYTHING),
    PETRA: (MANAGING, MANAGING),
    NORA: (MANAGING, set()),
    SAM: (set(), set()),
    VIC: (set(), set()),
}


@pytest.mark.parametrize("email", list(ALLOWED))
@pytest.mark.parametrize("action", sorted(EVERYTHING))
@pytest.mark.parametrize("key", ["north-kiosk", "south-kiosk"])
@pytest.mark.usefixtures("kiosks")
def test_the_permission_matrix(container: Container, email: str, action: str, key: str) -> None:
    scope = scope_of(container, email)
    inside, outside = ALLOWED[email]
    allowed = action in (inside if key == "north-kiosk" else outside)
    with container.sessions() as session:
        entries_before = session.scalar(select(func.count(AuditEntry.id)))
    try:
        with transaction(container.sessions) as session:
            _actions()[action](session, scope, key)
        done = True
    except (Forbidden, NotFound):
        done = False
    assert done is allowed, (email, action, key)
    with container.sessions() as session:
        entries_after = session.scalar(select(func.count(AuditEntry.id)))
    if not done or action == "view":
        assert entries_after == entries_before  # a refusal changes nothing, not even the log
    else:
        assert entries_after > entries_before  # every change is in the audit log


def test_bulk_is_one_statement_one_audit_entry_and_a_new_stamp(container: Container) -> None:
    admin = scope_of(container, ADMIN)
    with container.sessions() as session:
        stamp = session.scalars(select(Organization.config_version)).one()
    with transaction(container.sessions) as session:
        preview = location_bulk.preview(session, admin, BulkTarget(under="brand"), "always", "Asia/Dubai")
    assert preview.matched == 5 and preview.changing == 5
    assert preview.before["timezone"] == {"UTC": 3, "Asia/Tehran": 1, "Asia/Bangkok": 1}
    assert preview.before["business_hours"] == {"(none)": 5}
    with transaction(container.sessions) as session:
        changed = location_bulk.apply(session, admin, BulkTarget(under="brand"), "always", "Asia/Dubai")
    assert changed == 5
    with container.sessions() as session:
        zones = set(session.scalars(select(Location.timezone)))
        always = session.scalars(select(BusinessHours.id).where(BusinessHours.key == "always")).one()
        hours = set(session.scalars(select(Location.business_hours_id)))
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.kind == "location", AuditEntry.via == "api")
        ).all()
        assert session.scalars(select(Organization.config_version)).one() != stamp
    assert zones == {"Asia/Dubai"} and hours == {always}
    assert len(entries) == 1 and entries[0].via == "api" and entries[0].actor_name == "Ada Admin"
    assert entries[0].after == {
        "business_hours": "Around the clock",
        "timezone": "Asia/Dubai",
        "places": entries[0].after["places"],
    }
    with transaction(container.sessions) as session:  # again: nothing differs, nothing is written
        assert location_bulk.apply(session, admin, BulkTarget(under="brand"), "always", "Asia/Dubai") == 0


def test_bad_values_are_refused_by_field(container: Container) -> None:
    admin = scope_of(container, ADMIN)
    cases: list[tuple[Callable[[Session], Any], str]] = [
        (lambda s: location_service.set_hours(s, admin, "north", timezone="Mars/Base"), "timezone"),
        (lambda s: location_service.set_hours(s, admin, "north", schedule="nope"), "business_hours"),
        (lambda s: location_service.rename(s, admin, "north", ""), "name"),
        (lambda s: location_service.add(s, admin, "north-shop", "region", "r2", "R"), "kind"),
        (lambda s: location_service.add(s, admin, "north", "location", "Bad Key", "R"), "key"),
        (lambda s: location_service.add(s, admin, None, "region", "r3", "R"), "kind"),
        (lambda s: location_service.new_schedule(s, admin, "north", "always", "A", WEEK, []), "key"),
        (
            lambda s: location_service.new_schedule(s, admin, "north", "x", "X", {"mon": [["9", "5"]]}, []),
            "weekly",
        ),
        (lambda s: location_service.delete(s, admin, "north"), "delete"),
        (lambda s: location_bulk.apply(s, admin, BulkTarget(under="north"), None, None), "business_hours"),
    ]
    for change, field in cases:
        with pytest.raises(Refused) as caught, transaction(container.sessions) as session:
            change(session)
        assert caught.value.extra.get("field") == field, (field, str(caught.value))
    with container.sessions() as session:
        assert session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.via == "api")) == 0


def test_search_is_scoped_and_paged(container: Container) -> None:
    admin, nora = scope_of(container, ADMIN), scope_of(container, NORA)
    with transaction(container.sessions) as session:
        for i in range(60):
            location_service.add(session, admin, "south", "location", f"stall-{i:02d}", f"Stall {i:02d}")
    with container.sessions() as session:
        first = location_service.search(session, admin, "stall")
        last = location_service.search(session, admin, "stall", page=9)
        hers = location_service.search(session, nora, "stall")
    assert first.total == 60 and len(first.places) == 50 and first.pages == 2
    assert last.page == 2 and len(last.places) == 10
    assert [c.key for c in first.places[0].path] == ["brand", "south"]
    assert first.places[0].hours is None and first.places[0].timezone_inherited
    assert hers.total == 0
