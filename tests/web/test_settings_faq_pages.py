"""The FAQ settings page without JavaScript: proposed by an agent, approved by PR, tried, audited."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.models import AuditEntry, FaqEntry
from tests.web.test_pages import browser_login, csrf_of, ingest

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

FORM = {
    "new": "1",
    "key": "gift",
    "language": "en",
    "question": "Can I buy a gift card?",
    "variants": "Do you sell gift vouchers?\n\nکارت هدیه دارید؟\n",
    "answer_en": "Yes, in every café.",
    "answer_fa": "بله، در همه کافه‌ها.",
    "answer_th": "",
    "valid_from": "",
    "valid_until": "",
}


def entry(container: Container, key: str) -> FaqEntry | None:
    with container.sessions() as session:
        return session.scalars(select(FaqEntry).where(FaqEntry.key == key)).first()


def propose(client: TestClient, **changes: str) -> object:
    page = client.get("/settings/faq/new")
    assert page.status_code == 200
    return client.post(
        "/settings/faq", data={**FORM, "csrf": csrf_of(page.text), **changes}, follow_redirects=False
    )


def test_an_agent_proposes_a_draft_and_may_not_approve_it(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "sam@test.example")
    assert 'href="/settings/faq"' in app_client.get("/settings").text
    saved = propose(app_client)
    assert saved.status_code == 303, saved.text  # type: ignore[attr-defined]
    stored = entry(container, "gift")
    assert stored is not None and stored.status == "draft"
    assert stored.variants == ["Do you sell gift vouchers?", "کارت هدیه دارید؟"]
    assert stored.answers == {"en": "Yes, in every café.", "fa": "بله، در همه کافه‌ها."}
    listing = app_client.get("/settings/faq")
    assert listing.status_code == 200
    # Drafts awaiting approval come first, and Sam sees no Approve button.
    assert listing.text.index("faq-gift") < listing.text.index("faq-hours")
    assert 'data-action="approve"' not in listing.text and 'data-action="delete"' not in listing.text
    refused = app_client.post(
        "/settings/faq/gift/approve", data={"csrf": csrf_of(listing.text)}, follow_redirects=False
    )
    assert refused.status_code == 303
    stored = entry(container, "gift")
    assert stored is not None and stored.status == "draft"
    # The approved entry is Petra's to change: Sam sees it, without a form.
    hours = app_client.get("/settings/faq/hours")
    assert hours.status_code == 200 and 'name="question"' not in hours.text
    taken = app_client.post(
        "/settings/faq",
        data={**FORM, "new": "0", "key": "hours", "csrf": csrf_of(listing.text)},
        follow_redirects=False,
    )
    assert taken.status_code == 403
    hours_row = entry(container, "hours")
    assert hours_row is not None and hours_row.status == "approved" and hours_row.answer == "Every day 8–20."


def test_petra_approves_and_the_agent_is_offered_the_answer(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "sam@test.example")
    propose(app_client)
    # A sales question: Sally (sales) has it.
    conversation = ingest(container, "faq-gift", "Hi! Do you sell gift vouchers?", "Pat")
    app_client.cookies.clear()
    browser_login(app_client, "sally@test.example")
    before = app_client.get(f"/conversations/{conversation}")
    assert before.status_code == 200 and "Yes, in every café." not in before.text
    app_client.cookies.clear()
    browser_login(app_client, "petra@test.example")
    listing = app_client.get("/settings/faq?status=draft")
    assert 'data-action="approve"' in listing.text and "faq-hours" not in listing.text
    approved = app_client.post(
        "/settings/faq/gift/approve", data={"csrf": csrf_of(listing.text)}, follow_redirects=False
    )
    assert approved.status_code == 303
    stored = entry(container, "gift")
    assert stored is not None and stored.status == "approved" and stored.approved_by_id is not None
    app_client.cookies.clear()
    browser_login(app_client, "sally@test.example")
    page = app_client.get(f"/conversations/{conversation}")
    assert "Yes, in every café." in page.text
    # Sending the answer counts it on the FAQ page.
    sent = app_client.post(
        f"/conversations/{conversation}/reply",
        data={"text": "Hi Pat! Yes, in every café. Sally", "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    stored = entry(container, "gift")
    assert stored is not None and stored.usage_count == 1
    assert 'data-used="1"' in app_client.get("/settings/faq").text
    with container.sessions() as session:
        logged = session.scalars(
            select(AuditEntry).where(AuditEntry.key == "gift").order_by(AuditEntry.id.desc())
        ).first()
        assert logged is not None and logged.actor_name == "Petra PR" and logged.via == "web"


def test_the_try_box_shows_what_an_agent_would_be_offered(app_client: TestClient) -> None:
    browser_login(app_client, "petra@test.example")
    page = app_client.get("/settings/faq")
    tried = app_client.post(
        "/settings/faq/try",
        data={"csrf": csrf_of(page.text), "text": "when are you open today?", "lang": "en"},
    )
    assert tried.status_code == 200 and 'data-key="hours"' in tried.text and "Every day 8–20." in tried.text
    nothing = app_client.post(
        "/settings/faq/try", data={"csrf": csrf_of(page.text), "text": "xyzzy", "lang": ""}
    )
    assert 'data-result="none"' in nothing.text
    forged = app_client.post(
        "/settings/faq/try", data={"csrf": "0" * 64, "text": "open?"}, follow_redirects=False
    )
    assert forged.status_code == 303


def test_the_form_says_what_to_fix_and_keeps_what_was_typed(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "sam@test.example")
    bad = propose(app_client, answer_en="", valid_from="2027-02-01", valid_until="2027-01-01")
    assert bad.status_code == 422  # type: ignore[attr-defined]
    assert "Write the answer in the main language." in bad.text  # type: ignore[attr-defined]
    assert "Can I buy a gift card?" in bad.text and entry(container, "gift") is None  # type: ignore[attr-defined]
    assert propose(app_client, key="hours").status_code == 422  # type: ignore[attr-defined]


def test_petra_changes_an_approved_answer_and_it_waits_for_approval_again(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "petra@test.example")
    page = app_client.get("/settings/faq/hours")
    assert 'name="question"' in page.text and 'data-action="draft"' in page.text
    saved = app_client.post(
        "/settings/faq",
        data={
            "csrf": csrf_of(page.text),
            "new": "0",
            "key": "hours",
            "language": "en",
            "question": "When are you open?",
            "answer_en": "Every day 9–21.",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    stored = entry(container, "hours")
    assert stored is not None and stored.status == "draft" and stored.answer == "Every day 9–21."
    retired = app_client.post(
        "/settings/faq/hours/retire", data={"csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert retired.status_code == 303
    stored = entry(container, "hours")
    assert stored is not None and stored.status == "retired"
    deleted = app_client.post(
        "/settings/faq/hours/delete", data={"csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert deleted.status_code == 303 and entry(container, "hours") is None


def test_a_viewer_is_not_shown_the_page(app_client: TestClient) -> None:
    browser_login(app_client, "vic@test.example")
    assert app_client.get("/settings/faq").status_code == 403
    assert 'href="/settings/faq"' not in app_client.get("/settings").text


def test_entry_text_is_escaped(app_client: TestClient, container: Container) -> None:
    browser_login(app_client, "sam@test.example")
    propose(app_client, question="<script>alert(1)</script> gift card?")
    listing = app_client.get("/settings/faq").text
    assert "<script>alert(1)</script>" not in listing and "&lt;script&gt;" in listing


def test_the_spreadsheet_downloads_and_an_import_proposes_drafts_or_says_where_it_is_wrong(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "sam@test.example")
    propose(app_client)
    download = app_client.get("/settings/faq.csv")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    text = download.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("key,language,question,variants,answer_en,answer_fa")
    assert "gift,en,Can I buy a gift card?" in text
    page = app_client.get("/settings/faq")
    assert 'action="/settings/faq/import"' in page.text
    changed = text.replace("Yes, in every café.", "Yes, in every café and online.")
    header = text.splitlines()[0]
    new_row = "opening,fa,ساعت کاری؟,,,از ۹ تا ۵" + "," * (len(header.split(",")) - 6)
    imported = app_client.post(
        "/settings/faq/import",
        data={"csrf": csrf_of(page.text)},
        files={
            "file": ("faq.csv", (changed.rstrip("\r\n") + "\r\n" + new_row + "\r\n").encode(), "text/csv")
        },
    )
    assert imported.status_code == 200 and "1 new" in imported.text, imported.text
    gift, opening = entry(container, "gift"), entry(container, "opening")
    assert gift is not None and gift.answer == "Yes, in every café and online."
    assert opening is not None and opening.status == "draft" and opening.answers == {"fa": "از ۹ تا ۵"}
    bad = app_client.post(
        "/settings/faq/import",
        data={"csrf": csrf_of(page.text)},
        files={"file": ("faq.csv", b"key,language,question,answer_en\nok,en,,A\n", "text/csv")},
    )
    assert "Nothing was imported" in bad.text and "Line 2" in bad.text
    assert entry(container, "ok") is None
