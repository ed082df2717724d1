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
        firsts: list[tuple[str, bool, float, float]] = []
        try:
            for key, lang, question in questions:
                found = by_meaning(embedder, question, entries, lang)
                keys = [s.key for s in found]
                meaning.setdefault(lang, []).append((keys[:1] == [key], key in keys))
                if found:
                    runner_up = found[1].score if len(found) > 1 else 0.0
                    firsts.append((lang, keys[0] == key, found[0].score, runner_up))
        finally:
            faq_semantic.MIN_SIMILARITY = minimum
        out["by_meaning"] = _score(meaning)
        out["automatic"] = automatic_answers(firsts, len(questions))
    out["seconds"] = round(time.perf_counter() - started, 1)
    best = out.get("by_meaning", out["by_words"])
    worst = min(v["top3"] for v in best.values())
    baseline = min(v["top3"] for v in out["by_words"].values()) or 0.001
    out["line"] = f"faq ratio={worst / baseline:.2f} value={worst:.3f} unit=top3_worst_language"
    return out


def automatic_answers(firsts: list[tuple[str, bool, float, float]], total: int) -> dict[str, Any]:
    """How the automatic FAQ answer (auto_answer_rules: the best entry at least `min_score` and
    ahead of the next by `min_margin`) would do on the set: the share of questions it answers and
    the share of those it answers right, at the defaults and on a small grid."""
    from relaydesk.guidelines.auto_answer_rules import DEFAULT_MIN_MARGIN, DEFAULT_MIN_SCORE

    def at(score: float, margin: float, lang: str | None = None) -> dict[str, float]:
        rows = [f for f in firsts if lang is None or f[0] == lang]
        sent = [right for _lang, right, best, second in rows if best >= score and best - second >= margin]
        asked = len(rows) if lang is not None else total
        return {
            "answered": round(len(sent) / max(asked, 1), 3),
            "right": round(sum(sent) / len(sent), 3) if sent else 1.0,
            "wrong": len(sent) - sum(sent),
        }

    return {
        "min_score": DEFAULT_MIN_SCORE,
        "min_margin": DEFAULT_MIN_MARGIN,
        "at_defaults": at(DEFAULT_MIN_SCORE, DEFAULT_MIN_MARGIN),
        "per_language": {lang: at(DEFAULT_MIN_SCORE, DEFAULT_MIN_MARGIN, lang) for lang in LANGUAGES},
        "grid": {
            f"{score:.2f}/{margin:.2f}": at(score, margin)
            for score in (0.40, 0.45, 0.50, 0.55, 0.60)
            for margin in (0.0, 0.04, 0.08, 0.12)
        },
    }
