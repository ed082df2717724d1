"""The lexicon triager on the five languages' edge cases (fixtures written for these tests)."""

from __future__ import annotations

import pytest

from relaydesk.triage.base import IntentDefinition, TriageInput
from relaydesk.triage.lexicon import LexiconTriager

TRIAGER = LexiconTriager()


def one(text: str, **kw: object) -> object:
    return TRIAGER.triage([TriageInput(text=text, **kw)])[0]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "lang", "sentiment"),
    [
        ("Thanks, lovely service!", "en", "positive"),
        ("not good at all", "en", "negative"),
        ("خیلی ممنون، عالی بود 🙏", "fa", "positive"),
        ("خوب نیست", "fa", "negative"),
        ("الخدمة سيئة جدا", "ar", "negative"),
        ("مش كويس ابدا", "ar", "negative"),
        ("שירות מעולה, תודה!", "he", "positive"),
        ("לא טוב", "he", "negative"),
        ("บริการดีมาก ขอบคุณครับ", "th", "positive"),
        ("ไม่ดี", "th", "negative"),
    ],
)
def test_sentiment_with_negation_in_five_languages(text: str, lang: str, sentiment: str) -> None:
    result = one(text)
    assert (result.lang, result.sentiment) == (lang, sentiment), result.reasons  # type: ignore[attr-defined]


def test_arabic_letter_variants_match_persian_cues() -> None:
    # Written with Arabic yeh and kaf, as many Persian keyboards on phones do.
    assert one("سفارشم هنوز نرسيده، پولم رو پس بديد").intent == "order_issue"  # type: ignore[attr-defined]


def test_hebrew_niqqud_is_ignored() -> None:
    assert one("תּוֹדָה רַבָּה, מְעֻלֶּה").sentiment == "positive"  # type: ignore[attr-defined]


def test_thai_without_spaces_finds_price_question() -> None:
    result = one("เค้กราคาเท่าไหร่คะ")
    assert (result.intent, result.stage) == ("purchase_interest", "pre_purchase")  # type: ignore[attr-defined]


def test_crisis_words_make_it_critical_in_every_language() -> None:
    for text in (
        "my lawyer will sue you",
        "بعد از غذا مسمومیت گرفتم",
        "أصبت بتسمم",
        "הרעלת מזון",
        "อาหารเป็นพิษ",
    ):
        result = one(text)
        assert result.urgency == "critical" and result.intent == "crisis", text  # type: ignore[attr-defined]


def test_influential_negative_author_is_high_urgency() -> None:
    assert one("terrible service", author_followers=50_000).urgency == "high"  # type: ignore[attr-defined]
    assert one("terrible service", previous_negative=3).urgency == "high"  # type: ignore[attr-defined]
    assert one("terrible service").urgency == "normal"  # type: ignore[attr-defined]


def test_custom_intents_match_or_answer_null() -> None:
    intents = [IntentDefinition("refund", ("I want my money back", "please refund me"), "billing")]
    hit = TRIAGER.triage([TriageInput("please refund me, I want my money back")], intents)[0]
    assert (hit.intent, hit.department) == ("refund", "billing")
    miss = TRIAGER.triage([TriageInput("what colour is the sky")], intents)[0]
    assert miss.intent is None and any("no intent matched" in r for r in miss.reasons)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "😀😀😀",
        "https://example.com/x",
        "\u200b\u200c\u200d",
        "a" * 100_000,
        "abc \ud800 def",
        "سلام hello שלום สวัสดี",
    ],
)
def test_bad_input_never_crashes(text: str) -> None:
    result = one(text)
    assert result.sentiment in ("positive", "neutral", "negative")  # type: ignore[attr-defined]
    assert result.reasons  # type: ignore[attr-defined]


def test_empty_and_emoji_only_are_undetermined() -> None:
    assert one("").lang == "und"  # type: ignore[attr-defined]
    assert one("😀😀").lang == "und"  # type: ignore[attr-defined]
    assert one("😡😡").sentiment == "negative"  # type: ignore[attr-defined]


def test_negation_flips_and_stays_inside_its_clause() -> None:
    assert one("not happy with this").sentiment == "negative"  # type: ignore[attr-defined]
    assert one("no problem, thanks!").sentiment == "positive"  # type: ignore[attr-defined]
    assert one("راضی نیستم").sentiment == "negative"  # type: ignore[attr-defined]
    assert one("ليس جيد").sentiment == "negative"  # type: ignore[attr-defined]
    assert one("ไม่ค่อยดีเลย").sentiment == "negative"  # type: ignore[attr-defined]
    # The "no" of the first clause does not reach "great" in the second one.
    assert one("no delay at all. great service").sentiment == "positive"  # type: ignore[attr-defined]


def test_persian_we_is_not_an_arabic_negator() -> None:
    # "ما" is "not" in Arabic but "we" in Persian.
    assert one("ما خیلی راضی هستیم").sentiment == "positive"  # type: ignore[attr-defined]


def test_clitics_are_stripped_for_matching() -> None:
    assert one("والخدمة ممتازة").sentiment == "positive"  # type: ignore[attr-defined]
    assert one("והשירות מעולה").sentiment == "positive"  # type: ignore[attr-defined]


def test_thai_cue_does_not_fire_inside_a_longer_word() -> None:
    # "ดี" (good) inside "ดีเซล" (diesel) is not praise.
    assert one("ดีเซลหมดแล้ว").sentiment == "neutral"  # type: ignore[attr-defined]


def test_reasons_name_the_cue_words() -> None:
    result = one("The coffee was terrible and the staff were rude")
    assert result.sentiment == "negative"  # type: ignore[attr-defined]
    text = " ".join(result.reasons)  # type: ignore[attr-defined]
    assert "terrible" in text and "rude" in text


def test_scores_are_probabilities() -> None:
    result = one("love it ❤️ but delivery was slow")
    scores = result.scores["sentiment"]  # type: ignore[attr-defined]
    assert set(scores) == {"positive", "neutral", "negative"}
    assert abs(sum(scores.values()) - 1.0) < 1e-9 and all(0.0 <= v <= 1.0 for v in scores.values())


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("how much is the large box?", "pre_purchase"),
        ("do you have it in stock?", "pre_purchase"),
        ("قیمت این کفش چنده؟", "pre_purchase"),
        ("بكم هذا؟", "pre_purchase"),
        ("כמה עולה מגש אירוח?", "pre_purchase"),
        ("my card was declined at checkout", "purchase"),
        ("I want a refund, it arrived broken", "post_purchase"),
        ("ההזמנה שלי הגיעה שבורה, אני רוצה החזר", "post_purchase"),
        ("ของชำรุด ขอคืนเงินค่ะ", "post_purchase"),
        ("hello there", "unknown"),
    ],
)
def test_purchase_stage(text: str, stage: str) -> None:
    assert one(text).stage == stage  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Where can I send my CV?", "job_inquiry"),  # a question, but specifically a job enquiry
        ("Great job everyone, keep it up", "praise"),  # "job" inside "great job" is not a vacancy
        ("I'm a journalist, can I interview your CEO?", "press_inquiry"),
        ("FREE followers click here https://a.example https://b.example", "spam"),
        ("سفارشم هنوز نرسیده", "order_issue"),
        ("أقترح إضافة حليب الشوفان", "feedback"),
        ("what time do you open?", "question"),
        ("hello", None),
    ],
)
def test_builtin_intents(text: str, intent: str | None) -> None:
    result = one(text)
    assert result.intent == intent, result.reasons  # type: ignore[attr-defined]


def test_builtin_intent_department_comes_with_the_intent() -> None:
    assert one("are you hiring? I'd like to apply").department == "hr"  # type: ignore[attr-defined]
    assert one("hello").department is None  # type: ignore[attr-defined]


def test_urgency_levels() -> None:
    assert one("URGENT: I was charged twice").urgency == "high"  # type: ignore[attr-defined]
    assert one("awful, still broken", open_conversations=2).urgency == "high"  # type: ignore[attr-defined]
    assert one("awful, still broken", author_followers=9_999).urgency == "normal"  # type: ignore[attr-defined]
    assert one("thank you so much, amazing team!").urgency == "low"  # type: ignore[attr-defined]
    assert one("what time do you open?").urgency == "normal"  # type: ignore[attr-defined]
    # A journalist writing in is press, not a crisis; a customer threatening the press is.
    assert one("I'm a reporter at the Daily Post").urgency == "normal"  # type: ignore[attr-defined]
    assert one("I'm going to the press with this").urgency == "critical"  # type: ignore[attr-defined]


def test_custom_intents_with_english_examples() -> None:
    intents = [
        IntentDefinition(
            "refund", ("I want my money back", "please refund me", "refund my order"), "billing"
        ),
        IntentDefinition("opening_hours", ("what time do you open", "are you open on sunday"), "stores"),
    ]
    results = TRIAGER.triage(
        [
            TriageInput("I was refunded twice"),
            TriageInput("when do you open on saturday?"),
            TriageInput("nice cat"),
        ],
        intents,
    )
    assert [(r.intent, r.department) for r in results] == [
        ("refund", "billing"),
        ("opening_hours", "stores"),
        (None, None),
    ]
    miss = results[2]
    assert any(r.startswith("no intent matched (best ") and "< 0.30)" in r for r in miss.reasons)
    assert set(miss.scores["intent"]) == {"refund", "opening_hours"}


def test_custom_intents_without_examples_match_their_name() -> None:
    intents = [IntentDefinition("gift_cards", (), "sales")]
    assert TRIAGER.triage([TriageInput("do you sell gift cards")], intents)[0].intent == "gift_cards"


def test_language_hint_is_used() -> None:
    result = TRIAGER.triage([TriageInput("ok", lang="fa")])[0]
    assert result.lang == "fa" and any("hint" in r for r in result.reasons)


def test_batch_keeps_order_and_length() -> None:
    texts = ["thanks!", "", "ไม่ดี", "😡", "מעולה"]
    results = TRIAGER.triage([TriageInput(t) for t in texts])
    assert [r.sentiment for r in results] == ["positive", "neutral", "negative", "negative", "positive"]
    assert TRIAGER.triage([]) == []


def test_long_text_is_cut_with_a_reason() -> None:
    result = one("terrible " + "x " * 60_000)
    assert result.sentiment == "negative"  # type: ignore[attr-defined]
    assert any("first" in r and "characters" in r for r in result.reasons)  # type: ignore[attr-defined]


def test_builtin_examples_cover_every_intent_in_five_languages() -> None:
    from relaydesk.core.enums import BUILTIN_INTENTS
    from relaydesk.triage.builtin_intents import BUILTIN_INTENT_DEFINITIONS, EXAMPLES_BY_LANG
    from relaydesk.triage.langid import detect_language

    assert [d.name for d in BUILTIN_INTENT_DEFINITIONS] == list(BUILTIN_INTENTS)
    for name, by_lang in EXAMPLES_BY_LANG.items():
        assert set(by_lang) == {"en", "fa", "ar", "he", "th"}, name
        for lang, examples in by_lang.items():
            assert len(examples) >= 8, (name, lang)
            assert len(set(examples)) == len(examples), (name, lang)
            # Each example is recognisably in its language (guards against copy-paste slips).
            assert sum(detect_language(e).lang == lang for e in examples) >= len(examples) - 1, (name, lang)


def test_org_vocabulary_replaces_the_builtins_and_signals_stay() -> None:
    from relaydesk.triage.base import org_vocabulary
    from relaydesk.triage.builtin_intents import builtin_intent_definitions

    builtin = builtin_intent_definitions()
    org = [
        IntentDefinition("refund_request", ("I want my money back", "please refund my order"), "billing"),
        IntentDefinition("purchase_interest", department="sales-team"),  # listed by name only
    ]
    vocabulary = org_vocabulary(org, builtin)
    assert vocabulary is not None
    assert [(v.name, v.builtin, v.department) for v in vocabulary] == [
        ("refund_request", False, "billing"),
        ("purchase_interest", True, "sales-team"),
    ]
    assert vocabulary[1].examples  # the product's examples
    # departments for built-in intents only: the built-ins stay the vocabulary
    assert org_vocabulary([IntentDefinition("complaint", department="care")], builtin) is None

    buy, refund, angry, spam, crisis = TRIAGER.triage(
        [
            TriageInput("How much is the large cake? I want to buy one"),
            TriageInput("please refund my order, I want my money back"),
            TriageInput("This is unacceptable, terrible service"),
            TriageInput("FREE followers click here https://a.example https://b.example"),
            TriageInput("I'm going to the press with this"),
        ],
        vocabulary,
    )
    assert (buy.intent, buy.department) == ("purchase_interest", "sales-team")
    assert (refund.intent, refund.department) == ("refund_request", "billing")
    assert angry.intent is None and angry.complaint and not angry.spam
    assert spam.intent is None and spam.spam
    assert crisis.intent is None and crisis.crisis and crisis.urgency == "critical"
    # without an organisation vocabulary the same readings are built-in intents
    assert one("This is unacceptable, terrible service").intent == "complaint"  # type: ignore[attr-defined]
