from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from relaydesk.routing.rules import (
    Keyword,
    RouteInput,
    RuleError,
    compile_rules,
    evaluate,
    explain,
    validate_rules,
)
from relaydesk.triage.normalize import fold

DEPTS = {"sales", "service", "support", "pr", "hr"}


def make_input(**overrides: Any) -> RouteInput:
    base = RouteInput(
        channel="instagram",
        account_key="brand_ig",
        location_keys=["berlin-mitte", "berlin", "de", "eu"],
        language="en",
        intent="question",
        intent_department=None,
        sentiment="neutral",
        stage="unknown",
        urgency="normal",
        text="hello there",
        contact={},
        at=datetime(2024, 5, 8, 12, 0, tzinfo=UTC),  # a Wednesday
        timezone="UTC",
        default_department="service",
    )
    return replace(base, **overrides)


def route(rules: list[dict[str, Any]], **overrides: Any):
    return evaluate(compile_rules(rules, DEPTS), make_input(**overrides))


def matches(when: dict[str, Any], **overrides: Any) -> bool:
    decision = route([{"name": "r", "when": when, "then": {"department": "sales"}}], **overrides)
    return decision.matched_rules == ["r"]


# ---------------------------------------------------------------- single conditions


@pytest.mark.parametrize(
    ("when", "overrides", "expected"),
    [
        ({"channel": ["instagram", "facebook"]}, {}, True),
        ({"channel": "email"}, {}, False),
        ({"account": ["brand_ig"]}, {}, True),
        ({"account": ["brand_fb"]}, {}, False),
        ({"language": ["fa", "ar"]}, {"language": "fa"}, True),
        ({"language": ["fa", "ar"]}, {"language": "he"}, False),
        ({"language": "pt"}, {"language": "pt-BR"}, True),
        ({"language": "pt-br"}, {"language": "pt"}, False),
        ({"language": "en"}, {"language": None}, False),
        ({"intent": ["purchase_interest"]}, {"intent": "purchase_interest"}, True),
        ({"intent": ["purchase_interest"]}, {"intent": "complaint"}, False),
        ({"intent": [None]}, {"intent": None}, True),
        ({"intent": None}, {"intent": None}, True),
        ({"intent": [None, "spam"]}, {"intent": "question"}, False),
        ({"intent": ["question"]}, {"intent": None}, False),
        ({"sentiment": "negative"}, {"sentiment": "negative"}, True),
        ({"sentiment": ["negative"]}, {"sentiment": "neutral"}, False),
        ({"stage": ["pre_purchase", "purchase"]}, {"stage": "purchase"}, True),
        ({"stage": ["pre_purchase"]}, {"stage": "post_purchase"}, False),
        ({"urgency": ["critical"]}, {"urgency": "critical"}, True),
        ({"urgency": ["critical"]}, {"urgency": "high"}, False),
    ],
)
def test_member_conditions(when: dict[str, Any], overrides: dict[str, Any], expected: bool) -> None:
    assert matches(when, **overrides) is expected


@pytest.mark.parametrize(
    ("urgency", "expected"), [("low", False), ("normal", False), ("high", True), ("critical", True)]
)
def test_urgency_at_least(urgency: str, expected: bool) -> None:
    assert matches({"urgency_at_least": "high"}, urgency=urgency) is expected


def test_location_matches_any_ancestor() -> None:
    assert matches({"location": ["de"]})  # an ancestor
    assert matches({"location": ["berlin-mitte"]})  # the location itself
    assert not matches({"location": ["fr", "paris"]})
    assert not matches({"location": ["de"]}, location_keys=[])


def test_all_keys_must_match() -> None:
    when = {"channel": "instagram", "intent": "complaint"}
    assert matches(when, intent="complaint")
    assert not matches(when, intent="complaint", channel="email")


def test_empty_when_matches_everything() -> None:
    decision = route([{"name": "all", "then": {"tags": ["seen"]}}])
    assert decision.matched_rules == ["all"]
    assert decision.tags == ["seen"]
    assert "matches every message" in decision.trace[0].checks[0]


# ---------------------------------------------------------------- contact


@pytest.mark.parametrize(
    ("cond", "contact", "expected"),
    [
        ({"vip": True}, {"vip": True}, True),
        ({"vip": True}, {}, False),
        ({"vip": False}, {}, True),
        ({"followers_at_least": 10000}, {"followers": 10000}, True),
        ({"followers_at_least": 10000}, {"followers": 9999}, False),
        ({"followers_at_least": 1}, {"followers": None}, False),
        ({"open_conversations_at_least": 2}, {"open_conversations": 3}, True),
        ({"purchases_at_least": 1}, {"purchases": 0}, False),
        ({"purchases_at_least": 1}, {"purchases": 4}, True),
        ({"attributes": {"tier": "gold"}}, {"attributes": {"tier": "Gold"}}, True),
        ({"attributes": {"tier": ["gold", "platinum"]}}, {"attributes": {"tier": "platinum"}}, True),
        ({"attributes": {"tier": "gold"}}, {"attributes": {"tier": "silver"}}, False),
        ({"attributes": {"tier": "gold"}}, {}, False),
        ({"attributes": {"beta": True}}, {"attributes": {"beta": 1}}, False),
        ({"attributes": {"beta": True}}, {"attributes": {"beta": True}}, True),
        ({"vip": True, "followers_at_least": 100}, {"vip": True, "followers": 50}, False),
    ],
)
def test_contact_conditions(cond: dict[str, Any], contact: dict[str, Any], expected: bool) -> None:
    assert matches({"contact": cond}, contact=contact) is expected


# ---------------------------------------------------------------- keywords


@pytest.mark.parametrize(
    ("keyword", "text", "expected"),
    [
        # English: case-insensitive, whole words only
        ("refund", "I want a REFUND now", True),
        ("refund", "non-refundable ticket", False),
        ("refund", "refund!", True),
        ("money back", "I want my  money\nback", True),
        ("café", "the CAFÉ was closed", True),
        # Persian, with Arabic letter variants typed by the customer
        ("قیمت", "قيمت اين چنده؟", True),  # Arabic yeh in the text
        ("کفش", "كفش موجوده؟", True),  # Arabic kaf in the text
        ("قيمت", "قیمت چنده", True),  # Arabic yeh in the keyword, Persian in the text
        ("میخواهم", "می\u200cخواهم پس بدم", True),  # ZWNJ in the text
        ("سفارش", "سفـــارش من کجاست", True),  # tatweel
        # Arabic: diacritics, teh marbuta, substring inside a clitic-attached word
        ("مشكلة", "عندي مُشْكِلَة في الطلب", True),
        ("مشكله", "عندي مشكلة", True),
        ("سعر", "والسعر كم؟", True),
        ("استرجاع", "أريد الاسترجاع", True),
        ("أريد", "اريد المساعدة", True),
        # Hebrew with niqqud
        ("החזר", "אני רוצה הֶחְזֵר כספי", True),
        ("החזר", "שלום", False),
        # Thai: no spaces, substring
        ("คืนเงิน", "ฉันต้องการคืนเงินค่ะ", True),
        ("คืนเงิน", "สินค้าดีมาก", False),
        # Digits unify across scripts
        ("404", "خطای ۴۰۴ میده", True),
    ],
)
def test_keywords_multilingual_existing(keyword: str, text: str, expected: bool) -> None:
    assert matches({"keywords": [keyword]}, text=text) is expected


@pytest.mark.parametrize(
    ("keyword", "text", "expected"),
    [
        ("c++", "do you teach C++ classes?", True),
        ("c++", "do you teach c classes?", False),
        ("a.b", "a.b", True),
        ("a.b", "axb", False),  # "." is literal, not "any char"
        ("(refund)", "want (refund) pls", True),
        ("50%", "is it 50% off", True),
        ("[x]", "x", False),
        ("$price", "what is the $price", True),
        ("refund", "(.*)+$ refund ((((", True),  # regex syntax in customer text is just text
        ("refund", "a" * 5000 + "(((", False),
        ("!!!", "wow!!!", True),
        ("\\d+", "123", False),
    ],
)
def test_keywords_with_regex_metacharacters(keyword: str, text: str, expected: bool) -> None:
    assert matches({"keywords": [keyword]}, text=text) is expected


def test_keywords_any_of_and_trace_names_keyword_not_text() -> None:
    decision = route(
        [{"name": "r", "when": {"keywords": ["refund", "return"]}, "then": {"tags": ["money"]}}],
        text="secret-customer-detail: I'd like to RETURN this",
    )
    assert decision.matched_rules == ["r"]
    joined = "\n".join(decision.trace[0].checks)
    assert "found 'return'" in joined
    assert "secret-customer-detail" not in explain(decision)


def test_keywords_use_the_shared_normaliser() -> None:
    assert fold("  ÇA  Va\t") == "ça va"
    assert fold("يك") == "یک"
    assert fold("مدرسة") == "مدرسه"
    assert fold("شَمْس") == "شمس"
    assert fold("שָׁלוֹם") == "שלום"
    assert fold("ﻻ") == "لا"  # presentation form
    assert fold("a\u202eb") == "ab"  # bidi override removed
    assert Keyword.parse("قيمة").normalized == fold("قیمه")


@pytest.mark.parametrize(
    ("keyword", "text", "expected"),
    [
        # Thai digits, and a number glued to Thai words
        ("404", "เว็บขึ้น error ๔๐๔ ค่ะ", True),
        ("404", "เว็บขึ้น๔๐๔ค่ะ", True),
        ("404", "รหัส ๑๔๐๔๕", False),
        ("refund", "ขอ refundค่ะ", True),
        # Arabic/Persian alef with madda, Persian heh with yeh above (ezafe), in both directions
        ("امازون", "سفارشم از آمازون نرسید", True),
        ("آمازون", "طلبت من امازون", True),
        ("خانه", "تحویل درب خانۀ من", True),
        ("خانۀ", "تحویل به خانه", True),
        ("خانه", "تحویل درب خانهٔ من", True),  # ۀ typed as heh + hamza above
        # ZWNJ, space or nothing between Persian verb prefix and stem
        ("می‌خواهم", "میخواهم پس بدم", True),
        ("میخواهم", "می‌خواهم پس بدم", True),
        # Hebrew: geresh/gershayim spelt either way, niqqud
        ('צה"ל', "חייל צה״ל הזמין", True),
        ("שָׁלוֹם", "שלום לכם", True),
        # English case folding
        ("STRASSE", "Straße 5, Berlin", True),
        # Arabic: alef maksura / yeh, hamza seats, Arabic-Indic digits
        ("مستشفى", "انا في المستشفي", True),
        ("إلغاء", "ابي الغاء الطلب رقم ٤٠٤", True),
        ("404", "ابي الغاء الطلب رقم ٤٠٤", True),
    ],
)
def test_keywords_use_one_normaliser_in_five_scripts(keyword: str, text: str, expected: bool) -> None:
    assert matches({"keywords": [keyword]}, text=text) is expected


# ---------------------------------------------------------------- time windows


def night_rule(days: list[str] | None = None) -> dict[str, Any]:
    cond: dict[str, Any] = {"between": ["18:00", "08:00"]}
    if days is not None:
        cond["days"] = days
    return {"name": "night", "when": {"time": cond}, "then": {"tags": ["after-hours"]}}


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        # Asia/Tehran is UTC+03:30 all year (no DST since 2022)
        (datetime(2024, 5, 8, 14, 29, tzinfo=UTC), False),  # 17:59 local
        (datetime(2024, 5, 8, 14, 30, tzinfo=UTC), True),  # 18:00 local
        (datetime(2024, 5, 8, 20, 30, tzinfo=UTC), True),  # 00:00 local (next day)
        (datetime(2024, 5, 9, 4, 29, tzinfo=UTC), True),  # 07:59 local
        (datetime(2024, 5, 9, 4, 30, tzinfo=UTC), False),  # 08:00 local
        (datetime(2024, 5, 9, 9, 0, tzinfo=UTC), False),  # 12:30 local
    ],
)
def test_time_window_spanning_midnight_in_zone(utc: datetime, expected: bool) -> None:
    decision = route([night_rule()], at=utc, timezone="Asia/Tehran")
    assert (decision.matched_rules == ["night"]) is expected


def test_time_window_uses_local_zone_not_utc() -> None:
    # 20:00 UTC is 22:00 in Berlin (summer) but 13:00 in Los Angeles.
    at = datetime(2024, 7, 1, 20, 0, tzinfo=UTC)
    assert route([night_rule()], at=at, timezone="Europe/Berlin").matched_rules == ["night"]
    assert route([night_rule()], at=at, timezone="America/Los_Angeles").matched_rules == []


def test_overnight_window_belongs_to_the_day_it_opened() -> None:
    # Friday-night shift: Friday 18:00 -> Saturday 08:00 in Berlin.
    rule = night_rule(["fri"])
    sat_0300 = datetime(2024, 5, 11, 1, 0, tzinfo=UTC)  # Sat 03:00 CEST
    fri_0300 = datetime(2024, 5, 10, 1, 0, tzinfo=UTC)  # Fri 03:00 CEST (Thursday's night)
    fri_2000 = datetime(2024, 5, 10, 18, 0, tzinfo=UTC)  # Fri 20:00 CEST
    assert route([rule], at=sat_0300, timezone="Europe/Berlin").matched_rules == ["night"]
    assert route([rule], at=fri_0300, timezone="Europe/Berlin").matched_rules == []
    assert route([rule], at=fri_2000, timezone="Europe/Berlin").matched_rules == ["night"]


def test_days_only_and_daytime_window() -> None:
    weekend = {"name": "w", "when": {"time": {"days": ["sat", "sun"]}}, "then": {"tags": ["weekend"]}}
    # 2024-05-11 is a Saturday; 23:30 UTC Friday is already Saturday in Tokyo.
    assert route([weekend], at=datetime(2024, 5, 11, 10, 0, tzinfo=UTC)).matched_rules == ["w"]
    fri_late = datetime(2024, 5, 10, 23, 30, tzinfo=UTC)
    assert route([weekend], at=fri_late).matched_rules == []
    assert route([weekend], at=fri_late, timezone="Asia/Tokyo").matched_rules == ["w"]
    office = {"name": "o", "when": {"time": {"between": ["09:00", "17:00"]}}, "then": {}}
    assert route([office], at=datetime(2024, 5, 8, 9, 0, tzinfo=UTC)).matched_rules == ["o"]
    assert route([office], at=datetime(2024, 5, 8, 17, 0, tzinfo=UTC)).matched_rules == []


def test_naive_time_is_utc_and_bad_zone_falls_back_to_utc() -> None:
    naive = datetime(2024, 5, 8, 20, 0)
    assert route([night_rule()], at=naive).matched_rules == ["night"]
    decision = route([night_rule()], at=naive, timezone="Mars/Olympus")
    assert decision.matched_rules == ["night"]
    assert "unknown zone" in decision.trace[0].checks[0]


# ---------------------------------------------------------------- not / any


def test_not_condition() -> None:
    when = {"not": {"channel": "email"}}
    assert matches(when, channel="instagram")
    assert not matches(when, channel="email")


def test_any_condition() -> None:
    when = {"any": [{"intent": "complaint"}, {"sentiment": "negative", "channel": "x"}]}
    assert matches(when, intent="complaint")
    assert matches(when, sentiment="negative", channel="x")
    assert not matches(when, sentiment="negative", channel="email")


def test_nested_any_not_with_other_keys() -> None:
    when = {
        "language": ["fa", "ar"],
        "any": [{"contact": {"vip": True}}, {"not": {"urgency_at_least": "high"}}],
    }
    assert matches(when, language="fa", urgency="low")
    assert matches(when, language="ar", urgency="critical", contact={"vip": True})
    assert not matches(when, language="ar", urgency="critical")
    assert not matches(when, language="en", urgency="low")


# ---------------------------------------------------------------- rule semantics


def test_first_rule_wins_department_assignee_team() -> None:
    rules = [
        {"name": "a", "when": {"channel": "instagram"}, "then": {"department": "sales", "assignee": "@sara"}},
        {
            "name": "b",
            "when": {"channel": "instagram"},
            "then": {"department": "pr", "assignee": "omid", "team": "agency1"},
        },
        {"name": "c", "then": {"team": "agency2"}},
    ]
    decision = route(rules)
    assert decision.department == "sales"
    assert decision.assignee == "sara"
    assert decision.team == "agency1"
    assert decision.matched_rules == ["a", "b", "c"]
    assert decision.department_source == "rule:a"
    assert any("ignored" in effect for effect in decision.trace[1].effects)


def test_rule_order_matters() -> None:
    first = {"name": "sales", "when": {"intent": "purchase_interest"}, "then": {"department": "sales"}}
    second = {"name": "pr", "when": {"intent": "purchase_interest"}, "then": {"department": "pr"}}
    assert route([first, second], intent="purchase_interest").department == "sales"
    assert route([second, first], intent="purchase_interest").department == "pr"


def test_priority_takes_the_maximum() -> None:
    rules = [
        {"name": "hi", "then": {"priority": "high"}},
        {"name": "lo", "then": {"priority": "low"}},
    ]
    assert route(rules).priority == "high"
    assert route(rules, priority="urgent").priority == "urgent"
    assert route([{"name": "lo", "then": {"priority": "low"}}]).priority == "normal"
    assert route([], priority="bogus").priority == "normal"


def test_tags_and_notify_union_in_order_without_duplicates() -> None:
    rules = [
        {"name": "a", "then": {"tags": ["lead", "fa"], "notify": ["sara", "webhook:crm"]}},
        {"name": "b", "then": {"tags": ["vip", "lead"], "notify": ["webhook:crm", "boss@example.com"]}},
    ]
    decision = route(rules)
    assert decision.tags == ["lead", "fa", "vip"]
    assert decision.notify == ["sara", "webhook:crm", "boss@example.com"]


def test_approvers_accumulate_and_imply_approval() -> None:
    rules = [
        {"name": "crisis", "then": {"approvers": ["@Hannah", "manager"]}},
        {"name": "press", "then": {"require_approval": True, "approvers": ["admin", "manager"]}},
    ]
    decision = route(rules)
    assert decision.require_approval is True
    assert decision.approvers == ["@hannah", "manager", "admin"]
    assert decision.as_dict()["approvers"] == ["@hannah", "manager", "admin"]
    assert "Approval:   required (by @hannah, manager, admin)" in explain(decision)
    assert route([{"name": "plain", "then": {"require_approval": True}}]).approvers == []


def test_named_approvers_must_be_known_people() -> None:
    rule = {"name": "r", "then": {"approvers": ["@hannah", "@ghost"]}}
    found = validate_rules([rule], DEPTS, handles={"hannah"})
    assert [(p.field, "ghost" in p.message) for p in found] == [("then.approvers[1]", True)]


def test_require_approval_is_ored() -> None:
    rules = [
        {"name": "a", "then": {"require_approval": True}},
        {"name": "b", "then": {"require_approval": False}},
    ]
    assert route(rules).require_approval is True
    assert route(list(reversed(rules))).require_approval is True
    assert route([rules[1]]).require_approval is False


def test_stop_ends_evaluation() -> None:
    rules = [
        {"name": "spam", "when": {"intent": "spam"}, "then": {"tags": ["spam"]}, "stop": True},
        {"name": "later", "then": {"department": "sales", "tags": ["later"]}},
    ]
    decision = route(rules, intent="spam")
    assert decision.matched_rules == ["spam"]
    assert decision.tags == ["spam"]
    assert decision.department == "service"  # default: the stopping rule set none
    assert decision.stopped_by == "spam"
    assert "not evaluated" in decision.trace[1].checks[0]
    # A non-matching stop rule does not stop anything.
    assert route(rules, intent="question").matched_rules == ["later"]


def test_disabled_rule_is_skipped() -> None:
    rules = [{"name": "off", "enabled": False, "then": {"department": "pr"}}]
    decision = route(rules)
    assert decision.matched_rules == []
    assert decision.department == "service"
    assert decision.trace[0].checks == ["disabled"]


def test_reason_names_rule_and_facts() -> None:
    rules = [{"name": "leads", "when": {"intent": ["purchase_interest"]}, "then": {"department": "sales"}}]
    decision = route(rules, intent="purchase_interest")
    assert decision.reasons[0] == "routed to sales because intent=purchase_interest, rule 'leads'"
    assert decision.trace[0].checks == ["intent=purchase_interest ∈ [purchase_interest] ✓"]


def test_failed_checks_are_all_traced() -> None:
    rules = [{"name": "r", "when": {"channel": "email", "intent": "complaint"}, "then": {"department": "pr"}}]
    decision = route(rules)
    assert decision.trace[0].matched is False
    assert decision.trace[0].checks == [
        "channel=instagram ∉ [email] ✗",
        "intent=question ∉ [complaint] ✗",
    ]


# ---------------------------------------------------------------- fallbacks


def test_fallback_to_intent_department() -> None:
    decision = route([], intent="job_inquiry", intent_department="hr")
    assert decision.department == "hr"
    assert decision.department_source == "intent"
    assert decision.reasons == ["routed to hr because intent=job_inquiry maps to department hr"]


def test_fallback_to_stage_department_then_default() -> None:
    decision = route([], stage="pre_purchase", stage_department="sales")
    assert (decision.department, decision.department_source) == ("sales", "stage")
    decision = route([])
    assert decision.department == "service"
    assert decision.reasons == ["routed to service: no rule matched; default department"]


def test_rule_department_beats_intent_department() -> None:
    rules = [{"name": "vip", "when": {"contact": {"vip": True}}, "then": {"department": "pr"}}]
    decision = route(rules, contact={"vip": True}, intent_department="sales")
    assert decision.department == "pr"


def test_matched_rule_without_department_still_falls_back() -> None:
    decision = route([{"name": "t", "then": {"tags": ["x"]}}])
    assert decision.department == "service"
    assert "default department" in decision.reasons[0]
    assert decision.tags == ["x"]


# ---------------------------------------------------------------- explain / as_dict


def test_explain_and_as_dict() -> None:
    rules = [
        {"name": "leads", "when": {"intent": "purchase_interest"}, "then": {"department": "sales"}},
        {"name": "vip", "when": {"contact": {"vip": True}}, "then": {"priority": "urgent"}},
    ]
    decision = route(rules, intent="purchase_interest")
    text = explain(decision)
    assert "Department: sales" in text
    assert "✓ leads" in text and "✗ vip" in text
    assert "contact.vip=False, need True ✗" in text
    data = decision.as_dict()
    assert data["department"] == "sales"
    assert data["trace"][1]["matched"] is False


# ---------------------------------------------------------------- validation


def problems(raw: Any, **kwargs: Any) -> list[tuple[str, str]]:
    return [(p.field, p.message) for p in validate_rules(raw, DEPTS, **kwargs)]


def fields(raw: Any, **kwargs: Any) -> list[str]:
    return [f for f, _ in problems(raw, **kwargs)]


def test_valid_rules_have_no_problems() -> None:
    raw = [
        {
            "name": "everything",
            "description": "uses every condition",
            "when": {
                "channel": ["instagram"],
                "account": "brand_ig",
                "location": ["de"],
                "language": ["fa", "pt-BR", "und"],
                "intent": [None, "complaint"],
                "sentiment": "negative",
                "stage": ["post_purchase"],
                "urgency": ["high"],
                "urgency_at_least": "high",
                "keywords": ["refund", "بازگشت"],
                "contact": {
                    "vip": True,
                    "followers_at_least": 1000,
                    "open_conversations_at_least": 1,
                    "purchases_at_least": 0,
                    "attributes": {"tier": ["gold"], "beta": True},
                },
                "time": {"days": ["mon", "fri"], "between": ["18:00", "24:00"]},
                "not": {"channel": "email"},
                "any": [{"intent": "complaint"}, {"sentiment": "negative"}],
            },
            "then": {
                "department": "support",
                "priority": "urgent",
                "tags": ["x"],
                "assignee": "@sara",
                "team": "agency1",
                "require_approval": True,
                "notify": ["sara", "pr@example.com", "webhook:pagerduty"],
            },
            "stop": True,
        }
    ]
    assert problems(raw, agencies={"agency1"}, handles={"sara"}, intents={"complaint"}) == []
    assert len(compile_rules(raw, DEPTS)) == 1


@pytest.mark.parametrize(
    ("rule", "field", "fragment"),
    [
        ({"name": "r", "when": {"chanel": "x"}}, "when.chanel", "did you mean 'channel'"),
        ({"name": "r", "then": {"departmnet": "sales"}}, "then.departmnet", "did you mean 'department'"),
        ({"name": "r", "then": {"department": "salse"}}, "then.department", "unknown department 'salse'"),
        ({"name": "r", "then": {"department": 3}}, "then.department", "expected non-empty text"),
        ({"name": "r", "priority": "high"}, "priority", "unknown rule field"),
        ({"name": "r", "when": {"channel": "myspace"}}, "when.channel", "unknown channel 'myspace'"),
        ({"name": "r", "when": {"sentiment": "angry"}}, "when.sentiment", "unknown sentiment"),
        ({"name": "r", "when": {"stage": "browsing"}}, "when.stage", "unknown stage"),
        ({"name": "r", "when": {"urgency": ["urgent"]}}, "when.urgency", "unknown urgency"),
        ({"name": "r", "when": {"urgency_at_least": ["high"]}}, "when.urgency_at_least", "not a list"),
        ({"name": "r", "when": {"language": ["farsi!"]}}, "when.language", "bad language code"),
        ({"name": "r", "when": {"language": [False]}}, "when.language[0]", "got true/false"),
        ({"name": "r", "when": {"keywords": []}}, "when.keywords", "empty list"),
        ({"name": "r", "when": {"keywords": ["\u200c"]}}, "when.keywords", "empty once normalised"),
        ({"name": "r", "when": {"keywords": [1]}}, "when.keywords[0]", "expected non-empty text"),
        ({"name": "r", "when": {"contact": {"vip": "yes"}}}, "when.contact.vip", "true or false"),
        ({"name": "r", "when": {"contact": {"followers": 3}}}, "when.contact.followers", "unknown contact"),
        (
            {"name": "r", "when": {"contact": {"purchases_at_least": -1}}},
            "when.contact.purchases_at_least",
            "≥ 0",
        ),
        (
            {"name": "r", "when": {"contact": {"followers_at_least": True}}},
            "when.contact.followers_at_least",
            "whole number",
        ),
        ({"name": "r", "when": {"contact": {"attributes": []}}}, "when.contact.attributes", "mapping"),
        ({"name": "r", "when": {"time": {"days": ["fri", "funday"]}}}, "when.time.days", "unknown day"),
        ({"name": "r", "when": {"time": {"hours": 3}}}, "when.time.hours", "unknown time condition"),
        (
            {"name": "r", "when": {"time": {"between": ["25:00", "08:00"]}}},
            "when.time.between[0]",
            "bad time",
        ),
        ({"name": "r", "when": {"time": {"between": ["18:00", "8pm"]}}}, "when.time.between[1]", "HH:MM"),
        (
            {"name": "r", "when": {"time": {"between": ["18:60", "20:00"]}}},
            "when.time.between[0]",
            "bad time",
        ),
        ({"name": "r", "when": {"time": {"between": ["24:00", "08:00"]}}}, "when.time.between[0]", "24:00"),
        ({"name": "r", "when": {"time": {"between": [1080, "08:00"]}}}, "when.time.between[0]", "quoted"),
        ({"name": "r", "when": {"time": {"between": ["18:00"]}}}, "when.time.between", "two times"),
        ({"name": "r", "when": {"time": {"between": ["08:00", "08:00"]}}}, "when.time.between", "whole day"),
        ({"name": "r", "when": {"time": {}}}, "when.time", "mapping with days"),
        ({"name": "r", "when": {"any": []}}, "when.any", "non-empty list"),
        ({"name": "r", "when": {"any": [{"bogus": 1}]}}, "when.any[0].bogus", "unknown condition"),
        ({"name": "r", "when": {"not": {"intent": 5}}}, "when.not.intent", "expected non-empty text"),
        ({"name": "r", "when": ["channel"]}, "when", "must be a mapping"),
        ({"name": "r", "then": {"priority": "asap"}}, "then.priority", "unknown priority"),
        ({"name": "r", "then": {"require_approval": "yes"}}, "then.require_approval", "true or false"),
        ({"name": "r", "then": {"approvers": ["spokesperson"]}}, "then.approvers[0]", "not an approver"),
        ({"name": "r", "then": {"approvers": ["@"]}}, "then.approvers[0]", "needs a handle"),
        (
            {"name": "r", "then": {"require_approval": False, "approvers": ["manager"]}},
            "then.approvers",
            "require_approval is false",
        ),
        ({"name": "r", "then": {"notify": ["webhook:"]}}, "then.notify", "webhook name"),
        ({"name": "r", "then": {"notify": ["a@b"]}}, "then.notify", "bad e-mail"),
        ({"name": "r", "then": {"tags": [""]}}, "then.tags[0]", "non-empty text"),
        ({"name": "r", "stop": "yes"}, "stop", "true or false"),
        ({"name": ""}, "name", "non-empty name"),
        ({"when": {}}, "name", "non-empty name"),
    ],
)
def test_validation_problems(rule: dict[str, Any], field: str, fragment: str) -> None:
    found = problems([rule])
    assert any(f == field and fragment in m for f, m in found), found
    with pytest.raises(RuleError):
        compile_rules([rule], DEPTS)


def test_optional_reference_checks() -> None:
    rule = {
        "name": "r",
        "when": {"intent": "lead"},
        "then": {"assignee": "bob", "team": "ag", "notify": ["eve"]},
    }
    assert problems([rule]) == []  # not checked without the sets
    found = fields([rule], agencies={"agency1"}, handles={"sara"}, intents={"complaint"})
    assert found == ["when.intent", "then.assignee", "then.team", "then.notify"]


def test_duplicate_names_and_non_list_input() -> None:
    assert fields([{"name": "a"}, {"name": "a"}]) == ["name"]
    assert validate_rules({"name": "a"}, DEPTS)[0].message.startswith("rules must be a list")
    assert validate_rules(["oops"], DEPTS)[0].message.startswith("a rule must be a mapping")


def test_rule_error_carries_every_problem_with_path() -> None:
    raw = [
        {"name": "ok", "then": {"department": "sales"}},
        {"name": "bad", "when": {"chanel": "x"}, "then": {"department": "nope"}},
    ]
    with pytest.raises(RuleError) as info:
        compile_rules(raw, DEPTS)
    err = info.value
    assert err.path == "rules[1].when.chanel"
    assert len(err.problems) == 2
    assert {p.name for p in err.problems} == {"bad"}
    assert "1 more problem" in str(err)
    assert str(err.problems[1]) == "rule #2 'bad': then.department: " + err.problems[1].message


def test_compiled_values_are_normalised() -> None:
    rules = compile_rules(
        [{"name": " r ", "when": {"channel": "Instagram", "language": "FA"}, "then": {"priority": "HIGH"}}],
        DEPTS,
    )
    assert rules[0].name == "r"
    decision = evaluate(rules, make_input(language="fa"))
    assert decision.priority == "high"


# ---------------------------------------------------------------- likely spam


def test_spam_is_tagged_and_lowered_unless_a_rule_takes_it() -> None:
    decision = route([], intent="spam")
    assert decision.tags == ["spam"] and decision.priority == "low"
    assert decision.department == "service"
    assert any("kept out of automatic assignment" in r for r in decision.reasons)
    # A rule that routes spam somewhere (or to someone) is the organisation's choice: no tag.
    moderated = route(
        [{"name": "mods", "when": {"intent": "spam"}, "then": {"department": "pr"}}], intent="spam"
    )
    assert moderated.tags == [] and moderated.department == "pr" and moderated.priority == "normal"
    # A rule that raised the priority is not lowered again.
    loud = route(
        [{"name": "vip", "when": {"channel": "instagram"}, "then": {"priority": "high"}}], intent="spam"
    )
    assert loud.tags == ["spam"] and loud.priority == "high"
    assert route([], intent="question").tags == []


# ---------------------------------------------------------------- triage signals


def test_spam_signal_is_tagged_like_the_spam_intent() -> None:
    # an organisation with its own intents: the intent is null, the spam signal is on
    decision = route([], intent=None, spam=True)
    assert decision.tags == ["spam"] and decision.priority == "low"
    assert any(r.startswith("spam signal") for r in decision.reasons)
    assert route([], intent="card_lost").tags == []


def test_rules_naming_spam_or_crisis_intents_match_the_signals() -> None:
    crisis_rule = [{"name": "crisis", "when": {"intent": ["crisis"]}, "then": {"department": "pr"}}]
    hit = route(crisis_rule, intent="refund_missing", crisis=True)
    assert hit.matched_rules == ["crisis"] and hit.department == "pr"
    assert "crisis signal" in "\n".join(hit.trace[0].checks)
    assert route(crisis_rule, intent="refund_missing").matched_rules == []
    moderated = route(
        [{"name": "mods", "when": {"intent": "spam"}, "then": {"department": "pr"}}], intent=None, spam=True
    )
    assert moderated.department == "pr" and moderated.tags == []
    # other built-in names are not signals: `intent: complaint` needs the intent itself
    complaints = [{"name": "c", "when": {"intent": ["complaint"]}, "then": {"department": "service"}}]
    assert route(complaints, intent=None, complaint=True).matched_rules == []


@pytest.mark.parametrize("signal", ["spam", "crisis", "complaint"])
def test_signal_conditions(signal: str) -> None:
    rule = [{"name": "r", "when": {signal: True}, "then": {"tags": ["flagged"]}}]
    assert route(rule, **{signal: True}).matched_rules == ["r"]
    assert route(rule).matched_rules == []
    negated = [{"name": "r", "when": {signal: False}, "then": {"tags": ["calm"]}}]
    assert route(negated).matched_rules == ["r"]
    problems = validate_rules([{"name": "r", "when": {signal: "yes"}}], DEPTS)
    assert problems and "expected true or false" in problems[0].message


def test_intent_validation_knows_the_signal_names() -> None:
    rules = [{"name": "r", "when": {"intent": ["crisis", "spam", "card_lost"]}, "then": {}}]
    assert validate_rules(rules, DEPTS, intents=frozenset({"card_lost"})) == []
    unknown = validate_rules(
        [{"name": "r", "when": {"intent": "complaint"}}], DEPTS, intents=frozenset({"card_lost"})
    )
    assert unknown and "complaint" in unknown[0].message
