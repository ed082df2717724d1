"""The guideline kinds beyond phrases: tone, the agent's name, network lengths, links, own patterns,
personal data in every digit set, and each guideline's own severity; in the five languages."""

from __future__ import annotations

import pytest

from relaydesk.guidelines.checks import Guideline, check_reply
from relaydesk.guidelines.guideline_kinds import clean_params
from relaydesk.guidelines.patterns import PatternProblem, check_pattern, find
from relaydesk.guidelines.text_limits import cut_at, x_weighted_length
from relaydesk.guidelines.voice import tone_hits

TONE = Guideline("tone", "tone", {}, "Keep it calm and kind")


@pytest.mark.parametrize(
    ("reply", "tone"),
    [
        ("As we already told you, it is your fault.", "blame"),
        ("Yeah right, good luck with that.", "sarcasm"),
        ("We guarantee it will never happen again.", "promise"),
        ("PLEASE STOP writing to us", "all_caps"),
        ("Thanks!!! See you", "exclamation"),
        ("این تقصیر خودتان است که دیر سفارش دادید", "blame"),
        ("قول می‌دهیم فردا برسد", "promise"),
        ("آره جون خودت", "sarcasm"),
        ("هذا خطأك وليس خطأنا", "blame"),
        ("أعدك أن هذا لن يتكرر أبدا", "promise"),
        ("يا سلام عليك 🙄", "sarcasm"),
        ("שלום, זו אשמתך", "blame"),
        ("אנחנו מבטיחים שזה לא יקרה שוב", "promise"),
        ("בטח בטח", "sarcasm"),
        ("ไม่ใช่ความผิดของเรา ค่ะ", "blame"),
        ("รับประกันว่าจะส่งถึงพรุ่งนี้", "promise"),
        ("เก่งจังเลยนะ", "sarcasm"),
        ("ขอบคุณค่ะ!!!", "exclamation"),
    ],
)
def test_tone_is_found_in_five_languages(reply: str, tone: str) -> None:
    findings = check_reply(reply, [TONE])
    assert [f.kind for f in findings] == ["tone"] * len(findings)
    assert any(f.detail.startswith(tone.replace("_", " ")) for f in findings), findings
    for f in findings:
        assert f.severity == "warn"
        assert all(0 <= s < e <= len(reply) for s, e in f.spans)


@pytest.mark.parametrize(
    "reply",
    [
        "Hello Dana, your parcel left today. Our FAQ on the USA site has the details.",
        "سلام، سفارش شما امروز ارسال شد. ممنون از صبرتان!",
        "مرحبا، تم شحن طلبك اليوم. شكرا لصبرك!",
        "שלום, ההזמנה שלך נשלחה היום. תודה על הסבלנות!",
        "สวัสดีค่ะ สินค้าของคุณจัดส่งแล้ววันนี้ ขอบคุณค่ะ!",
        "The blame game helps nobody; we will fix it.",  # "blame" is a word, not blaming
    ],
)
def test_a_kind_reply_has_no_tone_finding(reply: str) -> None:
    assert check_reply(reply, [TONE]) == []


def test_tone_checks_only_the_tones_asked_for() -> None:
    reply = "WE ARE SORRY!!! It is your fault"
    only_caps = Guideline("caps", "tone", {"tones": ["all_caps"]})
    assert [f.detail.split(":")[0] for f in check_reply(reply, [only_caps])] == ["all caps"]
    assert {h.tone for h in tone_hits(reply)} == {"all_caps", "exclamation", "blame"}


@pytest.mark.parametrize(
    ("name", "signed", "unsigned"),
    [
        ("Sam Lee", "Hi, I'm Sam and I'll help.", "Hi, we'll help."),
        ("سارا احمدی", "سلام، سارا هستم.", "سلام، در خدمتیم."),
        ("ليلى حسن", "مرحبا، معك ليلى.", "مرحبا، نحن هنا."),
        ("נועה כהן", "שלום, כאן נועה.", "שלום, אנחנו כאן."),
        ("สมชาย ใจดี", "สวัสดีครับ สมชายยินดีให้บริการครับ", "สวัสดีครับ ยินดีให้บริการครับ"),
    ],
)
def test_a_reply_is_signed_with_the_agents_first_name(name: str, signed: str, unsigned: str) -> None:
    rule = Guideline("signed", "require_name", {}, "Sign with your first name")
    assert check_reply(signed, [rule], agent_name=name) == []
    found = check_reply(unsigned, [rule], agent_name=name)
    assert len(found) == 1 and name.split()[0] in found[0].detail
    assert check_reply(unsigned, [rule], agent_name=None) == []  # nobody to sign: nothing to ask


def test_x_counts_weighted_characters_and_links_as_23() -> None:
    assert x_weighted_length("hello") == 5
    assert x_weighted_length("سلام دنیا") == 9  # Arabic script weighs 1
    assert x_weighted_length("สวัสดีครับ") == 10  # Thai weighs 1
    assert x_weighted_length("日本") == 4  # CJK weighs 2
    assert x_weighted_length("👍🏽") == 2 and x_weighted_length("👨‍👩‍👧") == 2  # one emoji, however built
    assert x_weighted_length("see https://example.com/a/very/long/path?query=1") == 4 + 23


def test_network_length_is_counted_as_each_network_counts() -> None:
    rule = Guideline("fits", "network_length", {})
    persian = "سلام " * 60  # 300 characters
    on_x = check_reply(persian, [rule], network="x")
    assert len(on_x) == 1 and "300 weighted characters > 280 on x" in on_x[0].detail
    assert on_x[0].severity == "block"
    assert on_x[0].spans == ((cut_at(persian, "x", 280), len(persian)),)
    assert check_reply(persian, [rule], network="whatsapp") == []
    assert check_reply(persian, [rule], network="email") == []
    assert check_reply(persian, [rule], network=None) == []
    # 2,500 characters fit a Facebook comment (8,000) but not a Messenger message (2,000).
    long_reply = "ขอบคุณ" * 420
    assert check_reply(long_reply, [rule], network="facebook", public=True) == []
    assert check_reply(long_reply, [rule], network="facebook", public=False)[0].kind == "network_length"
    own = Guideline("short on x", "network_length", {"limits": {"x": 100}})
    assert check_reply("a" * 150, [own], network="x")[0].detail.endswith("> 100 on x")


def test_links_only_to_allowed_domains() -> None:
    rule = Guideline("links", "allowed_links", {"domains": ["shop.example"]}, "Link only to our site")
    ok = "Track it at https://help.shop.example/track?id=1 or www.shop.example."
    assert check_reply(ok, [rule]) == []
    bad = "سلام، اینجا را ببینید: https://evil.test/x و shop.example/ok"
    found = check_reply(bad, [rule])
    assert len(found) == 1 and found[0].severity == "block" and "evil.test" in found[0].detail
    assert [bad[s:e] for s, e in found[0].spans] == ["https://evil.test/x"]


@pytest.mark.parametrize(
    ("reply", "label"),
    [
        ("Call me on +1 415 555 0199", "phone number"),
        ("شماره من ۰۹۱۲۳۴۵۶۷۸۹ است", "phone number"),
        ("رقم البطاقة ٤٥٣٢ ١٢٣٤ ٥٦٧٨ ٩٠١٢", "card number"),
        ("הזמנה מס' 48213", "order number"),
        ("เลขที่คำสั่งซื้อ #๑๒๓๔๕", "order number"),
        ("write to dana@shop.example", "email address"),
    ],
)
def test_personal_data_in_any_digit_set_moves_to_private(reply: str, label: str) -> None:
    rule = Guideline("private", "pii", {})
    found = check_reply(reply, [rule], public=True)
    assert len(found) == 1 and label in found[0].detail and "private message" in found[0].detail
    assert check_reply(reply, [rule], public=False) == []


def test_own_patterns_are_refused_when_invalid_or_slow_and_time_limited_when_run() -> None:
    for bad in ("(a+)+$", r"(\w+\s?)+$", "[unclosed", "x*", ""):
        with pytest.raises(PatternProblem):
            check_pattern(bad)
    check_pattern(r"refund\s+in\s+\d+\s+days")
    assert clean_params("pattern", {"pattern": "(a+)+$"})[1][0][0] == "pattern"
    rule = Guideline("no promises of days", "pattern", {"pattern": r"refund\s+in\s+\d+\s+days"})
    found = check_reply("You get a REFUND in ٣ days", [rule])
    assert found[0].detail == 'matches "REFUND in ٣ days"' and found[0].severity == "warn"
    # A pattern that slipped past the save (written to the database by hand) cannot hold a reply.
    assert find("(a+)+$", "a" * 5000 + "!", budget_s=0.005).timed_out
    slow = Guideline("slow", "pattern", {"pattern": "(a+)+$"})
    assert "took too long" in check_reply("a" * 5000 + "!", [slow])[0].detail


def test_a_guideline_sets_its_own_severity() -> None:
    text = "We guarantee it"
    assert check_reply(text, [Guideline("p", "tone", {})])[0].severity == "warn"
    assert check_reply(text, [Guideline("p", "tone", {}, severity="block")])[0].severity == "block"
    banned = Guideline("b", "banned_phrase", {"phrases": ["guarantee"]}, severity="suggest")
    assert check_reply(text, [banned])[0].severity == "suggest"
