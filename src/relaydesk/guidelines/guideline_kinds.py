"""What each kind of guideline needs in its `params` (pure): the fields the form shows, checked.

The same shapes `checks.py` reads, so a guideline saved here checks replies the way one applied
from relaydesk.yaml does, and exports back as it was written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from relaydesk.guidelines import links, patterns, text_limits, voice
from relaydesk.guidelines.checks import KINDS, SEVERITIES

MAX_PHRASES = 500
MAX_PHRASE_CHARS = 200
MAX_REPLY_LIMIT = 100_000
MAX_DOMAINS = 200
NETWORKS = tuple(sorted({network for network, _public in text_limits.LIMITS}))


def _lines(value: Any) -> list[str]:
    """A list of phrases from a list or from text with one per line; blanks and repeats dropped."""
    items = value.splitlines() if isinstance(value, str) else value if isinstance(value, list) else []
    kept: list[str] = []
    for item in items:
        text = item.strip() if isinstance(item, str) else ""
        if text and text not in kept:
            kept.append(text)
    return kept


class Problem(NamedTuple):
    """What is wrong with a field: the English message (API, YAML) and the key the pages have a
    sentence for (`web/problems.py`)."""

    field: str
    message: str
    key: str


Cleaned = tuple[dict[str, Any], list[Problem]]


def _problem(field: str, message: str, reason: str = "") -> Problem:
    return Problem(field, message, f"guideline_{field}" + (f"_{reason}" if reason else ""))


def _banned(params: Mapping[str, Any]) -> Cleaned:
    phrases = _lines(params.get("phrases"))
    if not phrases:
        return {"phrases": phrases}, [_problem("phrases", "write at least one phrase, one per line")]
    if len(phrases) > MAX_PHRASES or any(len(p) > MAX_PHRASE_CHARS for p in phrases):
        return {"phrases": phrases}, [
            _problem("phrases", f"at most {MAX_PHRASES} phrases of {MAX_PHRASE_CHARS} characters")
        ]
    return {"phrases": phrases}, []


def _max_length(params: Mapping[str, Any]) -> Cleaned:
    raw = params.get("max_chars")
    try:
        limit = int(str(raw).strip()) if not isinstance(raw, bool) else 0
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_REPLY_LIMIT:
        return {"max_chars": limit}, [
            _problem("max_chars", f"a whole number of characters from 1 to {MAX_REPLY_LIMIT}")
        ]
    return {"max_chars": limit}, []


def _greeting(params: Mapping[str, Any]) -> Cleaned:
    words = _lines(params.get("greetings"))
    problems = []
    if len(words) > MAX_PHRASES or any(len(w) > MAX_PHRASE_CHARS for w in words):
        problems.append(
            _problem("greetings", f"at most {MAX_PHRASES} greetings of {MAX_PHRASE_CHARS} characters")
        )
    return ({"greetings": words} if words else {}), problems


def _pii(params: Mapping[str, Any]) -> Cleaned:
    return ({"private_too": True} if params.get("private_too") is True else {}), []


def _nothing(params: Mapping[str, Any]) -> Cleaned:
    return {}, []


def _tone(params: Mapping[str, Any]) -> Cleaned:
    tones = _lines(params.get("tones"))
    unknown = [t for t in tones if t not in voice.TONES]
    problems = (
        [_problem("tones", f"unknown tone '{unknown[0]}' (known: {', '.join(voice.TONES)})")]
        if unknown
        else []
    )
    # All of them is the same as none named: the file stays short.
    return ({"tones": tones} if tones and set(tones) != set(voice.TONES) else {}), problems


def _domains(params: Mapping[str, Any]) -> Cleaned:
    domains = list(dict.fromkeys(links.clean_domain(d) for d in _lines(params.get("domains"))))
    if not domains or not all("." in d for d in domains):
        return {"domains": domains}, [
            _problem("domains", "write the allowed domains, one per line (shop.example)")
        ]
    if len(domains) > MAX_DOMAINS:
        return {"domains": domains}, [_problem("domains", f"at most {MAX_DOMAINS} domains")]
    return {"domains": domains}, []


def _pattern(params: Mapping[str, Any]) -> Cleaned:
    pattern = params.get("pattern") if isinstance(params.get("pattern"), str) else ""
    try:
        patterns.check_pattern(str(pattern))
    except patterns.PatternProblem as exc:
        return {"pattern": pattern}, [_problem("pattern", str(exc), exc.reason)]
    return {"pattern": pattern}, []


def _network_length(params: Mapping[str, Any]) -> Cleaned:
    return _limits(params.get("limits"), [])


_CLEANERS = {
    "banned_phrase": _banned,
    "max_length": _max_length,
    "require_greeting": _greeting,
    "require_name": _nothing,
    "pii": _pii,
    "language": _nothing,
    "tone": _tone,
    "network_length": _network_length,
    "allowed_links": _domains,
    "pattern": _pattern,
}


def clean_params(kind: str, params: Mapping[str, Any]) -> Cleaned:
    """The params a guideline of `kind` keeps, and what is wrong with them."""
    if kind not in KINDS or kind not in _CLEANERS:
        return {}, [_problem("kind", f"unknown kind '{kind}' (known: {', '.join(KINDS)})")]
    return _CLEANERS[kind](params)


def _limits(raw: Any, problems: list[Problem]) -> Cleaned:
    """An organisation's own limits per network ({x: 200}); none: each network's documented one."""
    if raw in (None, "", {}):
        return {}, problems
    if not isinstance(raw, Mapping):
        problems.append(_problem("limits", "a mapping of network to characters, e.g. {x: 200}"))
        return {}, problems
    kept: dict[str, int] = {}
    for network, value in raw.items():
        if network not in NETWORKS:
            problems.append(_problem("limits", f"unknown network '{network}' (known: {', '.join(NETWORKS)})"))
            continue
        try:
            limit = int(str(value).strip()) if not isinstance(value, bool) else 0
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_REPLY_LIMIT:
            problems.append(
                _problem("limits", f"{network}: a whole number of characters from 1 to {MAX_REPLY_LIMIT}")
            )
            continue
        kept[network] = limit
    return ({"limits": kept} if kept else {}), problems


def clean_severity(value: str | None) -> str | None:
    """A guideline's own severity (None: its kind's default); anything else is refused."""
    if value is None or value == "":
        return None
    if value not in SEVERITIES:
        raise ValueError(f"severity: one of {', '.join(SEVERITIES)}")
    return value
