"""What spam says, in five languages, and what a customer with a link or a giveaway question says."""

from __future__ import annotations

import pytest

from relaydesk.triage.spam_cues import read


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("check out my channel, new video every day http://example.net/v", "en"),
        ("f4f? follow me and I follow back", "en"),
        ("earn money from home, double your money with bitcoin", "en"),
        ("فالوور رایگان می‌خوای؟ پیج منو ببین", "fa"),
        ("کسب درآمد دلاری با ارز دیجیتال t.me/signals", "fa"),
        ("تابعوني وأتابعكم متابعة بمتابعة", "ar"),
        ("مبروك لقد ربحت آيفون، اضغط هنا bit.ly/x1", "ar"),
        ("זכית באייפון! לחצו כאן לקבלת הפרס", "he"),
        ("עקבו אחרי ואני עוקב בחזרה", "he"),
        ("ฝากร้านด้วยนะคะ ทักไลน์ได้เลย bit.ly/shop", "th"),
        ("รายได้เสริม ทำงานที่บ้าน ไม่ต้องลงทุน", "th"),
        ("http://spam.example.xyz/?ref=4436", "en"),
    ],
)
def test_spam(text: str, lang: str) -> None:
    assert read(text, lang).spam


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("my order 1234 arrived broken, photo here: https://imgur.com/a/xyz", "en"),
        ("how do I unsubscribe from your newsletter?", "en"),
        ("did I win your giveaway last week?", "en"),
        ("do you accept bitcoin at the counter?", "en"),
        ("I follow your page for years, the new menu is great", "en"),
        ("سفارشم نرسیده، کد پیگیری رو از کجا ببینم؟", "fa"),
        ("الطلب وصل ناقص، هذا رابط الصورة https://example.com/p/1", "ar"),
        ("איך מבטלים את המנוי לניוזלטר שלכם?", "he"),
        ("กาแฟวันนี้อร่อยมากค่ะ ขอบคุณนะคะ", "th"),
    ],
)
def test_not_spam(text: str, lang: str) -> None:
    assert not read(text, lang).spam


def test_a_urls_letters_are_not_words() -> None:
    # "bitcoin" inside a customer's link to the brand's own page is not a money cue
    assert read("see https://example.com/bitcoin-payments is this right?", "en").kinds == ("link",)


def test_a_customer_asking_to_be_followed_back_is_not_spam() -> None:
    assert not read("@brand I need you to follow back in order to DM", "en").spam
    assert read("free followers, follow me", "en").spam


def test_a_customer_with_a_photo_on_x_is_not_spam() -> None:
    # X writes an attached photo as a t.co link after the text
    assert not read("@brand please help http://t.co/t5mRj5Yw6I", "en").spam
    assert not read("@brand look http://imgur.com/a/xyz", "en").spam
