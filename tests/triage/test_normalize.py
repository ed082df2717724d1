"""Matching-form normalisation: both sides of every cue comparison go through it."""

from __future__ import annotations

import pytest

from relaydesk.triage.normalize import (
    clauses,
    fold,
    normalize_for_matching,
    segment_thai,
    thai_word_ends,
    tokens,
)


def test_case_links_mentions_and_addresses_become_placeholders() -> None:
    text = "GREAT Job @Sara_K! see https://shop.example.com/x?id=1 or write to help@shop.example.com"
    assert normalize_for_matching(text) == "great job @USER ! see URL or write to EMAIL"


def test_emoji_stand_apart_without_skin_tone_or_presentation_selector() -> None:
    assert tokens("thanks👍🏽❤️❤️") == ["thanks", "👍", "❤", "❤"]
    assert tokens("ok :) <3") == ["ok", "🙂", "❤"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("soooo goooood", "soo good"),
        ("ههههههه", "هه"),
        ("!!!!!!", "!!"),
        ("1000 تومان", "1000 تومان"),  # digits are never squashed
        ("อร่อยมากกกกก", "อร่อย มาก"),  # Thai stretches drop to one letter before segmentation
    ],
)
def test_stretched_letters_are_squashed(text: str, expected: str) -> None:
    assert normalize_for_matching(text) == expected


def test_arabic_and_persian_letter_variants_are_unified() -> None:
    # Arabic yeh/kaf/teh marbuta/hamza forms -> the Persian forms used as the matching alphabet.
    assert normalize_for_matching("كيف الخدمة؟ أإآ ؤ ئ ى") == normalize_for_matching("کیف الخدمه؟ ااا و ی ی")
    assert normalize_for_matching("نرسيده") == normalize_for_matching("نرسیده")


def test_arabic_diacritics_tatweel_and_digits() -> None:
    assert normalize_for_matching("شُكْرًا جَزِيلًا") == "شکرا جزیلا"
    assert normalize_for_matching("ممنونــــم") == "ممنونم"
    assert normalize_for_matching("٣٠٠ و ۴۵") == "300 و 45"


def test_zero_width_characters() -> None:
    # ZWNJ separates for matching; other invisible characters vanish.
    assert normalize_for_matching("می\u200cخواهم") == "می خواهم"
    assert normalize_for_matching("he\u200bllo\u200d\ufeff") == "hello"
    assert normalize_for_matching("\u200f\u202bسلام\u202c") == "سلام"


def test_hebrew_niqqud_and_abbreviation_marks() -> None:
    assert normalize_for_matching("תּוֹדָה רַבָּה") == "תודה רבה"
    assert tokens('צה"ל ובע״מ') == ["צהל", "ובעמ"]


def test_thai_is_segmented_into_words() -> None:
    assert tokens("สินค้าไม่ดีเลย") == ["สินค้า", "ไม่", "ดี", "เลย"]
    assert segment_thai("no thai here") == "no thai here"
    assert tokens("ดีเซล") == ["ดีเซล"]  # "ดี" (good) stays inside its word


def test_clauses_split_at_punctuation_in_every_script() -> None:
    assert clauses("not bad, actually good. really!") == [["not", "bad"], ["actually", "good"], ["really"]]
    assert clauses("خوب نیست، ولی ارزونه؟ آره") == [["خوب", "نیست"], ["ولی", "ارزونه"], ["اره"]]


@pytest.mark.parametrize("text", ["", "   ", "\ud800", "😀", "a" * 100_000, "\x00"])
def test_bad_input_never_raises(text: str) -> None:
    assert isinstance(normalize_for_matching(text), str)
    assert isinstance(tokens(text), list)


def test_lone_surrogates_do_not_survive() -> None:
    out = normalize_for_matching("abc\ud800def")
    out.encode("utf-8")  # would raise on a surrogate
    assert out.startswith("abc") and out.endswith("def")


@pytest.mark.parametrize(
    ("variants", "lang"),
    [
        (["Refund", "REFUND", "ｒｅｆｕｎｄ"], "en"),
        (["straße", "STRASSE"], "en"),
        (["خانه", "خانۀ", "خانهٔ", "خانة"], "fa"),
        (["امازون", "آمازون", "أمازون", "إمازون"], "fa"),
        (["کیک", "كيك", "کیـــک"], "fa"),
        (["میخواهم", "می\u200cخواهم"], "fa"),  # with join_zwnj: the ZWNJ disappears
        (["مستشفى", "مستشفي", "مُسْتَشْفَى"], "ar"),
        (["مسؤول", "مسوول"], "ar"),
        (["שלום", "שָׁלוֹם", "\u200fשלום\u200f"], "he"),
        (['צה"ל', "צה״ל", "צהל"], "he"),
        (["404", "๔๐๔", "۴۰۴", "٤٠٤", "४०४", "৪০৪", "４０４"], "th"),
        (["ทำงาน", "ท\u0e4d\u0e32งาน"], "th"),  # sara am, whole or split
        (["แย่มาก", "เเย่มาก"], "th"),  # sara ae, or two sara e
    ],
)
def test_fold_gives_one_form_for_the_spellings_of_a_word(variants: list[str], lang: str) -> None:
    forms = {fold(v, join_zwnj=True) for v in variants}
    assert len(forms) == 1, (lang, forms)


def test_fold_zwnj_is_a_space_unless_joined_and_whitespace_collapses() -> None:
    assert fold("می\u200cخواهم") == "می خواهم"
    assert fold("می\u200cخواهم", join_zwnj=True) == "میخواهم"
    assert fold("  a \n\t b ") == "a b"
    assert fold("") == ""


def test_triage_matching_form_starts_from_fold() -> None:
    # the digits and letters triage compares are the ones rules and guidelines compare
    assert normalize_for_matching("خانۀ آمازون ๔๐๔") == "خانه امازون 404"


def test_thai_word_ends_are_offsets_in_the_text() -> None:
    text = "ok คุณเป็นหมา!"
    assert thai_word_ends(text) == [6, 10, 13]
    assert thai_word_ends("no thai") == []


def test_thai_sara_am_survives_nfkc_so_words_segment_whole() -> None:
    assert tokens("ทำงานไม่ได้") == ["ทำงาน", "ไม่", "ได้"]
    assert tokens("เเย่มาก") == tokens("แย่มาก")
