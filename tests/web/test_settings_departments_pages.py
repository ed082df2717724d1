"""The departments page without JavaScript: list with people counts, create, edit, the default,
a delete refused with its reasons, agencies shown, managers read only."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.models import AuditEntry, Department
from tests.web.test_pages import browser_login, csrf_of

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def department(container: Container, key: str) -> Department | None:
    with container.sessions() as session:
        return session.scalars(select(Department).where(Department.key == key)).first()


def test_an_admin_lists_creates_edits_and_deletes_departments(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "admin@test.example")
    listing = app_client.get("/settings/departments")
    assert listing.status_code == 200
    row = listing.text.split('data-department="service"')[1].split("</tr>")[0]
    assert "default" in row and ">4<" in row  # sam, sia, vic and nora
    assert "OutCo Social" in listing.text and 'data-agency="outco"' in listing.text
    assert "first response (minutes)" in listing.text  # the contract's terms, in words
    csrf = csrf_of(listing.text)
    bad = app_client.post("/settings/departments", data={"csrf": csrf, "key": "Bad Key", "name": "Returns"})
    assert bad.status_code == 422 and 'value="Returns"' in bad.text and "problem-key" in bad.text
    made = app_client.post(
        "/settings/departments",
        data={
            "csrf": csrf,
            "key": "returns",
            "name": "Returns",
            "assignment": "round_robin",
            "agency": "outco",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303 and made.headers["location"] == "/settings/departments/returns"
    stored = department(container, "returns")
    assert stored is not None and stored.assignment == "round_robin" and stored.agency_id is not None
    # Made the default: it takes it from service.
    app_client.post(
        "/settings/departments/returns",
        data={"csrf": csrf, "name": "Returns desk", "assignment": "manual", "default": "1"},
    )
    returns, service = department(container, "returns"), department(container, "service")
    assert returns is not None and returns.is_default and returns.name == "Returns desk"
    assert returns.agency_id is None  # back in-house
    assert service is not None and not service.is_default
    keep = app_client.post("/settings/departments/returns", data={"csrf": csrf, "name": "Returns desk"})
    assert keep.status_code == 422 and "must be the default" in keep.text
    refused = app_client.post("/settings/departments/sales/delete", data={"csrf": csrf})
    assert refused.status_code == 422 and "It cannot be deleted" in refused.text
    assert "2 people" in refused.text and "1 routing rule" in refused.text
    assert department(container, "sales") is not None
    default = app_client.post("/settings/departments/returns/delete", data={"csrf": csrf})
    assert default.status_code == 422 and "default department cannot be deleted" in default.text
    app_client.post(
        "/settings/departments/service", data={"csrf": csrf, "name": "Customer service", "default": "1"}
    )
    gone = app_client.post(
        "/settings/departments/returns/delete", data={"csrf": csrf}, follow_redirects=False
    )
    assert gone.status_code == 303 and department(container, "returns") is None
    with container.sessions() as session:
        actions = [
            e.action for e in session.scalars(select(AuditEntry).where(AuditEntry.kind == "department"))
        ]
    assert {"created", "updated", "deleted"} <= set(actions)


def test_a_manager_reads_departments_but_changes_nothing(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "nora@test.example")
    listing = app_client.get("/settings/departments")
    assert listing.status_code == 200 and "Add a department" not in listing.text
    page = app_client.get("/settings/departments/sales")
    assert page.status_code == 200 and 'name="name"' not in page.text
    csrf = csrf_of(page.text)
    refused = app_client.post("/settings/departments/sales", data={"csrf": csrf, "name": "Mine"})
    assert refused.status_code == 403
    assert (
        app_client.post("/settings/departments", data={"csrf": csrf, "key": "x", "name": "X"}).status_code
        == 403
    )
    sales = department(container, "sales")
    assert sales is not None and sales.name == "Sales"
