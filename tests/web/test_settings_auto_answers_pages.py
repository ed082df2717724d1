"""The automatic answers page without JavaScript: PR turns the away message on, an agent reads it,
a viewer is turned away, a bad form keeps what was typed."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.container import Container
from relaydesk.models import ChannelAccount
from tests.web.test_pages import browser_login, csrf_of

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def settings_of(container: Container, key: str) -> dict[str, object]:
    with container.sessions() as session:
        account = session.scalars(select(ChannelAccount).where(ChannelAccount.key == key)).one()
        return dict(account.settings or {})


def test_pr_turns_the_away_message_on_and_an_agent_reads_it(
    app_client: TestClient, container: Container
) -> None:
    browser_login(app_client, "petra@test.example")
    assert 'href="/settings/auto-answers"' in app_client.get("/settings").text
    listing = app_client.get("/settings/auto-answers")
    assert listing.status_code == 200 and 'data-away="off"' in listing.text
    page = app_client.get("/settings/auto-answers/north-generic")
    assert 'name="away_fa"' in page.text and "disabled" not in page.text.split("<fieldset")[1][:20]
    bad = app_client.post(
        "/settings/auto-answers/north-generic", data={"csrf": csrf_of(page.text), "away": "1", "away_fa": ""}
    )
    assert bad.status_code == 422 and 'name="away" value="1" checked' in bad.text
    saved = app_client.post(
        "/settings/auto-answers/north-generic",
        data={
            "csrf": csrf_of(page.text),
            "away": "1",
            "away_fa": "بسته‌ایم، از {opens} پاسخ می‌دهیم.",
            "min_score": "0.6",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    stored = settings_of(container, "north-generic")["auto_answers"]
    assert stored["away"] == {"enabled": True, "texts": {"fa": "بسته‌ایم، از {opens} پاسخ می‌دهیم."}}  # type: ignore[index]
    assert stored["faq"]["enabled"] is False and stored["faq"]["min_score"] == 0.6  # type: ignore[index]
    app_client.cookies.clear()
    browser_login(app_client, "sam@test.example")
    assert 'data-away="on"' in app_client.get("/settings/auto-answers").text
    read_only = app_client.get("/settings/auto-answers/north-generic")
    assert "<fieldset disabled" in read_only.text
    refused = app_client.post(
        "/settings/auto-answers/north-generic", data={"csrf": csrf_of(read_only.text), "away": ""}
    )
    assert refused.status_code == 403
    assert settings_of(container, "north-generic")["auto_answers"]["away"]["enabled"] is True  # type: ignore[index]


def test_a_viewer_is_turned_away(app_client: TestClient) -> None:
    browser_login(app_client, "vic@test.example")
    assert app_client.get("/settings/auto-answers").status_code == 403
    assert app_client.get("/settings/auto-answers/north-generic").status_code == 403
