"""The pure rules of a contact merge and of contact attributes."""

from __future__ import annotations

from relaydesk.contacts.merging import attribute_problems, merged_attributes


def test_the_survivor_wins_and_the_duplicate_fills_gaps() -> None:
    survivor = {"vip": True, "city": "Tehran", "note": None}
    duplicate = {"vip": False, "email": "ann@example.com", "note": "prefers Telegram"}
    assert merged_attributes(survivor, duplicate) == {
        "vip": True,
        "city": "Tehran",
        "email": "ann@example.com",
        "note": "prefers Telegram",  # a null in the survivor does not erase what the duplicate knew
    }


def test_history_counts_keep_the_larger_not_the_sum() -> None:
    merged = merged_attributes({"purchases": 3, "followers": 120}, {"purchases": 5, "followers": 80})
    assert merged == {"purchases": 5, "followers": 120}
    # true/false are not numbers to compare
    assert merged_attributes({"vip": False}, {"vip": True}) == {"vip": False}


def test_attribute_problems_name_the_key() -> None:
    assert attribute_problems({"vip": True, "followers": 10, "city": "Bangkok", "x": None}) == []
    problems = attribute_problems({"tags": ["a"], "bio": "x" * 501, "": 1})
    assert "attributes.tags: must be text, a number, true/false or null" in problems
    assert "attributes.bio: text longer than 500 characters" in problems
    assert any(p.startswith("attributes.: a key must have") for p in problems)
    assert attribute_problems({f"k{i}": i for i in range(51)})[0].startswith("attributes: at most 50 keys")
