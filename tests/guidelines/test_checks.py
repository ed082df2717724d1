from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relaydesk.guidelines.checks import Guideline, check_reply
from relaydesk.guidelines.faq import FaqAnswer, suggest
from relaydesk.triage.normalize import fold

RULES = [
    Guideline(
        "no-guarantees", "banned_phrase", {"phrases": ["we guarantee", "ما تضمین می‌کنیم"]}, "No guarantees"
    ),
    Guideline("short", "max_length", {"max_chars": 40}, "Keep it short"),
    Guideline("greet", "require_greeting", {}, "Greet"),
    Guideline("pii", "pii", {}, "No personal data"),
]


def kinds(findings: list[object]) -> set[str]:
    return {f.kind for f in findings}  # type: ignore[attr-defined]


def test_clean_reply_passes() -> None:
    assert check_reply("Hi Ann, we're on it!", RULES, language="en") == []


def test_each_guideline_fires() -> None:
    findings = check_reply(
        "We guarantee it. Call +44 20 7946 0958 or mail a@b.co now please", RULES, language="en"
    )
    assert kinds(findings) == {"banned_phrase", "max_length", "require_greeting", "pii"}
    assert all(f.severity == "block" for f in findings if f.kind in ("banned_phrase", "pii"))


def test_persian_phrase_matches_arabic_letter_variants_and_greeting() -> None:
    findings = check_reply("سلام، ما تضمين مي‌كنيم", RULES, language="fa")  # Arabic yeh/kaf
    assert kinds(findings) == {"banned_phrase"}


def test_card_number_in_persian_digits_is_caught_in_public_only() -> None:
    text = "سلام، کارت ۶۰۳۷ ۹۹۷۵ ۱۲۳۴ ۵۶۷۸"
    assert "pii" in kinds(check_reply(text, RULES, language="fa"))
    assert "pii" not in kinds(check_reply(text, RULES, language="fa", public=False))


def test_unknown_kind_and_regex_metacharacters_are_safe() -> None:
    rules = [
        Guideline("odd", "colour", {}, ""),
        Guideline("meta", "banned_phrase", {"phrases": ["(.*)+"]}, ""),
    ]
    findings = check_reply("hello (.*)+ world", rules)
    assert {f.guideline for f in findings} == {"odd", "meta"}


def test_language_guideline_uses_the_detector() -> None:
    rules = [Guideline("lang", "language", {}, "Answer in the customer's language")]
    assert check_reply("Hello there", rules, language="fa", detect_language=lambda t: "en")
    assert not check_reply("سلام", rules, language="fa", detect_language=lambda t: "fa")


def test_faq_suggestions_rank_the_matching_question_first() -> None:
    entries = [
        FaqAnswer("hours", "When are you open?", "8-20 daily", "en"),
        FaqAnswer("allergens", "Where can I find allergen information?", "At the counter", "en"),
        FaqAnswer("hours-th", "ร้านเปิดกี่โมงคะ", "7:00–21:00", "th"),
    ]
    assert suggest("what time are you open on sunday?", entries, "en")[0].key == "hours"
    assert suggest("ร้านเปิดกี่โมง", entries, "th")[0].key == "hours-th"
    assert suggest("", entries, "en") == []


def banned(*phrases: str) -> list[Guideline]:
    return [Guideline("banned", "banned_phrase", {"phrases": list(phrases)}, "Not in our voice")]


@pytest.mark.parametrize(
    ("phrase", "reply", "blocked"),
    [
        # English: whole words, not inside another word
        ("hell", "Hello Ann, thanks for writing!", False),
        ("hell", "Shell stations accept our card", False),
        ("hell", "What the hell happened?", True),
        ("hell", "HELL, no.", True),
        ("we guarantee", "We guarantee it.", True),
        ("we guarantee", "we guaranteed nothing", False),
        # Persian: letter variants and ZWNJ either way; attached endings count, other words do not
        ("ما تضمین می‌کنیم", "سلام، ما تضمين ميكنيم", True),
        ("تضمین", "این تضمینی است", True),
        ("احمق", "شما احمقید", True),
        ("بد", "بدون مشکل ارسال شد", False),
        ("بد", "خیلی بد بود", True),
        # Arabic: prefixed and suffixed clitics, but a short word stays whole
        ("كذب", "هذا كذب", True),
        ("كذب", "بالكذب لن نصل", True),
        ("كذب", "كذبهم واضح", True),
        ("سم", "هذا سم", True),
        ("سم", "بسم الله", False),
        ("سم", "ما اسمك؟ السمك طازج", False),
        # Hebrew: prefixes and endings, not a different word
        ("חרא", "והחרא הזה", True),
        ("רע", "זה רע מאוד", True),
        ("רע", "הרעיון טוב", False),
        ("רע", "אני רעב", False),
        # Thai: whole words of the segmented text, never a substring
        ("หมา", "คุณเป็นหมา", True),
        ("หมา", "หมากฝรั่งรสมิ้นต์หมดแล้วค่ะ", False),
        ("รับประกัน 100%", "เรารับประกัน 100% ค่ะ", True),
        ("ตา", "ตากล้องของเรามาถึงแล้ว", False),
    ],
)
def test_banned_phrases_match_whole_words_in_five_languages(phrase: str, reply: str, blocked: bool) -> None:
    found = check_reply(reply, banned(phrase))
    assert bool(found) is blocked, (phrase, reply)
    if blocked:
        assert found[0].severity == "block" and found[0].guideline == "banned"
        # The editor underlines the phrase itself, without the clitics around it.
        assert found[0].spans and all(_same_words(reply[a:b], phrase) for a, b in found[0].spans), (
            reply,
            [reply[a:b] for a, b in found[0].spans],
        )


def _same_words(span: str, phrase: str) -> bool:
    return fold(span) == fold(phrase) or fold(span, join_zwnj=True) == fold(phrase, join_zwnj=True)


def test_findings_say_where_in_the_draft_they_are() -> None:
    draft = "Hi Ann, we guarantee it. Call +44 20 7946 0958. We  Guarantee!"
    found = {f.kind: f for f in check_reply(draft, RULES, language="en")}
    assert [draft[a:b] for a, b in found["banned_phrase"].spans] == ["we guarantee", "We  Guarantee"]
    assert [draft[a:b] for a, b in found["pii"].spans] == ["+44 20 7946 0958"]
    assert found["max_length"].spans == ((40, len(draft)),)
    persian = "سلام، ما تضمین میکنیم که فردا برسد"  # written without the ZWNJ the rule has
    (finding,) = [f for f in check_reply(persian, RULES, language="fa") if f.kind == "banned_phrase"]
    assert [persian[a:b] for a, b in finding.spans] == ["ما تضمین میکنیم"]
    # A finding about the whole reply has nowhere to point.
    assert check_reply("ok", [Guideline("greet", "require_greeting", {}, "Greet")])[0].spans == ()


@given(st.text(alphabet=st.sampled_from(list("ab ـ‌َﻻ ＡÁทำ")), max_size=40))
def test_spans_stay_inside_the_draft_whatever_it_holds(prefix: str) -> None:
    draft = prefix + " we guarantee " + prefix
    (finding,) = check_reply(draft, banned("we guarantee"))
    for start, end in finding.spans:
        assert 0 <= start < end <= len(draft)
        assert fold(draft[start:end]) == "we guarantee"


def test_greeting_is_a_whole_word() -> None:
    greet = [Guideline("greet", "require_greeting", {}, "Greet")]
    assert check_reply("This is on its way", greet, language="en")  # "hi" inside "This"
    assert not check_reply("Hi! It is on its way", greet, language="en")
    assert not check_reply("สวัสดีค่ะ ของส่งแล้วนะคะ", greet, language="th")


def test_faq_questions_meet_messages_in_the_shared_matching_form() -> None:
    entries = [
        FaqAnswer("price", "قیمت کیک زعفرانی چند است؟", "۴۵۰ هزار تومان", "fa"),
        FaqAnswer("hours", "When are you open?", "8-20 daily", "en"),
    ]
    # Arabic yeh and kaf, tatweel, diacritics: the same question
    (best, *_) = suggest("قيمت كـيك زعفرانى چند است؟", entries, "fa")
    assert best.key == "price" and best.score > 0.9


@pytest.mark.parametrize(
    ("question", "message", "lang"),
    [
        ("When are you OPEN on Sunday?", "when are you open on sunday", "en"),
        ("أين أقرب فرع إلى المطار؟", "اين اقرب فرع الى المطار", "ar"),
        ("هل الكرواسون يحتوي على مكسرات؟", "هَلْ الكرواسون يحتوى علي مكسرات", "ar"),
        ("האם העוגה מכילה בוטנים?", "הַאִם הָעוּגָה מְכִילָה בּוֹטְנִים", "he"),
        ("ส่งฟรีเมื่อซื้อครบ 500 บาทใช่ไหม", "ส่งฟรีเมื่อซื้อครบ ๕๐๐ บาทใช่ไหม", "th"),
        ("آیا کیک زعفرانی گلوتن دارد؟", "ايا كيك زعفرانى گلوتن دارد", "fa"),
    ],
)
def test_faq_matching_ignores_spelling_variants_in_five_scripts(
    question: str, message: str, lang: str
) -> None:
    entries = [
        FaqAnswer("asked", question, "yes", lang),
        FaqAnswer("other", "Do you deliver to Haifa?", "no", "en"),
    ]
    found = suggest(message, entries, None)
    assert found and found[0].key == "asked" and found[0].score > 0.9, found
