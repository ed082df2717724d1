"""Language identification: the five first-class languages, their short-text traps, bad input."""

from __future__ import annotations

import threading

import pytest

from relaydesk.triage.langid import LangGuess, detect_language, detect_languages


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Hi, my order hasn't arrived yet and nobody answers the phone", "en"),
        ("thx guys", "en"),
        ("سلام، سفارشم هنوز نرسیده و کسی جواب نمیده", "fa"),
        ("مرحبا، طلبي لم يصل حتى الآن ولا أحد يرد", "ar"),
        ("שלום, ההזמנה שלי עדיין לא הגיעה", "he"),
        ("สวัสดีค่ะ สั่งของไปแต่ยังไม่ได้รับเลย", "th"),
    ],
)
def test_sentences_in_the_five_languages(text: str, lang: str) -> None:
    guess = detect_language(text)
    assert guess.lang == lang, guess
    assert 0.0 < guess.confidence <= 1.0


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("چطوری", "fa"),  # چ never occurs in Arabic
        ("گوشی خوبیه", "fa"),
        ("ای بابا", "fa"),
        ("كيفك", "ar"),  # Arabic kaf and yeh
        ("شكرا", "ar"),
        ("متى يصل الطلب", "ar"),
        # Persian typed on an Arabic keyboard (ي ك) is still Persian: the words tell.
        ("گوشي خوبيه، ولي به صرفه نيست", "fa"),
        ("من اين گوشي رو خريدم", "fa"),
    ],
)
def test_short_persian_and_arabic_are_told_apart(text: str, lang: str) -> None:
    assert detect_language(text).lang == lang, detect_language(text)


def test_hebrew_with_niqqud_and_thai_without_spaces() -> None:
    assert detect_language("שָׁלוֹם, תּוֹדָה רַבָּה").lang == "he"
    assert detect_language("ไม่ดีเลยค่ะ").lang == "th"
    assert detect_language("เค้กราคาเท่าไหร่คะ").lang == "th"


def test_stretched_hebrew_is_not_yiddish() -> None:
    assert detect_language("הצלחתווווווווו").lang == "he"


def test_hashtags_carry_language_but_mentions_and_links_do_not() -> None:
    assert detect_language("#خدمة_سيئة #لا_انصح_به").lang == "ar"
    assert detect_language("@someone https://example.com/path?q=1").lang == "und"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t",
        "😡😡😡",
        "👍🏽❤️",
        "https://example.com/a/b",
        "www.shop.ir",
        "12345 !!! ???",
        "@user",
        "\u200b\u200c",
    ],
)
def test_texts_without_words_are_undetermined(text: str) -> None:
    guess = detect_language(text)
    assert guess == LangGuess("und", 0.0, guess.reason)
    assert guess.reason


def test_bad_input_never_raises() -> None:
    for text in ("abc \ud800 def \udfff", "x" * 100_000, "سلام " * 30_000, "\x00\x01\x02", None, 42):
        guess = detect_language(text)  # type: ignore[arg-type]
        assert isinstance(guess, LangGuess)
    assert detect_language(None).lang == "und"  # type: ignore[arg-type]


def test_only_the_head_of_a_long_text_is_read() -> None:
    # 5,000 characters of English, then Hebrew: only the English head is read.
    assert detect_language("Where is my parcel? " * 250 + "ההזמנה שלי " * 5000).lang == "en"


def test_mixed_scripts_follow_the_majority() -> None:
    assert detect_language("سفارشم نرسیده هنوز، order 4471").lang == "fa"


def test_batch_matches_single_calls_and_keeps_order() -> None:
    texts = ["hello, where is my order?", "", "שלום", "ราคาเท่าไหร่", "چنده؟"]
    assert detect_languages(texts) == [detect_language(t) for t in texts]
    assert detect_languages([]) == []


def test_concurrent_first_use_is_safe() -> None:
    results: list[str] = []

    def work() -> None:
        results.append(detect_language("thank you so much for the quick help").lang)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["en"] * 8
