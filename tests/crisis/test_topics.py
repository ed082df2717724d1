"""What a storm is about: messages grouped by meaning across the five languages and named by their
words in each (pure grouping and naming; the real embedder for the cross-language case; the alert
page and API on a real database)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient

from relaydesk.container import Container
from relaydesk.core.timeutil import utcnow
from relaydesk.crisis.topics import group, label
from relaydesk.guidelines import faq_service
from relaydesk.triage.embed import EmbeddingError, make_embedder
from relaydesk.triage.language_means import centred
from relaydesk.triage.normalize import thai_words
from tests.api.conftest import login
from tests.web.test_alerts_pages import raise_alert
from tests.web.test_pages import browser_login

STORM = [
    ("en", "My coffee was cold again this morning, disgusting"),
    ("fa", "قهوه‌ام باز هم سرد بود، افتضاح"),
    ("ar", "القهوة كانت باردة مرة أخرى، سيئة جدا"),
    ("he", "הקפה שלי היה קר שוב הבוקר"),
    ("th", "กาแฟเย็นชืดอีกแล้ว แย่มาก"),
    ("en", "The delivery is three days late, where is my order?"),
    ("fa", "سفارشم سه روز دیر رسیده، کجاست؟"),
    ("ar", "الطلب متأخر ثلاثة أيام، أين طلبي؟"),
    ("he", "המשלוח מאחר בשלושה ימים, איפה ההזמנה שלי?"),
    ("th", "ส่งของช้าไปสามวันแล้ว ของอยู่ไหน"),
]


def test_groups_follow_similarity_and_are_named_by_their_telling_words() -> None:
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    vectors = np.array([a, b, a * 0.99 + b * 0.01, b, a])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    assert group(vectors) == [[0, 2, 4], [1, 3]]
    texts = ["The coffee is COLD", "late delivery again", "cold coffee, why", "delivery late", "coffee cold!"]
    topics = label(group(vectors), texts, ["en"] * 5, thai_words)
    assert {"coffee", "cold"} <= set(topics[0].terms["en"]) and "the" not in topics[0].terms["en"]
    assert {"delivery", "late"} <= set(topics[1].terms["en"])


@pytest.fixture(scope="module")
def embedder():  # type: ignore[no-untyped-def]
    try:
        return make_embedder()
    except EmbeddingError as exc:
        pytest.skip(f"no embedding model: {exc}")


def test_cold_coffee_in_five_languages_is_one_topic(embedder) -> None:  # type: ignore[no-untyped-def]
    languages = [lang for lang, _ in STORM]
    vectors = centred(embedder.embed_queries([t for _, t in STORM]), languages)
    topics = label(group(vectors), [t for _, t in STORM], languages, thai_words)
    assert sorted(sorted(t.members) for t in topics) == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    coffee = next(t for t in topics if 0 in t.members)
    assert set(coffee.terms) == {"en", "fa", "ar", "he", "th"}
    assert "coffee" in coffee.terms["en"] and "กาแฟ" in coffee.terms["th"] and "القهوة" in coffee.terms["ar"]


@pytest.fixture
def with_model(embedder) -> Iterator[None]:  # type: ignore[no-untyped-def]
    faq_service.use_embedder(lambda: embedder)
    yield
    faq_service.use_embedder(faq_service._no_embedder)


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_alert_page_and_api_show_its_topics(
    app_client: TestClient, container: Container, with_model: None
) -> None:
    alert_id, _conv = raise_alert(app_client, container)
    browser_login(app_client, "petra@test.example")
    page = app_client.get(f"/alerts/{alert_id}")
    assert page.status_code == 200 and 'id="topics"' in page.text and 'data-size="1"' in page.text
    petra = login(app_client, "petra@test.example")
    topics = app_client.get(f"/api/v1/alerts/{alert_id}/topics", headers=petra).json()
    assert len(topics) == 1 and "poisoning" in topics[0]["terms"]["en"]
    assert app_client.get(f"/api/v1/alerts/{alert_id + 99}/topics", headers=petra).status_code == 404


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_without_the_model_the_page_says_so(app_client: TestClient, container: Container) -> None:
    container.crisis_watch.run_once(utcnow())
    alert_id, _conv = raise_alert(app_client, container)
    assert container.crisis_watch.run_once(utcnow() + timedelta(minutes=2)).raised == 0
    browser_login(app_client, "petra@test.example")
    assert 'data-topics="none"' in app_client.get(f"/alerts/{alert_id}").text
    petra = login(app_client, "petra@test.example")
    assert app_client.get(f"/api/v1/alerts/{alert_id}/topics", headers=petra).status_code == 409
