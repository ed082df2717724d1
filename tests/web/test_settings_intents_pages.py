"""The intents settings page without JavaScript: a manager edits her department's intent and sees
the few-shot check; another department's intent is read-only to her; agents are turned away."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.models import AuditEntry, Intent
from tests.voice_people import add_person
from tests.web.test_pages import browser_login, csrf_of

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

REFUND = "I want my money back\nplease refund my order\nhow do I get a refund\nپولم را پس بدهید"


def intent(container: Container, name: str) -> Intent | None:
    with container.sessions() as session:
        return session.scalars(select(Intent).where(Intent.name == name)).first()


def test_a_manager_adds_an_example_and_sees_where_each_lands(
    app_client: TestClient, container: Container
) -> None:
    add_person(container.sessions, "mo", "manager", ["service"])
    browser_login(app_client, "mo@test.example")
    assert 'href="/settings/intents"' in app_client.get("/settings").text
    listing = app_client.get("/settings/intents")
    assert listing.status_code == 200
    assert 'id="intent-refund_request"' in listing.text and "3 examples" in listing.text
    page = app_client.get("/settings/intents/refund_request")
    assert page.status_code == 200 and 'name="examples"' in page.text
    assert 'class="data few-shot"' in page.text
    saved = app_client.post(
        "/settings/intents",
        data={
            "csrf": csrf_of(page.text),
            "new": "0",
            "name": "refund_request",
            "department": "service",
            "examples": REFUND,
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == "/settings/intents/refund_request#check"
    stored = intent(container, "refund_request")
    assert stored is not None and stored.examples[-1] == "پولم را پس بدهید"
    checked = app_client.get("/settings/intents/refund_request")
    assert "پولم را پس بدهید" in checked.text
    assert checked.text.count("<tr data-status=") == 4
    # The try box: a message like an example lands on the intent.
    tried = app_client.post(
        "/settings/intents/try", data={"csrf": csrf_of(checked.text), "text": "please refund my order now"}
    )
    assert tried.status_code == 200
    assert '<dd data-result="intent"><bdi dir="ltr">refund_request</bdi>' in tried.text
    with container.sessions() as session:
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.kind == "intent", AuditEntry.key == "refund_request", AuditEntry.via == "web"
            )
        ).one()
    assert entry.via == "web" and entry.actor_name == "Mo Manager"


def test_another_departments_intent_is_read_only_and_refused(
    app_client: TestClient, container: Container
) -> None:
    add_person(container.sessions, "mo", "manager", ["service"])
    browser_login(app_client, "mo@test.example")
    page = app_client.get("/settings/intents/job_inquiry")
    assert page.status_code == 200 and 'name="examples"' not in page.text
    refused = app_client.post(
        "/settings/intents",
        data={
            "csrf": csrf_of(page.text),
            "new": "0",
            "name": "job_inquiry",
            "department": "hr",
            "examples": "a job?",
        },
        follow_redirects=False,
    )
    assert refused.status_code == 403 and "your own departments" in refused.text
    stored = intent(container, "job_inquiry")
    assert stored is not None and stored.examples == []
    # Nor may she take it for her own department.
    taken = app_client.post(
        "/settings/intents",
        data={
            "csrf": csrf_of(page.text),
            "new": "0",
            "name": "job_inquiry",
            "department": "service",
            "examples": "x",
        },
        follow_redirects=False,
    )
    assert taken.status_code == 403
    stored = intent(container, "job_inquiry")
    assert stored is not None and stored.department_key == "hr"


def test_a_bad_form_keeps_what_was_typed(app_client: TestClient, container: Container) -> None:
    browser_login(app_client, "admin@test.example")
    page = app_client.get("/settings/intents/new")
    assert page.status_code == 200
    bad = app_client.post(
        "/settings/intents",
        data={
            "csrf": csrf_of(page.text),
            "new": "1",
            "name": "Bad Name",
            "department": "",
            "examples": "hello there",
        },
    )
    assert bad.status_code == 422 and "hello there" in bad.text and "name" in bad.text
    empty = app_client.post(
        "/settings/intents",
        data={
            "csrf": csrf_of(page.text),
            "new": "1",
            "name": "franchise_lead",
            "department": "sales",
            "examples": " \n",
        },
    )
    assert empty.status_code == 422
    assert intent(container, "franchise_lead") is None
    taken = app_client.post(
        "/settings/intents",
        data={
            "csrf": csrf_of(page.text),
            "new": "1",
            "name": "praise",
            "department": "",
            "examples": "great",
        },
    )
    assert taken.status_code == 422 and "exists already" in taken.text


def test_agents_viewers_and_a_regional_manager(app_client: TestClient) -> None:
    browser_login(app_client, "sam@test.example")
    assert app_client.get("/settings/intents").status_code == 403
    assert 'href="/settings/intents"' not in app_client.get("/settings").text
    app_client.cookies.clear()
    browser_login(app_client, "nora@test.example")
    listing = app_client.get("/settings/intents")
    assert listing.status_code == 200 and 'href="/settings/intents/new"' not in listing.text
    page = app_client.get("/settings/intents/refund_request")
    assert 'name="examples"' not in page.text


def test_a_forged_or_expired_form_is_refused(app_client: TestClient, container: Container) -> None:
    browser_login(app_client, "admin@test.example")
    refused = app_client.post(
        "/settings/intents",
        data={"csrf": "0" * 64, "new": "1", "name": "x_y", "examples": "a"},
        follow_redirects=False,
    )
    assert refused.status_code == 303
    assert intent(container, "x_y") is None


def test_an_admin_reads_what_learning_from_corrections_did_in_her_language(
    app_client: TestClient, container: Container
) -> None:
    import json
    from pathlib import Path

    from relaydesk.triage.learning_service import LOG_FILE, models_dir

    folder = models_dir(container.settings.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    runs = [
        {
            "at": "2026-12-07T03:00:00+00:00",
            "corrections": 4,
            "learned_from": 3,
            "held_back": 1,
            "score_in_use": None,
            "score_refitted": None,
            "kept": "in use",
            "reason": "too few",
        },
        {
            "at": "2026-12-08T03:00:00+00:00",
            "corrections": 40,
            "learned_from": 32,
            "held_back": 8,
            "score_in_use": 0.5,
            "score_refitted": 0.875,
            "kept": "refitted",
            "reason": "better",
        },
    ]
    Path(folder / LOG_FILE).write_text("".join(json.dumps(r) + "\n" for r in runs), encoding="utf-8")
    browser_login(app_client, "admin@test.example")
    listing = app_client.get("/settings/intents").text
    assert 'id="learning"' in listing and 'data-run="refitted"' in listing
    assert listing.index('data-run="refitted"') < listing.index('data-run="in use"')  # newest first
    assert "88%" in listing and "Learned: the new model is in use" in listing
    assert "Not enough corrections yet" in listing
    app_client.post(
        "/preferences",
        data={"csrf": csrf_of(listing), "locale": "fa", "calendar": "gregorian", "next": "/"},
    )
    persian = app_client.get("/settings/intents").text
    assert "یادگیری از اصلاح‌های شما" in persian and "یاد گرفت: مدل تازه در حال استفاده است" in persian
    # a regional manager does not see it: the model is the whole organisation's
    app_client.cookies.clear()
    browser_login(app_client, "nora@test.example")
    assert 'id="learning"' not in app_client.get("/settings/intents").text


def test_an_intent_taught_in_one_language_asks_for_examples_in_the_others(app_client: TestClient) -> None:
    browser_login(app_client, "admin@test.example")
    page = app_client.get("/settings/intents/refund_request").text
    assert 'data-result="thin-languages"' in page
    said = page[page.index('data-result="thin-languages"') :].split("</p>")[0]
    assert "Persian, Arabic, Hebrew, and Thai" in said and "English" not in said
    app_client.post(
        "/preferences", data={"csrf": csrf_of(page), "locale": "fa", "calendar": "gregorian", "next": "/"}
    )
    persian = app_client.get("/settings/intents/refund_request").text
    said = persian[persian.index('data-result="thin-languages"') :].split("</p>")[0]
    # the list as Persian writes it (CLDR: Persian comma, "و" before the last)
    assert "نمونه‌های کمی به فارسی،" in said and "و تایلندی" in said and "Arabic" not in said
