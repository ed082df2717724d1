"""An organisation's own intents recognised by their example phrases (the lexicon triager's
custom-intent reading)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache

from relaydesk.triage import lexicon_data as data
from relaydesk.triage.base import IntentDefinition
from relaydesk.triage.cues import Reading
from relaydesk.triage.normalize import PLACEHOLDERS, tokens

CUSTOM_THRESHOLD = 0.30


class ExampleMatcher:
    """Custom intents by example phrases: idf-weighted token overlap blended with character trigrams.

    Tokens shared by many intents' examples ("my", "the", "?") count little; trigrams catch
    inflected forms the tokens miss ("refunded" ~ "refund").
    """

    def __init__(self, intents: list[IntentDefinition]) -> None:
        self.intents = intents
        self.examples: list[tuple[int, str, frozenset[str], frozenset[str]]] = []
        for i, definition in enumerate(intents):
            phrases = list(definition.examples) or [definition.name.replace("_", " ")]
            for phrase in phrases:
                toks = frozenset(t for t in tokens(phrase) if t not in PLACEHOLDERS)
                if toks:
                    self.examples.append((i, phrase, toks, _trigrams(toks)))
        df: dict[str, int] = {}
        for _, _, toks, _ in self.examples:
            for tok in toks:
                df[tok] = df.get(tok, 0) + 1
        n = max(len(self.examples), 1)
        self.idf = {tok: math.log(1 + n / count) for tok, count in df.items()}
        self.unseen_idf = math.log(1 + n)
        self.norms = [self._norm(toks) for _, _, toks, _ in self.examples]

    def _weight(self, tok: str) -> float:
        weight = self.idf.get(tok, self.unseen_idf)
        return weight * 0.25 if tok in _function_words() else weight

    def _norm(self, toks: Iterable[str]) -> float:
        return math.sqrt(sum(self._weight(t) ** 2 for t in toks)) or 1.0

    def match(self, reading: Reading, reasons: list[str]) -> tuple[str | None, str | None, dict[str, float]]:
        # Each word in the form the examples use, if any ("refunded" -> "refund").
        message = (
            frozenset(
                next((v for v in variants if v in self.idf), variants[0])
                for clause in reading.clauses
                for variants in clause.variants
            )
            - PLACEHOLDERS
        )
        scores = {definition.name: 0.0 for definition in self.intents}
        closest: dict[str, str] = {}
        if message:
            norm = self._norm(message)
            grams = _trigrams(message)
            for (i, phrase, toks, example_grams), example_norm in zip(self.examples, self.norms, strict=True):
                shared = message & toks
                token_sim = sum(self._weight(t) ** 2 for t in shared) / (norm * example_norm)
                char_sim = 2 * len(grams & example_grams) / (len(grams) + len(example_grams) or 1)
                score = 0.65 * token_sim + 0.35 * char_sim
                name = self.intents[i].name
                if score > scores[name]:
                    scores[name], closest[name] = score, phrase
        if not scores:
            reasons.append("no intent matched (no intents defined)")
            return None, None, {}
        best = max(scores, key=lambda name: scores[name])
        if scores[best] < CUSTOM_THRESHOLD:
            reasons.append(f"no intent matched (best {best}={scores[best]:.2f} < {CUSTOM_THRESHOLD:.2f})")
            return None, None, scores
        definition = next(d for d in self.intents if d.name == best)
        reasons.append(f"intent {best} ({scores[best]:.2f}): closest example '{closest[best]}'")
        return best, definition.department, scores


@lru_cache(maxsize=1)
def _function_words() -> frozenset[str]:
    return frozenset(tok for phrases in data.FUNCTION_WORDS.values() for p in phrases for tok in tokens(p))


def _trigrams(toks: Iterable[str]) -> frozenset[str]:
    grams: set[str] = set()
    for tok in toks:
        padded = f" {tok} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(grams)
