"""WhatsApp templates with values: the agent fills {{1}}, {{2}}; the Cloud API gets body parameters."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from relaydesk.channels import whatsapp
from relaydesk.channels.meta import GraphSender
from relaydesk.core.errors import Refused
from relaydesk.core.timeutil import utcnow
from tests.channels.accounts import add_accounts
from tests.channels.fakes.graph import FakeGraph
from tests.channels.test_outbox import PHONE, Clock, inbound, run, worker
from tests.web.test_pages import browser_login, csrf_of

SQLITE = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

ORDER_READY = "سلام {{1}}، سفارش {{2}} آماده است."
SETTINGS = {"templates": [{"name": "order_ready", "language": "fa", "text": ORDER_READY}, "apology"]}


def test_a_templates_values_are_counted_and_filled() -> None:
    assert whatsapp.template_variables(ORDER_READY) == 2
    assert whatsapp.template_variables("Hello {{ 1 }}") == 1
    assert whatsapp.template_variables("No values") == 0
    assert whatsapp.fill_template(ORDER_READY, ["مریم", "۴۵۲۱"]) == "سلام مریم، سفارش ۴۵۲۱ آماده است."
    assert whatsapp.fill_template("{{1}} {{2}}", ["a"]) == "a {{2}}"  # a missing value stays visible


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        (["مریم"], "takes 2 value(s), not 1"),
        (["مریم", " "], "the value for {{2}} is empty"),
        (["مریم", "a\nb"], "one line of at most 1024 characters"),
        (["مریم", "x" * 1025], "one line of at most 1024 characters"),
    ],
)
def test_values_whatsapp_would_refuse_are_refused_first(values: list[str], problem: str) -> None:
    with pytest.raises(Refused, match=problem.replace("{", r"\{").replace("(", r"\(").replace(")", r"\)")):
        whatsapp.check_template_values(SETTINGS, "order_ready", values)
    whatsapp.check_template_values(SETTINGS, "apology", [])  # body not known here: WhatsApp checks


def _closed_window(container: Any) -> int:
    account = add_accounts(
        container, "tpl-", {"wa": ("whatsapp", PHONE, {"access_token": "t", "app_secret": "s"}, SETTINGS)}
    )["wa"]
    return int(
        inbound(
            container,
            account,
            "whatsapp",
            "wamid.tpl1",
            author_id="98912",
            author_name="مریم",
            sent_at=utcnow() - timedelta(days=2),
        )
    )


@SQLITE
def test_the_page_offers_the_templates_and_sends_one_with_its_values(
    app_client: TestClient, container: Any
) -> None:
    conversation = _closed_window(container)
    assert browser_login(app_client, "sam@test.example").status_code == 303
    page = app_client.get(f"/conversations/{conversation}").text
    assert 'id="reply-text"' not in page  # free text would be refused by WhatsApp
    assert "only an approved template can be sent now" in page
    assert html.escape(ORDER_READY) in page and page.count('name="params"') == 2
    refused = app_client.post(
        f"/conversations/{conversation}/template",
        data={"csrf": csrf_of(page), "template": "order_ready", "params": ["مریم"]},
    )
    assert refused.status_code == 422 and "This template takes 2 values, not 1." in html.unescape(
        refused.text
    )
    sent = app_client.post(
        f"/conversations/{conversation}/template",
        data={"csrf": csrf_of(page), "template": "order_ready", "params": ["مریم", "۴۵۲۱"]},
    )
    assert sent.status_code == 200 and "Template sent." in sent.text
    # The thread shows what the customer reads.
    assert "سلام مریم، سفارش ۴۵۲۱ آماده است." in sent.text

    graph = FakeGraph()
    run(worker(container, {"whatsapp": GraphSender(transport=graph.transport)}, Clock()))
    body = graph.delivered[0].body
    assert body["type"] == "template"
    assert body["template"] == {
        "name": "order_ready",
        "language": {"code": "fa"},
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "مریم"}, {"type": "text", "text": "۴۵۲۱"}],
            }
        ],
    }
