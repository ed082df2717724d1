"""Brand-voice checks on a draft reply (pure): banned phrases, length, greeting, personal data, language.

Each guideline is {kind, params, message}; a check returns findings the agent (and the approver)
sees before the reply goes out. Unknown kinds are reported, never silently ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from relaydesk.triage.phrases import SearchText, contains_phrase, phrase_spans

KINDS = ("banned_phrase", "max_length", "require_greeting", "pii", "language")

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

# Personal data a public reply must never carry. Digits may be Persian or Arabic-Indic.
_DIGIT = r"[0-9\u06F0-\u06F9\u0660-\u0669]"
PII_PATTERNS = {
    "email address": re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),
    "card number": re.compile(rf"(?<!{_DIGIT})(?:{_DIGIT}[ -]?){{13,19}}(?!{_DIGIT})"),
    "phone number": re.compile(rf"(?<!{_DIGIT})\+?(?:{_DIGIT}[ ().-]?){{8,14}}{_DIGIT}(?!{_DIGIT})"),
}


@dataclass(frozen=True)
class Guideline:
    name: str
    kind: str
    params: dict[str, Any]
    message: str = ""


@dataclass(frozen=True)
class Finding:
    guideline: str
    kind: str
    severity: str  # block|warn
    message: str
    detail: str
    # What the editor underlines: (start, end) offsets into the draft, in characters (code points);
    # empty for a finding about the whole reply (no greeting, the wrong language).
    spans: tuple[tuple[int, int], ...] = ()


# How far into a reply a greeting may stand and still open it.
GREETING_WINDOW = 80


def _quoted(phrase: str) -> str:
    """A phrase as people read it. Not repr(): that spells a Persian ZWNJ (U+200C) as a literal
    backslash-u-200c, which the agent then sees in the finding."""
    return f'"{phrase}"'


def check_reply(
    text: str,
    guidelines: list[Guideline],
    *,
    language: str | None = None,
    public: bool = True,
    detect_language: Any = None,
) -> list[Finding]:
    """Findings for `text`; `public` replies (comments, posts) get the personal-data check."""
    findings: list[Finding] = []
    # Phrases are whole words in the shared matching form (letter variants, digits, diacritics
    # unified; Thai by words): banning "hell" must not block "Hello".
    searchable = SearchText.of(text)
    for rule in guidelines:
        message = rule.message or rule.name
        if rule.kind == "banned_phrase":
            phrases = [p for p in rule.params.get("phrases", []) if isinstance(p, str) and p.strip()]
            hits = [p for p in phrases if contains_phrase(searchable, p)]
            if hits:
                where = tuple(sorted({span for p in hits for span in phrase_spans(text, p, searchable)}))
                findings.append(
                    Finding(rule.name, rule.kind, "block", message, f"contains {_quoted(hits[0])}", where)
                )
        elif rule.kind == "max_length":
            limit = int(rule.params.get("max_chars", 0) or 0)
            if limit and len(text) > limit:
                findings.append(
                    Finding(
                        rule.name,
                        rule.kind,
                        "warn",
                        message,
                        f"{len(text)} characters > {limit}",
                        ((limit, len(text)),),
                    )
                )
        elif rule.kind == "require_greeting":
            # The brand's own greetings (params.greetings) count beside the built-in ones.
            own = tuple(g for g in rule.params.get("greetings", []) if isinstance(g, str) and g.strip())
            options = own + GREETINGS.get(language or "", ()) + GREETINGS["en"]
            opening = SearchText.of(text[:GREETING_WINDOW])
            if not any(contains_phrase(opening, g) for g in options):
                findings.append(Finding(rule.name, rule.kind, "warn", message, "no greeting at the start"))
        elif rule.kind == "pii":
            if public or rule.params.get("private_too"):
                for label, pattern in PII_PATTERNS.items():
                    found_at = tuple(m.span() for m in pattern.finditer(text))
                    if found_at:
                        findings.append(
                            Finding(rule.name, rule.kind, "block", message, f"contains a {label}", found_at)
                        )
                        break
        elif rule.kind == "language":
            if language and detect_language is not None and text.strip():
                found = detect_language(text)
                if found not in (language, "und"):
                    findings.append(
                        Finding(
                            rule.name,
                            rule.kind,
                            "warn",
                            message,
                            f"reply is in {found}, customer wrote {language}",
                        )
                    )
        else:
            findings.append(
                Finding(rule.name, rule.kind, "warn", f"unknown guideline kind {rule.kind!r}", "")
            )
    return findings
