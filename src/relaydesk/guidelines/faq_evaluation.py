"""`relaydesk eval faq`: is the right approved answer among the first three suggestions, for a
customer question in any of the five languages, when each entry was written in one language only?

The set (tests/data/faq_multilingual.yaml, written for RelayDesk) has entries written in one
language each and, per entry, two paraphrased customer questions in each of en, fa, ar, he, th.
Both ways the product can suggest are measured on it: by words (faq.suggest, character trigrams:
what runs with the keyword triager) and by meaning (faq_service.by_meaning: the triage model's
embeddings, centred per language), with no minimum score, so a miss is a ranking miss.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml

from relaydesk.guidelines import faq_semantic
from relaydesk.guidelines.faq import FaqAnswer, suggest
from relaydesk.guidelines.faq_service import by_meaning
from relaydesk.triage.embed import Embedder

DEFAULT_SET = Path(__file__).resolve().parents[3] / "tests" / "data" / "faq_multilingual.yaml"
LANGUAGES = ("en", "fa", "ar", "he", "th")


def load_set(path: Path) -> tuple[list[FaqAnswer], list[tuple[str, str, str]]]:
    """The entries and (right key, language, question) of every test question."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries, questions = [], []
    for item in data["entries"]:
        entries.append(
            FaqAnswer(
                item["key"],
                item["question"],
                item["answer"],
                item["language"],
                tuple(item.get("variants") or ()),
            )
        )
        for lang, asked in item["queries"].items():
            questions += [(item["key"], lang, q) for q in asked]
    return entries, questions


def _score(found: dict[str, list[tuple[bool, bool]]]) -> dict[str, dict[str, float]]:
    return {
        lang: {
            "top1": round(sum(a for a, _ in rows) / len(rows), 3),
            "top3": round(sum(b for _, b in rows) / len(rows), 3),
            "questions": len(rows),
        }
        for lang, rows in sorted(
            found.items(), key=lambda kv: LANGUAGES.index(kv[0]) if kv[0] in LANGUAGES else 9
        )
    }


def evaluate(path: Path, embedder: Embedder | None) -> dict[str, Any]:
    entries, questions = load_set(path)
    lexical: dict[str, list[tuple[bool, bool]]] = {}
    meaning: dict[str, list[tuple[bool, bool]]] = {}
    started = time.perf_counter()
    for key, lang, question in questions:
        keys = [s.key for s in suggest(question, entries, lang, limit=3)]
        lexical.setdefault(lang, []).append((keys[:1] == [key], key in keys))
    out: dict[str, Any] = {
        "entries": len(entries),
        "entry_languages": {lang: sum(e.language == lang for e in entries) for lang in LANGUAGES},
        "questions": len(questions),
        "by_words": _score(lexical),
    }
    if embedder is not None:
        minimum, faq_semantic.MIN_SIMILARITY = faq_semantic.MIN_SIMILARITY, -1.0
        try:
            for key, lang, question in questions:
                keys = [s.key for s in by_meaning(embedder, question, entries, lang)]
                meaning.setdefault(lang, []).append((keys[:1] == [key], key in keys))
        finally:
            faq_semantic.MIN_SIMILARITY = minimum
        out["by_meaning"] = _score(meaning)
    out["seconds"] = round(time.perf_counter() - started, 1)
    best = out.get("by_meaning", out["by_words"])
    worst = min(v["top3"] for v in best.values())
    baseline = min(v["top3"] for v in out["by_words"].values()) or 0.001
    out["line"] = f"faq ratio={worst / baseline:.2f} value={worst:.3f} unit=top3_worst_language"
    return out
