"""Approved FAQ answers suggested for a customer message (pure, lexical; cross-lingual via variants).

An entry is matched by its question and every variant (other phrasings, in any language), and the
answer offered is the one in the conversation's language when the entry has it, else its primary.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from relaydesk.triage.normalize import fold

_WORD = re.compile(r"\w+", re.UNICODE)
STATUSES = ("draft", "approved", "retired")
MIN_SCORE = 0.08


@dataclass(frozen=True)
class FaqAnswer:
    key: str
    question: str
    answer: str
    language: str
    variants: tuple[str, ...] = ()
    # {language: answer}; the primary answer counts whether or not it is repeated here.
    answers: Mapping[str, str] = field(default_factory=dict)

    def answer_in(self, language: str | None) -> tuple[str, str]:
        """(answer, its language): the one in `language` when there is one, else the primary."""
        if language and language != self.language:
            text = self.answers.get(language)
            if text and text.strip():
                return text, language
        return self.answer, self.language


@dataclass(frozen=True)
class Suggestion:
    key: str
    answer: str
    language: str
    score: float
    # The phrasing (question or variant) the message looked most like.
    matched: str = ""


def in_force(valid_from: date | None, valid_until: date | None, today: date) -> bool:
    """Whether an entry may be suggested today; a missing bound is open."""
    return (valid_from is None or valid_from <= today) and (valid_until is None or today <= valid_until)


def _grams(text: str) -> set[str]:
    # Character trigrams work for Thai (no spaces) and for inflected Persian/Arabic/Hebrew words;
    # both sides in the shared matching form, so "قيمت" (Arabic yeh) meets "قیمت".
    squashed = " ".join(_WORD.findall(fold(text)))
    return {squashed[i : i + 3] for i in range(max(0, len(squashed) - 2))}


def _similarity(grams: set[str], phrasing: str) -> float:
    other = _grams(phrasing)
    if not other:
        return 0.0
    return len(grams & other) / len(grams | other)


def suggest(
    message: str, entries: Sequence[FaqAnswer], language: str | None, limit: int = 3
) -> list[Suggestion]:
    """The answers whose question or a variant looks most like the message, preferring its language.

    The caller passes only the entries that may be suggested (approved and in force).
    """
    grams = _grams(message)
    if not grams:
        return []
    scored: list[Suggestion] = []
    for entry in entries:
        best, matched = 0.0, ""
        for phrasing in (entry.question, *entry.variants):
            score = _similarity(grams, phrasing)
            if score > best:
                best, matched = score, phrasing
        if best == 0.0:
            continue
        answer, answer_language = entry.answer_in(language)
        if language and answer_language == language:
            best += 0.05
        if best >= MIN_SCORE:
            scored.append(Suggestion(entry.key, answer, answer_language, round(best, 3), matched))
    scored.sort(key=lambda s: -s.score)
    return scored[:limit]
