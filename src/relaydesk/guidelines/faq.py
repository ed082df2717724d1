"""Approved FAQ answers suggested for a customer message (pure, lexical; cross-lingual via language)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from relaydesk.triage.normalize import fold

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class FaqAnswer:
    key: str
    question: str
    answer: str
    language: str


@dataclass(frozen=True)
class Suggestion:
    key: str
    answer: str
    language: str
    score: float


def _grams(text: str) -> set[str]:
    # Character trigrams work for Thai (no spaces) and for inflected Persian/Arabic/Hebrew words;
    # both sides in the shared matching form, so "قيمت" (Arabic yeh) meets "قیمت".
    squashed = " ".join(_WORD.findall(fold(text)))
    return {squashed[i : i + 3] for i in range(max(0, len(squashed) - 2))}


def suggest(message: str, entries: list[FaqAnswer], language: str | None, limit: int = 3) -> list[Suggestion]:
    """The approved answers whose questions look most like the message, preferring its language."""
    grams = _grams(message)
    if not grams:
        return []
    scored: list[Suggestion] = []
    for entry in entries:
        other = _grams(entry.question)
        if not other:
            continue
        score = len(grams & other) / len(grams | other)
        if language and entry.language == language:
            score += 0.05
        if score >= 0.08:
            scored.append(Suggestion(entry.key, entry.answer, entry.language, round(score, 3)))
    scored.sort(key=lambda s: -s.score)
    return scored[:limit]
