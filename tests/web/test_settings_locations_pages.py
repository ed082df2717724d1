"""The organisation tree pages without JavaScript: the lazy tree, search, one place, bulk hours,
add and delete, a region manager's limits, and what `config export` gives back."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.config.service import export_config
from relaydesk.container import Container
from relaydesk.models import AuditEntry, BusinessHours, Location, Organization
from tests.orgconfig import apply_variant
from tests.web.test_pages import browser_login, csrf_of

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

WEEKDAYS = {f"day_{d}": "09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture(autouse=True)
def brand_hours(container: Container) -> None:
    """The fixture organisation with its brand open around the clock, inherited by every place."""
    apply_variant(container, lambda config: config["locations"][0].update(business_hours="always"))


def place(container: Container, key: str) -> Location:
    with container.sessions() as session:
        return session.scalars(select(Location).where(Location.key == key)).one()


def schedule(container: Container, key: str) -> BusinessHours | None:
    with container.sessions() as session:
        return session.scalars(select(BusinessHours).where(BusinessHours.key == key)).first()


def exported(container: Container) -> dict:
    with container.sessions() as session:
        org = session.scalars(select(Organization)).one()
        return export_config(session, org.key)


def test_the_tree_opens_one_level_at_a_time_and_search_shows_the_way_down(app_client: TestClient) -> None:
    browser_login(app_client, "admin@test.example")
    hub = app_client.get("/settings")
    assert 'href="/settings/locations"' in hub.text and 'href="/settings/departments"' in hub.text
    top = app_client.get("/settings/locations")
    assert top.status_code == 200
    assert 'data-place="brand"' in top.text and 'data-place="north"' not in top.text
    assert "Around the clock" in top.text and "2 places under it" in top.text
    opened = app_client.get("/settings/locations", params={"open": "brand"})
    assert 'data-place="north"' in opened.text and 'data-place="north-shop"' not in opened.text
    deeper = app_client.get("/settings/locations", params={"open": "brand,north"})
    assert 'data-place="north-shop"' in deeper.text and "(inherited)" in deeper.text
    found = app_client.get("/settings/locations", params={"q": "SHOP"})
    assert "2 places match" in found.text
    assert 'href="/settings/locations/north"' in found.text  # the way down, as links
    assert 'data-place="brand"' not in found.text
    nothing = app_client.get("/settings/locations", params={"q": "%"})
    assert "0 places match" in nothing.text  # a LIKE wildcard is a character, not "anything"


def test_an_admin_edits_a_place_and_the_file_gives_it_back(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "admin@test.example")
    page = app_client.get("/settings/locations/north-shop")
    assert page.status_code == 200 and "Asia/Tehran" in page.text and "Used by" in page.text
    csrf = csrf_of(page.text)
    bad = app_client.post(
        "/settings/locations/north-shop/hours", data={"csrf": csrf, "timezone": "Asia/Tehrn", "schedule": ""}
    )
    assert bad.status_code == 422 and "did you mean" in bad.text and 'value="Asia/Tehrn"' in bad.text
    assert place(container, "north-shop").timezone == "Asia/Tehran"  # nothing saved
    renamed = app_client.post(
        "/settings/locations/north-shop/name",
        data={"csrf": csrf, "name": "شعبه شمال"},
        follow_redirects=False,
    )
    assert renamed.status_code == 303
    # A new schedule from the form, only for this place.
    bad_hours = app_client.post(
        "/settings/locations/north-shop/schedule",
        data={"csrf": csrf, "mode": "new", "new_key": "tehran", "new_name": "Tehran", "day_mon": "9-5"},
    )
    assert (
        bad_hours.status_code == 422
        and 'value="9-5"' in bad_hours.text
        and 'id="problem-day_mon"' in bad_hours.text
    )
    made = app_client.post(
        "/settings/locations/north-shop/schedule",
        data={
            "csrf": csrf,
            "mode": "new",
            "new_key": "tehran",
            "new_name": "Tehran hours",
            **WEEKDAYS,
            "day_sat": "10:00-14:00",
            "holidays": "2026-03-21\n2026-03-20",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    shop = place(container, "north-shop")
    created = schedule(container, "tehran")
    assert created is not None and shop.business_hours_id == created.id and shop.name == "شعبه شمال"
    assert created.holidays == ["2026-03-20", "2026-03-21"] and created.weekly["sat"] == [["10:00", "14:00"]]
    shown = app_client.get("/settings/locations/north-shop")
    assert "Tehran hours" in shown.text and "2026-03-21" in shown.text and "1 place" in shown.text
    config = exported(container)
    assert {"key": "tehran", "name": "Tehran hours"}.items() <= next(
        h for h in config["business_hours"] if h["key"] == "tehran"
    ).items()
    north = config["locations"][0]["children"][0]
    assert north["children"][0]["business_hours"] == "tehran"
    assert north["children"][0]["name"] == "شعبه شمال"
    with container.sessions() as session:
        kinds = {(e.kind, e.action, e.via) for e in session.scalars(select(AuditEntry))}
    assert ("business_hours", "created", "web") in kinds and ("location", "updated", "web") in kinds


def test_bulk_hours_confirm_first_then_one_change_with_one_audit_entry(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "admin@test.example")
    page = app_client.get("/settings/locations/north-shop")
    csrf = csrf_of(page.text)
    app_client.post(
        "/settings/locations/north-shop/schedule",
        data={"csrf": csrf, "mode": "new", "new_key": "weekdays", "new_name": "Weekdays", **WEEKDAYS},
    )
    asked = app_client.post(
        "/settings/locations/bulk",
        data={"csrf": csrf, "target": "under", "under": "brand", "schedule": "weekdays", "timezone": ""},
    )
    assert asked.status_code == 200 and "4 places will change" in asked.text
    assert (
        place(container, "south-shop").business_hours_id != place(container, "north-shop").business_hours_id
    )
    done = app_client.post(
        "/settings/locations/bulk",
        data={"csrf": csrf, "target": "under", "under": "brand", "schedule": "weekdays", "confirm": "1"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/settings/locations/brand"
    assert (
        place(container, "south-shop").business_hours_id == place(container, "north-shop").business_hours_id
    )
    with container.sessions() as session:
        bulk = session.scalars(select(AuditEntry).where(AuditEntry.key.contains("places"))).all()
    assert len(bulk) == 1 and bulk[0].after is not None and bulk[0].after["business_hours"] == "Weekdays"
    assert bulk[0].before is not None and "Around the clock ×4" in bulk[0].before["business_hours"]
    # Everything under the brand inherits it now: the file names it once, on the brand.
    config = exported(container)
    assert config["locations"][0]["business_hours"] == "weekdays"
    assert "business_hours" not in config["locations"][0]["children"][0]
    audit = app_client.get("/settings/audit", params={"kind": "location"})
    assert "Test Brand (brand): 4 places" in audit.text and "Weekdays" in audit.text

    # Chosen search results: only the ticked one.
    found = app_client.get("/settings/locations", params={"q": "shop"})
    assert 'name="keys" value="south-shop"' in found.text
    asked = app_client.post(
        "/settings/locations/bulk",
        data={
            "csrf": csrf,
            "target": "chosen",
            "keys": ["south-shop"],
            "q": "shop",
            "timezone": "Asia/Tokyo",
        },
    )
    assert "1 place will change" in asked.text
    app_client.post(
        "/settings/locations/bulk",
        data={
            "csrf": csrf,
            "target": "chosen",
            "keys": ["south-shop"],
            "timezone": "Asia/Tokyo",
            "confirm": "1",
        },
    )
    assert place(container, "south-shop").timezone == "Asia/Tokyo"
    assert place(container, "north-shop").timezone == "Asia/Tehran"


def test_add_and_delete_a_place_and_a_place_in_use_says_why_not(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "admin@test.example")
    csrf = csrf_of(app_client.get("/settings/locations/north").text)
    taken = app_client.post(
        "/settings/locations/north/add",
        data={"csrf": csrf, "add_kind": "location", "add_key": "south-shop", "add_name": "Again"},
    )
    assert taken.status_code == 422 and "exists already" in taken.text and 'value="Again"' in taken.text
    added = app_client.post(
        "/settings/locations/north/add",
        data={"csrf": csrf, "add_kind": "location", "add_key": "north-kiosk", "add_name": "Kiosk"},
        follow_redirects=False,
    )
    assert added.status_code == 303 and added.headers["location"] == "/settings/locations/north-kiosk"
    kiosk, north = place(container, "north-kiosk"), place(container, "north")
    assert kiosk.path == f"{north.path}{kiosk.id}/" and kiosk.business_hours_id == north.business_hours_id
    in_use = app_client.post("/settings/locations/north-shop/delete", data={"csrf": csrf})
    assert in_use.status_code == 422
    assert "It cannot be deleted" in in_use.text and "2 channel accounts" in in_use.text
    gone = app_client.post(
        "/settings/locations/north-kiosk/delete",
        data={"csrf": csrf, "parent": "north"},
        follow_redirects=False,
    )
    assert gone.status_code == 303 and gone.headers["location"] == "/settings/locations/north"
    with container.sessions() as session:
        assert session.scalars(select(Location).where(Location.key == "north-kiosk")).first() is None


def test_a_region_manager_edits_her_places_and_nothing_else(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "nora@test.example")  # manager, limited to the north region
    top = app_client.get("/settings/locations")
    assert (
        top.status_code == 200 and 'data-place="north"' in top.text and 'data-place="brand"' not in top.text
    )
    assert "Add a brand" not in top.text
    assert app_client.get("/settings/locations/south-shop").status_code == 404
    assert "south" not in app_client.get("/settings/locations", params={"q": "shop"}).text.split("match")[1]
    page = app_client.get("/settings/locations/north-shop")
    csrf = csrf_of(page.text)
    assert "Add a place" not in page.text and "Delete this place" not in page.text
    # "Around the clock" is shared with the south: she saves her times as a new schedule.
    assert 'value="shared"' not in page.text and 'value="new"' in page.text
    refused = app_client.post(
        "/settings/locations/north-shop/schedule",
        data={"csrf": csrf, "mode": "shared", "schedule_key": "always", "schedule_name": "x", **WEEKDAYS},
    )
    assert refused.status_code == 403 and "outside your part" in refused.text
    mine = app_client.post(
        "/settings/locations/north-shop/schedule",
        data={"csrf": csrf, "mode": "new", "new_key": "north-hours", "new_name": "North", **WEEKDAYS},
        follow_redirects=False,
    )
    assert mine.status_code == 303
    # Now only her place uses it: she may change it, holidays too.
    page = app_client.get("/settings/locations/north-shop")
    assert 'value="shared"' in page.text
    app_client.post(
        "/settings/locations/north-shop/schedule",
        data={"csrf": csrf, "mode": "shared", "schedule_key": "north-hours", "schedule_name": "North",
              **WEEKDAYS, "holidays": "2026-12-25"},
    )  # fmt: skip
    hours = schedule(container, "north-hours")
    assert hours is not None and hours.holidays == ["2026-12-25"]
    for action, data in [
        ("south-shop/name", {"name": "Mine now"}),
        ("south-shop/hours", {"timezone": "UTC", "schedule": ""}),
        ("north/add", {"add_kind": "location", "add_key": "x-shop", "add_name": "X"}),
        ("north-shop/delete", {}),
    ]:
        answer = app_client.post(
            f"/settings/locations/{action}", data={"csrf": csrf, **data}, follow_redirects=False
        )
        assert answer.status_code in (403, 404, 303), (action, answer.status_code)
    assert place(container, "south-shop").name == "South shop"
    bulk = app_client.post(
        "/settings/locations/bulk",
        data={"csrf": csrf, "target": "under", "under": "brand", "schedule": "north-hours", "confirm": "1"},
        follow_redirects=False,
    )
    assert bulk.status_code == 303
    assert place(container, "south-shop").business_hours_id != hours.id
    with container.sessions() as session:
        assert session.scalars(select(Location).where(Location.key == "x-shop")).first() is None


def test_agents_do_not_see_the_tree(app_client: TestClient) -> None:
    browser_login(app_client, "sam@test.example")
    assert app_client.get("/settings/locations").status_code == 403
    assert app_client.get("/settings/locations/north-shop").status_code == 403
    assert app_client.get("/settings/departments").status_code == 403
