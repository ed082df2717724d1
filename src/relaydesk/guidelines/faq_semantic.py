"""Approved FAQ answers found by meaning, across languages (pure: vectors in, suggestions out).

Every phrasing of an entry (its question, its variants, its answer) and the customer's message are
embedded with the triage model, each minus its language's mean vector (triage/language_means.py),
and an entry scores the best cosine of any of its phrasings: a Persian question finds the entry
written in English (`relaydesk eval faq` measures it). The caller embeds; this ranks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from relaydesk.guidelines.faq import FaqAnswer, Suggestion

# The centred cosine below which an entry is not offered. On the FAQ test set 95 % of right first
# answers score above 0.25 (median 0.42) and off-topic text scores ~0.1; wrong first answers
# overlap the right ones (median 0.31), so the agent still chooses among the three offered.
MIN_SIMILARITY = 0.25


def phrasings(entry: FaqAnswer) -> list[tuple[str, str]]:
    """(text, language) an entry is matched on: how it is asked, and what it answers in each of its
    languages (a translated answer is the best bridge to a question asked in that language)."""
    own = [(text, entry.language) for text in (entry.question, *entry.variants, entry.answer) if text.strip()]
    return own + [
        (text, lang) for lang, text in entry.answers.items() if text.strip() and lang != entry.language
    ]


def rank(
    query: np.ndarray,
    entries: Sequence[FaqAnswer],
    vectors: Sequence[np.ndarray],
    language: str | None,
    limit: int = 3,
    minimum: float | None = None,
) -> list[Suggestion]:
    """The entries most like the query; `vectors[i]` holds entry i's phrasing rows (centred).

    Entries are ranked by the mean of their two best phrasings' similarities: one phrasing that
    happens to lie near the question (a short variant, an answer that shares a word's meaning)
    ranks an entry less than two that agree (`relaydesk eval faq`: top-3 0.864 -> 0.897 over the
    five languages against ranking by the best one alone). The score shown, and checked against
    the minimum and the automatic answer's threshold, stays the best phrasing's similarity."""
    minimum = MIN_SIMILARITY if minimum is None else minimum
    scored: list[tuple[float, Suggestion]] = []
    for entry, rows in zip(entries, vectors, strict=True):
        if len(rows) == 0:
            continue
        sims = rows @ query
        best = int(np.argmax(sims))
        score = float(sims[best])
        if score < minimum:
            continue
        agreed = float(np.sort(sims)[-2:].mean())
        answer, answer_language = entry.answer_in(language)
        said = phrasings(entry)
        matched = said[best][0] if best < len(said) else entry.question
        scored.append((agreed, Suggestion(entry.key, answer, answer_language, round(score, 3), matched)))
    scored.sort(key=lambda pair: -pair[0])
    return [s for _, s in scored[:limit]]
