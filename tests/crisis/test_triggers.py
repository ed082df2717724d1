"""Trigger phrases in the five languages: whole words with their clitics, Thai anywhere, and
nothing in ordinary customer messages."""

from __future__ import annotations

import pytest

from relaydesk.crisis.triggers import TriggerSet, builtin, severity_of


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I got food poisoning at your Tehran branch", "food_poisoning"),
        ("بعد از غذای شما مسموم شدم", "food_poisoning"),
        ("أصيب ابني بتسمم غذائي بعد الأكل", "food_poisoning"),
        ("והרעלת מזון אחרי הארוחה אצלכם", "food_poisoning"),
        ("กินแล้วอาหารเป็นพิษ", "food_poisoning"),
        ("my son was injured by a broken chair", "injury"),
        ("ما از شما شکایت می‌کنم", "lawsuit"),  # ZWNJ in the verb
        ("سأقاضي الشركة", "lawsuit"),
        ("אני אתבע אתכם", "lawsuit"),
        ("จะฟ้องร้องบริษัท", "lawsuit"),
        ("Everyone should BOYCOTT them", "boycott"),
        ("قاطعوا هذا المنتج", "boycott"),
        ("נשת", None),
        ("نشت اطلاعات مشتریان", "data_leak"),
        ("ข้อมูลส่วนตัวหลุด", "data_leak"),
        ("the staff were racist to us", "discrimination"),
        ("אני עיתונאית ואשמח לתגובה", "press"),
        ("สวัสดีค่ะ สั่งกาแฟได้ไหม", None),
        ("I love your coffee, thank you", None),
        ("The sauce was a bit bland", None),
    ],
)
def test_categories(text: str, category: str | None) -> None:
    found = builtin().categories(text)
    if category is None:
        assert found == {}
    else:
        assert category in found


def test_an_organisations_own_phrases_and_severity() -> None:
    own = TriggerSet({"recall": ["product recall", "فراخوان محصول"]})
    assert own.categories("Is there a product recall?") == {"recall": ["product recall"]}
    assert "recall" in own.categories("فراخوان محصول اعلام شد")
    assert severity_of("boycott", 1) == "medium" and severity_of("boycott", 5) == "high"
    assert severity_of("injury", 1) == "high"
