"""Every keyed refusal a service raises has its page sentence, with the same values."""

from __future__ import annotations

import re
from pathlib import Path

from relaydesk.core.errors import Refused
from relaydesk.web import i18n
from relaydesk.web.problems import SENTENCES, sentence

SRC = Path(__file__).resolve().parents[2] / "src" / "relaydesk"
SAYING = re.compile(r"\.saying\(\s*\"(\w+)\"((?:[^()]|\([^()]*\))*)\)", re.S)
# A key chosen at run time (`.saying(problem.key, ...)`): the module lists the keys it may be in
# `SAYS = ("...", ...)`, and each gets the values of the module's computed `.saying` calls.
COMPUTED = re.compile(r"\.saying\(\s*[a-zA-Z_][\w.\[\]\"{}]*\s*,((?:[^()]|\([^()]*\))*)\)", re.S)
SAYS = re.compile(r"^SAYS\s*=\s*\(([^)]*)\)", re.M)


def _raised() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for key, rest in SAYING.findall(text):
            found.setdefault(key, set()).update(re.findall(r"(\w+)=", rest))
        computed = {name for rest in COMPUTED.findall(text) for name in re.findall(r"(\w+)=", rest)}
        for listed in SAYS.findall(text):
            for key in re.findall(r"\"(\w+)\"", listed):
                found.setdefault(key, set()).update(computed)
    return found


def test_every_raised_key_has_a_sentence_that_needs_only_the_values_given() -> None:
    raised = _raised()
    assert raised, "no keyed problems found: the pattern is out of date"
    assert set(raised) == set(SENTENCES), set(raised) ^ set(SENTENCES)
    for key, values in raised.items():
        # A sentence may leave a value out; it may not need one the service does not give.
        assert set(re.findall(r"%\((\w+)\)s", SENTENCES[key])) <= values, key


def test_a_keyed_problem_is_said_in_the_readers_language_and_others_keep_their_text() -> None:
    problem = Refused("files: replies on line cannot carry files").saying("network_no_files", network="line")
    i18n.use(i18n.Reading(locale="en", calendar="local"))
    assert sentence(problem) == "Replies on LINE cannot carry files from RelayDesk yet: send a link instead."
    assert sentence(Refused("something else")) is None
