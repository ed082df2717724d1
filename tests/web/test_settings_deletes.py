"""The Delete buttons of the saved replies, intents and SLA policies pages, which end the same way
(web/forms.py `removed`): an agent is refused and nothing goes, an admin deletes, and a second
delete of the same says it is no longer there — each back on the list with its message."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.models import CannedResponse, Intent, SlaPolicy
from tests.web.test_pages import browser_login, csrf_of

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

CASES = [
    ("/settings/canned", "refund", CannedResponse, CannedResponse.key, "is deleted", "any more"),
    ("/settings/intents", "refund_request", Intent, Intent.name, "is deleted", "any more"),
    ("/settings/sla", "sales-fast", SlaPolicy, SlaPolicy.name, "is deleted", "any more"),
]


@pytest.mark.parametrize(("page", "name", "model", "column", "done", "gone"), CASES)
def test_refused_deleted_then_gone(  # type: ignore[no-untyped-def]
    app_client: TestClient, container: Container, page, name, model, column, done, gone
) -> None:
    def there() -> bool:
        with container.sessions() as session:
            return session.scalars(select(model).where(column == name)).first() is not None

    browser_login(app_client, "sam@test.example")
    csrf = csrf_of(app_client.get("/settings").text)
    refused = app_client.post(f"{page}/{name}/delete", data={"csrf": csrf}, follow_redirects=True)
    assert refused.url.path == page and there()
    app_client.cookies.clear()
    browser_login(app_client, "admin@test.example")
    csrf = csrf_of(app_client.get(page).text)
    deleted = app_client.post(f"{page}/{name}/delete", data={"csrf": csrf}, follow_redirects=True)
    assert deleted.url.path == page and done in deleted.text and not there()
    again = app_client.post(f"{page}/{name}/delete", data={"csrf": csrf}, follow_redirects=True)
    assert again.url.path == page and gone in again.text
