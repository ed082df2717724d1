"""Brand-voice checks on a draft reply (pure).

Each guideline is {kind, params, message, severity}; a check returns findings the agent (and the
approver) sees before the reply goes out, each with the spans the editor underlines. `block`
stops the reply (an approver may still let it through), `warn` asks the agent to look again,
`suggest` is a hint. Every kind has a default severity; a guideline may set its own. Unknown kinds
are reported, never silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from relaydesk.guidelines import links, patterns, text_limits, voice
from relaydesk.triage.phrases import SearchText, contains_phrase, phrase_spans

SEVERITIES = ("block", "warn", "suggest")
# Each kind and the severity it has unless the guideline sets one.
DEFAULT_SEVERITY = {
    "banned_phrase": "block",
    "max_length": "warn",
    "require_greeting": "warn",
    "require_name": "warn",
    "pii": "block",
    "language": "warn",
    "tone": "warn",
    "network_length": "block",
    "allowed_links": "block",
    "pattern": "warn",
}
KINDS = tuple(DEFAULT_SEVERITY)

GREETINGS = {
    "en": (
        "hi",
        "hello",
        "hey",
        "dear",
        "good morning",
        "good afternoon",
        "good evening",
        "thanks for",
        "thank you",
    ),
    "fa": ("سلام", "درود", "وقت بخیر", "روز بخیر", "عصر بخیر", "ممنون", "با سپاس"),
    "ar": ("مرحبا", "أهلا", "اهلا", "السلام عليكم", "مساء الخير", "صباح الخير", "شكرا"),
    "he": ("שלום", "היי", "בוקר טוב", "ערב טוב", "תודה"),
    "th": ("สวัสดี", "ขอบคุณ", "เรียน"),
}

# Personal data a public reply must never carry. `\d` is any decimal digit: Persian, Arabic-Indic
# and Thai digits as well as ASCII ones.
_ORDER_WORDS = r"(?:order|ref(?:erence)?|سفارش|طلب|طلبية|הזמנה|คำสั่งซื้อ|ออเดอร์)"
PII_PATTERNS = {
    "email address": re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),
    "card number": re.compile(r"(?<!\d)(?:\d[ -]?){13,19}(?!\d)"),
    "phone number": re.compile(r"(?<!\d)\+?(?:\d[ ().-]?){8,14}\d(?!\d)"),
    "order number": re.compile(
        rf"(?:#\s?|{_ORDER_WORDS}\s*(?:no\.?|number|#|:|رقم|شماره|מס'?|เลขที่)?\s*)\d{{4,}}", re.I
    ),
}


@dataclass(frozen=True)
class Guideline:
    name: str
    kind: str
    params: dict[str, Any]
    message: str = ""
    severity: str | None = None  # None: the kind's default


@dataclass(frozen=True)
class Finding:
    guideline: str
    kind: str
    severity: str  # block|warn|suggest
    message: str
    detail: str
    # What the editor underlines: (start, end) offsets into the draft, in characters (code points);
    # empty for a finding about the whole reply (no greeting, the wrong language).
    spans: tuple[tuple[int, int], ...] = ()
    # What was found, for the pages to say in the reader's language (web/findings.py).
    code: str = ""
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class Draft:
    """A reply as every check sees it, with what the checks need to know about where it goes."""

    text: str
    language: str | None = None
    public: bool = True
    network: str | None = None
    agent_name: str | None = None
    detect_language: Any = None
    _searchable: SearchText | None = field(default=None, repr=False)

    @property
    def searchable(self) -> SearchText:
        if self._searchable is None:
            self._searchable = SearchText.of(self.text)
        return self._searchable


# What one kind finds: (detail, spans, code, values) per finding; nothing when the reply passes.
# The detail is English (the API, the audit); the pages say `code` with `values` in the reader's
# language (web/findings.py).
Hit = tuple[str, tuple[tuple[int, int], ...], str, dict[str, str]]

# How far into a reply a greeting may stand and still open it.
GREETING_WINDOW = 80


def _quoted(phrase: str) -> str:
    """A phrase as people read it. Not repr(): that spells a Persian ZWNJ (U+200C) as a literal
    backslash-u-200c, which the agent then sees in the finding."""
    return f'"{phrase}"'


def _strings(params: dict[str, Any], key: str) -> list[str]:
    return [p for p in params.get(key, []) if isinstance(p, str) and p.strip()]


def _banned(d: Draft, params: dict[str, Any]) -> list[Hit]:
    hits = [p for p in _strings(params, "phrases") if contains_phrase(d.searchable, p)]
    if not hits:
        return []
    where = tuple(sorted({span for p in hits for span in phrase_spans(d.text, p, d.searchable)}))
    return [(f"contains {_quoted(hits[0])}", where, "banned", {"phrase": hits[0]})]


def _max_length(d: Draft, params: dict[str, Any]) -> list[Hit]:
    limit = int(params.get("max_chars", 0) or 0)
    if limit and len(d.text) > limit:
        said = {"length": str(len(d.text)), "limit": str(limit)}
        return [(f"{len(d.text)} characters > {limit}", ((limit, len(d.text)),), "too_long", said)]
    return []


def _greeting(d: Draft, params: dict[str, Any]) -> list[Hit]:
    # The brand's own greetings (params.greetings) count beside the built-in ones.
    options = tuple(_strings(params, "greetings")) + GREETINGS.get(d.language or "", ()) + GREETINGS["en"]
    opening = SearchText.of(d.text[:GREETING_WINDOW])
    if any(contains_phrase(opening, g) for g in options):
        return []
    return [("no greeting at the start", (), "no_greeting", {})]


def _name(d: Draft, params: dict[str, Any]) -> list[Hit]:
    """The agent signs with a first name, so the customer talks to a person (the product brief)."""
    first = (d.agent_name or "").strip().split()[0] if (d.agent_name or "").strip() else ""
    if not first or contains_phrase(d.searchable, first):
        return []
    return [(f"sign the reply with your first name ({first})", (), "unsigned", {"name": first})]


def _pii(d: Draft, params: dict[str, Any]) -> list[Hit]:
    if not (d.public or params.get("private_too")):
        return []
    for label, pattern in PII_PATTERNS.items():
        found_at = tuple(m.span() for m in pattern.finditer(d.text))
        if found_at:
            code = "pii_" + label.split()[0]
            return [(f"contains a {label}: offer to continue in a private message", found_at, code, {})]
    return []


def _language(d: Draft, params: dict[str, Any]) -> list[Hit]:
    if not (d.language and d.detect_language is not None and d.text.strip()):
        return []
    found = d.detect_language(d.text)
    if found in (d.language, "und"):
        return []
    said = {"found": str(found), "wanted": d.language}
    return [(f"reply is in {found}, customer wrote {d.language}", (), "wrong_language", said)]


def _tone(d: Draft, params: dict[str, Any]) -> list[Hit]:
    tones = _strings(params, "tones") or list(voice.TONES)
    return [
        (
            f"{hit.tone.replace('_', ' ')}: {_quoted(hit.example)}",
            hit.spans,
            f"tone_{hit.tone}",
            {"example": hit.example},
        )
        for hit in voice.tone_hits(d.text, tones, d.searchable)
    ]


def _network_length(d: Draft, params: dict[str, Any]) -> list[Hit]:
    own = params.get("limits") if isinstance(params.get("limits"), dict) else None
    measured = text_limits.measure(d.text, d.network, d.public, own)
    if measured is None or d.network is None or measured.length <= measured.limit:
        return []
    unit = "weighted characters" if measured.weighted else "characters"
    cut = text_limits.cut_at(d.text, d.network, measured.limit)
    said = {"length": str(measured.length), "limit": str(measured.limit), "network": d.network}
    return [
        (
            f"{measured.length} {unit} > {measured.limit} on {d.network}",
            ((cut, len(d.text)),),
            "network_length",
            said,
        )
    ]


def _links(d: Draft, params: dict[str, Any]) -> list[Hit]:
    domains = [links.clean_domain(x) for x in _strings(params, "domains")]
    bad = [link for link in links.links_in(d.text) if not links.allowed(link.host, domains)]
    if not bad:
        return []
    spans = tuple(link.span for link in bad)
    return [(f"links to {bad[0].host}, which is not an allowed domain", spans, "link", {"host": bad[0].host})]


def _pattern(d: Draft, params: dict[str, Any]) -> list[Hit]:
    pattern = params.get("pattern")
    if not isinstance(pattern, str) or not pattern:
        return []
    found = patterns.find(pattern, d.text)
    if found.timed_out:
        return [
            ("the pattern took too long on this reply and was not checked", found.spans, "pattern_slow", {})
        ]
    if not found.spans:
        return []
    matched = d.text[found.spans[0][0] : found.spans[0][1]][:60]
    return [(f"matches {_quoted(matched)}", found.spans, "pattern", {"text": matched})]


_CHECKS: dict[str, Callable[[Draft, dict[str, Any]], list[Hit]]] = {
    "banned_phrase": _banned,
    "max_length": _max_length,
    "require_greeting": _greeting,
    "require_name": _name,
    "pii": _pii,
    "language": _language,
    "tone": _tone,
    "network_length": _network_length,
    "allowed_links": _links,
    "pattern": _pattern,
}


def check_reply(
    text: str,
    guidelines: list[Guideline],
    *,
    language: str | None = None,
    public: bool = True,
    detect_language: Any = None,
    network: str | None = None,
    agent_name: str | None = None,
) -> list[Finding]:
    """Findings for `text`; `public` replies (comments, posts) get the personal-data check."""
    draft = Draft(text, language, public, network, agent_name, detect_language)
    findings: list[Finding] = []
    for rule in guidelines:
        check = _CHECKS.get(rule.kind)
        if check is None:
            findings.append(
                Finding(rule.name, rule.kind, "warn", f"unknown guideline kind {rule.kind!r}", "")
            )
            continue
        severity = rule.severity if rule.severity in SEVERITIES else DEFAULT_SEVERITY[rule.kind]
        for detail, spans, code, values in check(draft, rule.params):
            findings.append(
                Finding(
                    rule.name, rule.kind, severity, rule.message or rule.name, detail, spans, code, values
                )
            )
    return findings
