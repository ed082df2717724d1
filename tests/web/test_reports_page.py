"""The reports page: a number opens the conversations behind it, and the downloads say the same."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from fastapi.testclient import TestClient

from relaydesk.container import Container
from tests.web.test_pages import browser_login, csrf_of, ingest

pytestmark = pytest.mark.parametrize(
    "engine", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


def _world(client: TestClient, container: Container) -> dict[str, int]:
    ids = {
        "late": ingest(container, "rp1", "Where is my order? It is very late", "ann"),
        "money": ingest(container, "rp2", "I want my money back", "bob"),
        "south": ingest(container, "rp3", "Do you have vegan cakes?", "cyd", account="south-generic"),
        "spam": ingest(container, "rp4", "WIN FREE MONEY click http://spam.example now!!!", "spammer"),
    }
    browser_login(client, "admin@test.example")
    page = client.get(f"/conversations/{ids['late']}").text
    client.post(f"/conversations/{ids['late']}/reply", data={"text": "On its way!", "csrf": csrf_of(page)})
    container.rollups.run_once()
    return ids


def _conversation_ids(page: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/conversations/(\d+)"', page)}


def _csv(client: TestClient, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.text)))


def test_a_number_opens_the_conversations_it_counts(app_client: TestClient, container: Container) -> None:
    ids = _world(app_client, container)
    page = app_client.get("/reports").text
    total = re.search(r'<p class="big"><a href="([^"]+)">(\d+)</a>', page)
    assert total is not None
    listed = _conversation_ids(app_client.get(html.unescape(total.group(1))).text)
    assert len(listed) == int(total.group(2))
    assert (ids["late"] in listed and ids["spam"] not in listed) or len(listed) == int(total.group(2))

    for table in ("department", "assignee"):  # the agent table's "not assigned" line too
        section = page.split(f'id="by-{table}"', 1)[1].split("</section>", 1)[0]
        links = re.findall(r'<td><a href="([^"]+)">(\d+)</a></td>', section)
        assert links, table
        for href, count in links:
            drilled = app_client.get(html.unescape(href))
            assert drilled.status_code == 200
            assert "From a report:" in drilled.text
            assert len(_conversation_ids(drilled.text)) == int(count), href

    unanswered_day = page.split('id="by-channel"', 1)[1].split("</section>", 1)[0]
    assert re.search(r'<td><a href="[^"]*network=generic[^"]*">\d+</a></td>', unanswered_day)


def test_the_downloads_have_the_numbers_of_the_page(app_client: TestClient, container: Container) -> None:
    _world(app_client, container)
    page = app_client.get("/reports").text
    total = re.search(r'<p class="big"><a href="[^"]+">(\d+)</a>', page)
    assert total is not None
    conversations = int(total.group(1))

    links = dict(re.findall(r'href="(/api/v1/reports/(\w+)\.csv\?[^"]+)"', page)[i][::-1] for i in range(3))
    assert {"totals", "days"} <= set(links)
    totals = _csv(app_client, html.unescape(links["totals"]))
    assert int(totals[0]["conversations"]) == conversations
    days = _csv(app_client, html.unescape(links["days"]))
    assert sum(int(row["conversations"]) for row in days) == conversations and len(days) == 30

    query = html.unescape(links["totals"]).split("?", 1)[1]
    lines = _csv(app_client, f"/api/v1/reports/conversations.csv?{query}")
    assert len(lines) == conversations
    answered = [line for line in lines if line["first_response_at"]]
    assert len(answered) == int(totals[0]["answered"]) == 1
    assert int(answered[0]["first_response_seconds"]) >= 0 and answered[0]["sla_first_response"] in (
        "met",
        "",
    )

    department = _csv(app_client, f"/api/v1/reports/department.csv?{query}")
    assert sum(int(row["conversations"]) for row in department) == conversations
    shown = page.split('id="by-department"', 1)[1].split("</section>", 1)[0]
    assert sorted(int(n) for n in re.findall(r'<td><a href="[^"]+">(\d+)</a></td>', shown)) == sorted(
        int(row["conversations"]) for row in department
    )


def test_a_manager_reports_on_her_own_teams_and_wrong_input_is_named(
    app_client: TestClient, container: Container
) -> None:
    _world(app_client, container)
    app_client.cookies.clear()
    browser_login(app_client, "nora@test.example")  # service and sales, the north locations
    lines = _csv(app_client, "/api/v1/reports/conversations.csv")
    assert lines and {line["location"] for line in lines} <= {"north", "north-shop"}
    assert {line["department"] for line in lines} <= {"service", "sales"}
    page = app_client.get("/reports?by_location=1").text
    assert 'id="by-location"' in page
    assert app_client.get("/api/v1/reports/nothing.csv").status_code == 404
    bad = app_client.get("/api/v1/reports/summary?from=2026-02-30")
    assert bad.status_code == 422 and "from" in bad.text
    assert app_client.get("/api/v1/reports/summary?location=atlantis").status_code == 422
    summary = app_client.get("/api/v1/reports/summary").json()
    assert summary["totals"]["conversations"] == len(lines)
