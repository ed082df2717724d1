"""The crisis playbook: an alert is told through every channel it names (the bell, e-mail, the
"crisis" webhook and the playbook's own destinations, the departments it adds), replies under an
open alert wait for the playbook's approvers, and the organisation's own trigger words raise
alerts. PR writes it; an agent cannot."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from relaydesk.auth.service import scope_for
from relaydesk.container import Container
from relaydesk.core.errors import Forbidden, Refused
from relaydesk.core.timeutil import utcnow
from relaydesk.crisis.playbook import parse_trigger_lines, problems
from relaydesk.crisis.playbook_service import playbook_service
from relaydesk.crisis.schemas import PlaybookIn
from relaydesk.db import transaction
from relaydesk.models import CrisisAlert, CrisisAlertEvent, Notification, User
from relaydesk.notifications import mailer, webhooks
from tests.api.conftest import login
from tests.api.test_webhook_and_inbox import ingest
from tests.notifications.smtp_sink import Sink, smtp_sink

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


@pytest.fixture
def channels(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Sink, list[dict[str, object]]]]:
    posted: list[dict[str, object]] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        posted.append({"url": str(request.url), "body": json.loads(request.content)})
        return httpx.Response(200, text="ok")

    monkeypatch.setattr(webhooks, "_transport", httpx.MockTransport(receiver))
    monkeypatch.setenv("RELAYDESK_WEBHOOK_CRISIS", "https://hooks.example/crisis-room")
    monkeypatch.setenv("RELAYDESK_WEBHOOK_LEGAL_DESK", "https://hooks.example/legal")
    with smtp_sink() as sink:
        monkeypatch.setenv(mailer.URL_ENV, f"smtp://{sink.host}:{sink.port}")
        yield sink, posted


def scope_of(container: Container, handle: str):  # type: ignore[no-untyped-def]
    with container.sessions() as session:
        return scope_for(session, session.scalars(select(User).where(User.handle == handle)).one())


def wait_for(check, seconds: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_every_channel_and_held_replies(app_client, container: Container, channels) -> None:  # type: ignore[no-untyped-def]
    sink, posted = channels
    book = PlaybookIn(
        notify_departments=["hr"],
        notify_destinations=["legal-desk"],
        hold_replies=True,
        approvers=["@petra"],
        holding_statements={"en": "We are looking into it."},
        triggers={"recall": ["product recall", "فراخوان محصول"]},
    )
    sam_scope, petra_scope = scope_of(container, "sam"), scope_of(container, "petra")
    with transaction(container.sessions) as session:
        with pytest.raises(Forbidden):
            playbook_service.put(session, sam_scope, None, book)
    with transaction(container.sessions) as session:
        saved = playbook_service.put(session, petra_scope, None, book)
    assert saved.own and saved.editable and saved.triggers == {"recall": ["product recall", "فراخوان محصول"]}
    container.crisis_watch.run_once(utcnow())
    conv = ingest(
        app_client, container, "north-generic", "pb1", "Is there a product recall on your milk?", "p-pb"
    )
    # a minute on: the watch leaves the newest 30 s for transactions still committing
    assert container.crisis_watch.run_once(utcnow() + timedelta(minutes=1)).raised == 1
    with container.sessions() as session:
        alert = session.scalars(select(CrisisAlert)).one()
        assert alert.series == "recall" and alert.holding_statements == {"en": "We are looking into it."}
        told = {
            session.get(User, n.user_id).handle  # type: ignore[union-attr]
            for n in session.scalars(select(Notification).where(Notification.alert_id == alert.id))
            if not n.text.startswith("Hold")  # the agency's own notice (test_agency_hold.py)
        }
        said = [
            e.detail
            for e in session.scalars(select(CrisisAlertEvent).where(CrisisAlertEvent.kind == "notified"))
        ]
    assert {"ada", "petra", "hank"} <= told  # hank: the HR department the playbook adds
    assert said == [f"{len(told)} people in the app; webhooks: crisis, legal-desk"]
    wait_for(lambda: len(posted) >= 2)
    assert {p["url"] for p in posted} == {"https://hooks.example/crisis-room", "https://hooks.example/legal"}
    wait_for(lambda: len(sink.mails) >= len(told))
    mailed = {r for m in sink.mails for r in m.recipients}
    assert "hank@test.example" in mailed and "petra@test.example" in mailed
    # Sam's reply in the conversation under the alert waits for Petra.
    sam = login(app_client, "sam@test.example")
    replied = app_client.post(
        f"/api/v1/conversations/{conv}/reply", json={"text": "Hello, no recall."}, headers=sam
    )
    assert replied.status_code == 201, replied.text
    detail = app_client.get(f"/api/v1/conversations/{conv}", headers=sam).json()
    held = [m for m in detail["messages"] if m["direction"] == "outbound"]
    assert held and held[-1]["delivery_status"] == "draft"
    with transaction(container.sessions) as session:
        session.get(CrisisAlert, alert.id).status = "resolved"  # type: ignore[union-attr]
    again = app_client.post(
        f"/api/v1/conversations/{conv}/reply", json={"text": "All clear now."}, headers=sam
    )
    detail = app_client.get(f"/api/v1/conversations/{conv}", headers=sam).json()
    assert again.status_code == 201 and detail["messages"][-1]["delivery_status"] != "draft"


def test_the_playbook_checks_what_is_typed(container: Container) -> None:
    assert problems(["manager", "@petra"], {"recall": ["product recall"]}, {"fa": "در حال بررسی"}) == []
    found = problems(["boss"], {"Bad Category": [" "]}, {"english": "x"})
    assert {f for f, _ in found} == {"approvers", "triggers", "holding_statements"}
    assert parse_trigger_lines("recall: product recall\nrecall: فراخوان\n\n") == {
        "recall": ["product recall", "فراخوان"]
    }
    ada = scope_of(container, "ada")
    with transaction(container.sessions) as session:
        with pytest.raises(Refused, match="no department 'legal'"):
            playbook_service.put(session, ada, None, PlaybookIn(notify_departments=["legal"]))
        with pytest.raises(Refused, match="no brand"):
            playbook_service.put(session, ada, "north", PlaybookIn())
        brand = playbook_service.put(session, ada, "brand", PlaybookIn(hold_replies=True))
    assert brand.place == "brand" and brand.own and brand.hold_replies
    with container.sessions() as session:
        follows = playbook_service.get(session, scope_of(container, "sam"), None)
    assert not follows.own and not follows.editable


def test_who_writes_which_playbook(container: Container) -> None:
    # An owner placed at the brand writes the organisation's (the page showed it read-only to the
    # demo's owner); an admin placed at the brand writes the brand's, not the organisation's.
    from dataclasses import replace

    from relaydesk.models import Location

    with transaction(container.sessions) as session:
        owner = session.scalars(select(User).where(User.handle == "ada")).one()
        owner.role = "owner"
        owner.location_id = session.scalars(select(Location.id).where(Location.key == "brand")).one()
    ada = scope_of(container, "ada")
    brand_admin = replace(scope_of(container, "ada"), role="admin", location_path="/1/")
    with container.sessions() as session:
        assert playbook_service.get(session, ada, None).editable
        assert not playbook_service.get(session, brand_admin, None).editable
        assert playbook_service.get(session, brand_admin, "brand").editable
    with transaction(container.sessions) as session:
        with pytest.raises(Forbidden):
            playbook_service.put(session, brand_admin, None, PlaybookIn(hold_replies=True))
        with pytest.raises(Refused, match="@nobody"):
            playbook_service.put(session, ada, None, PlaybookIn(approvers=["@nobody"]))


def test_an_organisation_has_one_playbook_of_its_own(container: Container) -> None:
    from sqlalchemy.exc import IntegrityError

    from relaydesk.models import CrisisPlaybook

    with container.sessions() as session:
        org_id = session.scalars(select(User.org_id)).first()
        session.add_all(
            [CrisisPlaybook(org_id=org_id, place_id=None), CrisisPlaybook(org_id=org_id, place_id=None)]
        )
        with pytest.raises(IntegrityError):
            session.flush()
