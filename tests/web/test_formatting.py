"""The pure helpers behind names, free text and times on the pages."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from relaydesk.guidelines.checks import Guideline, check_reply
from relaydesk.web.formatting import (
    BIDI_CONTROLS,
    FSI,
    PDI,
    clean_name,
    format_time,
    initials,
    isolated,
    segments,
    viewer_zone,
)

TEHRAN = ZoneInfo("Asia/Tehran")


def test_names_lose_every_embedding_override_and_isolate_control() -> None:
    assert clean_name("RTL \u202egnp.exe") == "RTL gnp.exe"
    assert clean_name("a" + BIDI_CONTROLS + "b") == "ab"
    assert len(BIDI_CONTROLS) == 9 and {f"{ord(c):04X}" for c in BIDI_CONTROLS} == {
        "202A", "202B", "202C", "202D", "202E", "2066", "2067", "2068", "2069",
    }  # fmt: skip
    assert clean_name("می\u200cخواهم") == "می\u200cخواهم"  # a ZWNJ is spelling, not a control
    assert clean_name(None) == ""
    assert isolated("\u202eevil") == f"{FSI}evil{PDI}" and isolated("") == ""


def test_segments_isolate_mentions_links_and_refs_and_keep_the_text() -> None:
    text = "@reza لطفا #9 را ببین https://shop.example/a?b=1. mail reza@shop.example"
    parts = segments(text)
    assert "".join(str(p) for _, p in parts) == text
    assert [p for kind, p in parts if kind == "ltr"] == ["@reza", "#9", "https://shop.example/a?b=1"]
    assert parts[0] == ("ltr", "@reza")
    assert segments("a\u202eb") == [("text", "a\u202eb")]  # message text keeps every character
    assert segments(None) == []


def test_segments_turn_iso_timestamps_into_times() -> None:
    parts = segments("open -> snoozed until 2026-03-04T05:06:07.123456+00:00")
    assert parts == [
        ("text", "open -> snoozed until "),
        ("time", datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)),
    ]
    assert segments("due 2026-13-40T99:99:00+00:00")[1][0] == "text"  # not a real moment


def test_the_viewer_zone_is_their_own_then_their_locations_then_the_orgs() -> None:
    assert viewer_zone("Asia/Bangkok", "Asia/Tehran", "Asia/Jerusalem").key == "Asia/Bangkok"
    assert viewer_zone("UTC", "Asia/Tehran", "Asia/Jerusalem").key == "Asia/Tehran"
    assert viewer_zone("UTC", None, "Asia/Jerusalem").key == "Asia/Jerusalem"
    assert viewer_zone("Not/AZone", None, None).key == "UTC"
    assert viewer_zone(None, None, None).key == "UTC"


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 3, 4, 20, 40, tzinfo=UTC), "00:10"),  # the same Tehran day (+03:30)
        (datetime(2026, 3, 1, 8, 0, tzinfo=UTC), "1 Mar 11:30"),
        (datetime(2025, 12, 31, 19, 0, tzinfo=UTC), "31 Dec 2025 22:30"),
    ],
)
def test_one_format_for_times_in_the_viewers_zone(moment: datetime, expected: str) -> None:
    now = datetime(2026, 3, 4, 21, 0, tzinfo=UTC)  # 00:30 on 5 March in Tehran
    assert format_time(moment, TEHRAN, now) == expected
    assert format_time(None, TEHRAN, now) == "—"


def test_the_full_form_names_the_zone() -> None:
    now = datetime(2026, 3, 4, 21, 0, tzinfo=UTC)
    stamp = datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
    assert format_time(stamp, TEHRAN, now, full=True) == "4 Mar 2026 08:36 (Asia/Tehran)"


def test_a_guideline_finding_spells_a_zwnj_as_itself() -> None:
    phrase = "ما تضمین می\u200cکنیم"
    rule = Guideline("no-guarantees", "banned_phrase", {"phrases": [phrase]}, "Never promise guarantees")
    [finding] = check_reply(f"سلام، {phrase} که فردا برسد", [rule], language="fa")
    assert "\\u200c" not in finding.detail
    assert phrase in finding.detail


@pytest.mark.parametrize(
    ("name", "letters"),
    [
        ("Lee Wong", "LW"),
        ("مینا رضایی", "مر"),
        ("דנה כהן", "דכ"),
        ("สมชาย ใจดี", "สจ"),  # the vowel written first is skipped
        ("ผู้ใช้", "ผู้"),  # marks stay on their letter
        ("@dan_commutes", "D"),
        ("\u202eevil name", "EN"),  # bidi controls never reach the avatar
        ("+971 4 000 0001", "?"),
        (None, "?"),
    ],
)
def test_initials_are_the_first_letters_of_the_first_two_words(name: object, letters: str) -> None:
    assert initials(name) == letters
