"""Saved replies' variables and language variants: pure, no database."""

from __future__ import annotations

import pytest

from relaydesk.conversations.variables import choose, fill, first_name, unknown_variables


@pytest.mark.parametrize(
    ("name", "first"),
    [
        ("مریم احمدی", "مریم"),  # Persian
        ("علی‌رضا موسوی", "علی‌رضا"),  # the zero-width non-joiner keeps the given name one word
        ("فاطمة الزهراء", "فاطمة"),  # Arabic
        ("عبد الله الخطيب", "عبد الله"),  # a compound given name in two words
        ("สมชาย ใจดี", "สมชาย"),  # Thai
        ("  נועה   כהן ", "נועה"),  # Hebrew, stray spaces
        ("Madonna", "Madonna"),
        ("", ""),
        (None, ""),
    ],
)
def test_first_name_is_the_first_word(name: str | None, first: str) -> None:
    assert first_name(name) == first


def test_fill_replaces_every_allowed_variable() -> None:
    text = (
        "سلام {customer.first_name}! {agent.first_name} ({agent.name}) از {location.name} — {customer.name}"
    )
    values = {"customer.name": "مریم احمدی", "agent.name": "Sam Service", "location.name": "Vanak"}
    assert fill(text, values) == "سلام مریم! Sam (Sam Service) از Vanak — مریم احمدی"


def test_missing_values_become_empty_never_the_placeholder() -> None:
    filled = fill("สวัสดีค่ะคุณ{customer.first_name} จาก {location.name}", {"customer.name": None})
    assert filled == "สวัสดีค่ะคุณ จาก "
    assert "{" not in fill("{agent.first_name}{agent.name}{customer.name}", {})


def test_filled_values_are_not_filled_again() -> None:
    # A customer who calls themselves "{agent.name}" gets exactly that, not the agent's name.
    assert (
        fill("Hi {customer.name}", {"customer.name": "{agent.name}", "agent.name": "Sam"})
        == "Hi {agent.name}"
    )


def test_unknown_variables_with_their_offsets() -> None:
    found = unknown_variables("Hi {customer.first_name}, {customer.phone} and {} {مشتری}")
    assert [(v.name, v.offset) for v in found] == [("customer.phone", 26), ("", 47), ("مشتری", 50)]
    assert unknown_variables("Hi {customer.first_name}, from {location.name}") == []


TEXTS = {"en": "Hello", "fa": "سلام", "ar": "مرحباً", "th": "สวัสดีค่ะ"}


@pytest.mark.parametrize(
    ("conversation", "agent", "expected"),
    [
        ("fa", ["th"], ("fa", "سلام")),  # the conversation's language first
        ("fa-IR", ["th"], ("fa", "سلام")),  # a regional code finds its language
        ("he", ["ar", "en"], ("ar", "مرحباً")),  # else the agent's first language
        ("he", ["he"], ("en", "Hello")),  # else English
        (None, [], ("en", "Hello")),
    ],
)
def test_variant_choice(conversation: str | None, agent: list[str], expected: tuple[str, str]) -> None:
    assert choose(TEXTS, conversation, agent) == expected


def test_without_english_the_first_text_is_used() -> None:
    assert choose({"th": "สวัสดีค่ะ", "fa": "سلام"}, "he", ["he"]) == ("th", "สวัสดีค่ะ")
    assert choose({}, "fa", ["fa"]) is None
