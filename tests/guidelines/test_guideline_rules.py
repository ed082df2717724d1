"""Guidelines' pure parts: who may change them, each kind's params, the brand's own greetings."""

from __future__ import annotations

import pytest

from relaydesk.core.enums import Role
from relaydesk.guidelines.checks import Guideline, check_reply
from relaydesk.guidelines.guideline_access import GuidelineAction, GuidelineEditor, refusal
from relaydesk.guidelines.guideline_kinds import clean_params
from relaydesk.web.settings_guidelines import marked_segments


@pytest.mark.parametrize(
    ("role", "spokesperson", "may_view", "may_edit"),
    [
        (Role.OWNER, False, True, True),
        (Role.ADMIN, False, True, True),
        (Role.MANAGER, True, True, True),
        (Role.AGENT, True, True, True),
        (Role.MANAGER, False, True, False),
        (Role.AGENT, False, True, False),
        (Role.VIEWER, True, False, False),
        (Role.VIEWER, False, False, False),
    ],
)
def test_matrix(role: Role, spokesperson: bool, may_view: bool, may_edit: bool) -> None:
    editor = GuidelineEditor(role, spokesperson)
    assert (refusal(editor, GuidelineAction.VIEW) is None) is may_view
    assert (refusal(editor, GuidelineAction.EDIT) is None) is may_edit
    assert editor.may_edit is may_edit


def test_each_kind_keeps_its_own_params() -> None:
    assert clean_params("banned_phrase", {"phrases": "we guarantee\n\n ما تضمین می‌کنیم \nwe guarantee"}) == (
        {"phrases": ["we guarantee", "ما تضمین می‌کنیم"]},
        [],
    )
    assert clean_params("banned_phrase", {"phrases": " \n"})[1][0][0] == "phrases"
    assert clean_params("max_length", {"max_chars": "280"}) == ({"max_chars": 280}, [])
    for bad in ("", "0", "-5", "ten", True):
        assert clean_params("max_length", {"max_chars": bad})[1], bad
    assert clean_params("require_greeting", {"greetings": "Howdy\n"}) == ({"greetings": ["Howdy"]}, [])
    assert clean_params("require_greeting", {"greetings": ""}) == ({}, [])
    assert clean_params("pii", {"private_too": True, "phrases": "x"}) == ({"private_too": True}, [])
    assert clean_params("language", {"phrases": "x"}) == ({}, [])
    assert clean_params("sparkle", {})[1][0][0] == "kind"


def test_the_brands_own_greeting_opens_a_reply() -> None:
    rule = Guideline("greet", "require_greeting", {"greetings": ["Howdy"]})
    assert check_reply("Howdy partner, your order ships today.", [rule]) == []
    assert check_reply("Your order ships today.", [rule])[0].kind == "require_greeting"


def test_marked_segments_merge_overlaps_and_keep_every_character() -> None:
    text = "We guarantee a refund, we guarantee it"
    segments = marked_segments(text, [(3, 12), (5, 10), (23, 35), (100, 120), (8, 3)])
    assert "".join(s.text for s in segments) == text
    assert [s.text for s in segments if s.marked] == ["guarantee", "we guarantee"]
    assert marked_segments("", []) == []


def test_every_problem_a_guideline_form_can_get_has_a_page_sentence() -> None:
    from relaydesk.guidelines.guideline_service import SAYS
    from relaydesk.web.problems import SENTENCES

    bad = [
        ("sparkle", {}),
        ("banned_phrase", {"phrases": ""}),
        ("max_length", {"max_chars": "x"}),
        ("require_greeting", {"greetings": ["g" * 300]}),
        ("tone", {"tones": ["rude"]}),
        ("allowed_links", {"domains": "nope"}),
        ("network_length", {"limits": {"myspace": 1}}),
        *(("pattern", {"pattern": p}) for p in ("", "x" * 600, "[", "x*", "(a+)+$")),
    ]
    keys = {problem.key for kind, params in bad for problem in clean_params(kind, params)[1]}
    assert keys == set(SAYS) and keys <= set(SENTENCES)
