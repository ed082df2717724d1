"""The few-shot check's verdict on each example (pure)."""

from __future__ import annotations

from relaydesk.triage.example_check import check_example, check_examples, ranked


def test_an_example_on_its_own_intent_is_fine() -> None:
    found = check_example("refund", "money back", "refund", {"refund": 0.9, "complaint": 0.4})
    assert found.status == "ok" and not found.flagged
    assert found.score == 0.9 and found.runner_up == "complaint"


def test_an_example_elsewhere_or_nowhere_is_flagged() -> None:
    elsewhere = check_example(
        "refund", "where is my parcel", "order_issue", {"order_issue": 0.8, "refund": 0.3}
    )
    assert elsewhere.status == "elsewhere" and elsewhere.flagged and elsewhere.landed == "order_issue"
    nowhere = check_example("refund", "hmm", None, {"refund": 0.1})
    assert nowhere.status == "nowhere" and nowhere.flagged and nowhere.score == 0.0


def test_a_close_runner_up_is_said_but_not_flagged() -> None:
    close = check_example("refund", "refund or exchange", "refund", {"refund": 0.62, "exchange": 0.6})
    assert close.status == "close" and not close.flagged and close.runner_up == "exchange"


def test_ranked_is_stable_and_checks_go_in_order() -> None:
    assert ranked({"b": 0.5, "a": 0.5, "c": 0.9}, limit=2) == [("c", 0.9), ("a", 0.5)]
    checks = check_examples("x", ["one", "two"], [("x", {"x": 1.0}), (None, {})])
    assert [c.status for c in checks] == ["ok", "nowhere"]


def test_an_example_only_its_own_presence_holds_is_alone() -> None:
    alone = check_example("refund", "پولم را پس بدهید", "refund", {"refund": 1.0}, held_out=None)
    assert alone.status == "alone" and not alone.flagged and alone.held_out is None
    held = check_examples("x", ["a", "b"], [("x", {"x": 1.0}), ("x", {"x": 1.0})], held_out=["x"])
    assert [c.status for c in held] == ["ok", "ok"] and held[0].held_out == "x"


def test_thin_languages_are_those_with_fewer_than_three_native_examples() -> None:
    from relaydesk.triage.example_check import ExampleCheck, thin_languages

    def check(lang: str) -> ExampleCheck:
        return ExampleCheck("x", "refund", 0.9, None, 0.0, "ok", lang=lang)

    checks = [check("en")] * 4 + [check("fa")] * 3 + [check("ar")]
    assert thin_languages(checks, ["en", "fa", "ar", "he", "th"]) == ["ar", "he", "th"]
    assert thin_languages([], ["en", "fa"]) == []
