"""The keyword/lexicon triager: fast, explainable, no model files; the fallback of the model triager.

Every decision names the cue words it rests on. Cues are normalised exactly like messages, so
Persian and Arabic letter variants, diacritics, niqqud and Thai segmentation line up. Matching is
on whole tokens (with the clitics of each language), inside a clause, so negation ("not good",
"خوب نیست", "לא טוב", "ไม่ดี", "مش كويس") and intensifiers ("very", "خیلی", "มาก") reach only
the words they belong to.

The cue index and the reading of a message are in cues.py, an organisation's own intents by
example in example_matcher.py; this module decides from what they found.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from relaydesk.core.enums import BUILTIN_INTENT_DEPARTMENTS, BUILTIN_INTENTS
from relaydesk.triage.base import IntentDefinition, TriageInput, TriageResult
from relaydesk.triage.cues import (
    NORMAL,
    WEAK,
    Clause,
    CueTables,
    Match,
    Reading,
    cue_languages,
    cue_tables,
    read_message,
)
from relaydesk.triage.example_matcher import ExampleMatcher
from relaydesk.triage.langid import detect_language, safe_text

MAX_CHARS = 5_000  # cues beyond the first few KB of a 100 KB message change nothing
BUILTIN_THRESHOLD = 0.8
NEUTRAL_PRIOR = 0.8  # evidence a message needs before it is more than neutral
NEGATION_WINDOW = 2
# Generic intents (a complaint, a question, praise) give way to any specific one that reaches the
# threshold: "Where can I send my CV?" is a job enquiry that happens to be a question.
GENERIC_INTENTS = ("complaint", "question", "praise")
# Which intent wins a tie: what must be acted on first.
INTENT_PRECEDENCE = (
    "crisis",
    "spam",
    "job_inquiry",
    "press_inquiry",
    "order_issue",
    "complaint",
    "purchase_interest",
    "feedback",
    "praise",
    "question",
)
STAGE_PRECEDENCE = ("post_purchase", "purchase", "pre_purchase")


def _longest_first(matches: list[Match]) -> list[Match]:
    """Non-overlapping matches, the longer phrase winning ("not bad" over "bad")."""
    taken: set[int] = set()
    kept: list[Match] = []
    for m in sorted(matches, key=lambda m: (-(m.end - m.start), m.start)):
        span = set(range(m.start, m.end))
        if not span & taken:
            taken |= span
            kept.append(m)
    return sorted(kept, key=lambda m: m.start)


def _drop_contained(matches: list[Match]) -> list[Match]:
    """Drop a cue lying inside a longer cue of another table ("job" inside "great job").

    Spans are per clause, so only matches of the same clause are compared.
    """
    return [
        m
        for m in matches
        if not any(
            o is not m
            and o.clause == m.clause
            and o.start <= m.start
            and m.end <= o.end
            and o.end - o.start > m.end - m.start
            for o in matches
        )
    ]


def _score(matches: Iterable[Match]) -> tuple[float, list[str]]:
    """Sum of distinct cues' weights (a cue said twice counts once) and their names."""
    best: dict[str, float] = {}
    for m in matches:
        best[m.cue] = max(best.get(m.cue, 0.0), m.weight)
    return sum(best.values()), list(best)


@lru_cache(maxsize=256)
def _matcher(intents: tuple[IntentDefinition, ...]) -> ExampleMatcher:
    """One matcher per set of intents: built for every batch it cost 6.6 ms, more than the
    batch's own triage (cProfile of the pipeline's drain); an organisation's intents rarely change."""
    return ExampleMatcher(list(intents))


class LexiconTriager:
    """Implements the Triager contract with cue words; thousands of short messages per second."""

    def triage(
        self, items: list[TriageInput], intents: list[IntentDefinition] | None = None
    ) -> list[TriageResult]:
        """With `intents`, the intent is one of them or None: the organisation's own intents by
        their examples, the built-in ones it lists by name through the built-in cues."""
        matcher = _matcher(tuple(it for it in intents if not it.builtin)) if intents is not None else None
        listed = {it.name: it.department for it in intents or () if it.builtin}
        return [self._one(item, matcher, listed) for item in items]

    def _one(
        self, item: TriageInput, matcher: ExampleMatcher | None, listed: dict[str, str | None]
    ) -> TriageResult:
        text = safe_text(item.text, MAX_CHARS)
        reasons: list[str] = []
        if isinstance(item.text, str) and len(item.text) > MAX_CHARS:
            reasons.append(f"only the first {MAX_CHARS} of {len(item.text)} characters were read")
        if item.lang:
            lang = item.lang
            reasons.append(f"language {lang}: caller hint")
        else:
            guess = detect_language(text)
            lang = guess.lang
            reasons.append(f"language {lang}: {guess.reason}")
        tables = cue_tables(cue_languages(lang))
        reading = read_message(text, lang, tables)
        if not reading.words:
            reasons.append("no words to read (empty, emoji-only or links only)")

        sentiment, sent_scores = _sentiment(reading, tables, reasons)
        # With an organisation's intents the built-in cues still inform stage and urgency, silently.
        cue_reasons = reasons if matcher is None else []
        cue_intent, cue_scores = _builtin_intent(reading, tables, sentiment, sent_scores, cue_reasons)
        if matcher is None:
            intent, intent_scores = cue_intent, cue_scores
            department = BUILTIN_INTENT_DEPARTMENTS.get(intent) if intent else None
        else:
            intent, department, intent_scores = matcher.match(reading, reasons)
            if intent is None and cue_intent in listed:
                intent = cue_intent
                department = listed[cue_intent] or BUILTIN_INTENT_DEPARTMENTS.get(cue_intent)
                reasons.append(f"intent {cue_intent}: built-in cues (an intent the organisation lists)")
        stage = _stage(reading, tables, intent if matcher is None else cue_intent, reasons)
        urgency = _urgency(reading, tables, item, sentiment, cue_intent, reasons)
        return TriageResult(
            lang=lang,
            sentiment=sentiment,
            intent=intent,
            stage=stage,
            urgency=urgency,
            department=department,
            scores={"sentiment": sent_scores, "intent": intent_scores},
            reasons=reasons,
            # the built-in reading's signals, whatever the intent vocabulary
            spam=cue_intent == "spam",
            crisis=cue_intent == "crisis",
            complaint=cue_intent in ("complaint", "order_issue"),
        )


@dataclass
class SentimentEvidence:
    """What the sentiment cues of one message add up to (the lexicon's own reading, and the
    cue features of the model triager's stacked sentiment combiner, `combiner.py`)."""

    positive: float = 0.0  # summed weight of positive cues (after negation / intensifiers)
    negative: float = 0.0  # summed weight of negative cues, as a positive number
    emoji_positive: float = 0.0  # the emoji part of the two sums
    emoji_negative: float = 0.0
    negated: int = 0  # cues turned round by a negator
    intensified: int = 0  # cues strengthened by an intensifier
    words: int = 0
    cues: list[str] = field(default_factory=list)


def _tally(reading: Reading, tables: CueTables) -> SentimentEvidence:
    ev = SentimentEvidence(words=reading.words)
    per_emoji: dict[str, int] = {}
    for clause, found in zip(reading.clauses, reading.matches, strict=True):
        for m in _longest_first([m for m in found if m.table == "sentiment"]):
            emoji = len(m.cue) <= 2 and not m.cue.isalnum()
            if emoji:  # a row of ten says no more than two
                per_emoji[m.cue] = per_emoji.get(m.cue, 0) + 1
                if per_emoji[m.cue] > 2:
                    continue
            weight, note = m.weight, m.cue
            if _negated(clause, m, tables):
                weight = -weight * (0.9 if weight > 0 else 0.4)  # "not bad" is mildly positive at most
                note = f"negated {m.cue}"
                ev.negated += 1
            elif _intensified(clause, m, tables):
                weight *= 1.5
                note = f"very {m.cue}"
                ev.intensified += 1
            if weight > 0:
                ev.positive += weight
                ev.emoji_positive += weight if emoji else 0.0
            else:
                ev.negative -= weight
                ev.emoji_negative -= weight if emoji else 0.0
            ev.cues.append(note)
    return ev


def sentiment_evidence(text: str, lang: str) -> SentimentEvidence:
    """The sentiment cues of `text` read as language `lang` (as `LexiconTriager` reads them)."""
    text = safe_text(text, MAX_CHARS)
    tables = cue_tables(cue_languages(lang))
    return _tally(read_message(text, lang, tables), tables)


def _sentiment(reading: Reading, tables: CueTables, reasons: list[str]) -> tuple[str, dict[str, float]]:
    ev = _tally(reading, tables)
    positive, negative, cues = ev.positive, ev.negative, ev.cues
    total = positive + negative + NEUTRAL_PRIOR
    scores = {"positive": positive / total, "neutral": NEUTRAL_PRIOR / total, "negative": negative / total}
    # On a tie the more demanding reading wins: a mixed message is handled as a negative one.
    label = max(("negative", "positive", "neutral"), key=lambda k: scores[k])
    if cues:
        reasons.append(f"sentiment {label}: cues " + ", ".join(f"'{c}'" for c in cues[:6]))
    else:
        reasons.append("sentiment neutral: no sentiment cues")
    return label, scores


def _negated(clause: Clause, m: Match, tables: CueTables) -> bool:
    before = clause.toks[max(0, m.start - NEGATION_WINDOW) : m.start]
    if any(tok in tables.negators for tok in before):
        return True
    after = clause.toks[m.end : m.end + NEGATION_WINDOW]
    return any(tok in tables.post_negators for tok in after)


def _intensified(clause: Clause, m: Match, tables: CueTables) -> bool:
    around = clause.toks[max(0, m.start - 1) : m.start] + clause.toks[m.end : m.end + 1]
    return any(tok in tables.intensifiers for tok in around)


def _builtin_intent(
    reading: Reading,
    tables: CueTables,
    sentiment: str,
    sent_scores: dict[str, float],
    reasons: list[str],
) -> tuple[str | None, dict[str, float]]:
    scores: dict[str, float] = {}
    found: dict[str, list[str]] = {}
    hits = _drop_contained([m for m in reading.all_hits() if m.table.startswith("intent:")])
    for name in BUILTIN_INTENTS:
        matches = [m for m in hits if m.table == f"intent:{name}"]
        if sentiment == "positive":
            # "ordered at 9, delivered by 10, you rock" mentions an order; it is not a problem with one.
            matches = [m for m in matches if m.weight > WEAK]
        scores[name], found[name] = _score(matches)
    if reading.question_mark:
        scores["question"] = scores.get("question", 0.0) + BUILTIN_THRESHOLD
        found.setdefault("question", []).append("?")
    if reading.urls >= 2 or (reading.urls and reading.words <= 3):
        scores["spam"] = scores.get("spam", 0.0) + 0.5
        found.setdefault("spam", []).append("links")
    if sentiment == "negative":
        scores["praise"] = 0.0  # thanks in a furious message is sarcasm or politeness, not praise
        # A clearly negative message with no other purpose is a complaint.
        scores["complaint"] = scores.get("complaint", 0.0) + sent_scores["negative"] + 0.3
        found.setdefault("complaint", []).append(f"negative sentiment {sent_scores['negative']:.2f}")
    elif sentiment == "positive":
        scores["praise"] = scores.get("praise", 0.0) + sent_scores["positive"] + 0.3
        found.setdefault("praise", []).append(f"positive sentiment {sent_scores['positive']:.2f}")
    total = sum(scores.values())
    normalised = {k: (v / total if total else 0.0) for k, v in scores.items()}
    rank = {name: i for i, name in enumerate(INTENT_PRECEDENCE)}
    # Safety and legal words decide alone; then the best specific intent; then complaint, question
    # and praise in that order (a negative message with a question mark is a complaint).
    specific = [n for n in scores if n not in GENERIC_INTENTS and scores[n] >= BUILTIN_THRESHOLD]
    generic = [n for n in GENERIC_INTENTS if scores.get(n, 0.0) >= BUILTIN_THRESHOLD]
    if scores.get("crisis", 0.0) >= NORMAL:
        best = "crisis"
    elif specific:
        best = max(specific, key=lambda n: (scores[n], -rank.get(n, 99)))
    elif generic:
        best = generic[0]
    else:
        best = max(scores, key=lambda n: (scores[n], -rank.get(n, 99)))
    if scores[best] < BUILTIN_THRESHOLD:
        reasons.append(f"no intent matched (best {best}={scores[best]:.2f} < {BUILTIN_THRESHOLD:.2f})")
        return None, normalised
    cues = [c for c in found.get(best, []) if c]
    reasons.append(f"intent {best} ({scores[best]:.2f}): " + ", ".join(f"'{c}'" for c in cues[:4]))
    return best, normalised


def _stage(reading: Reading, tables: CueTables, intent: str | None, reasons: list[str]) -> str:
    best, best_score, best_cues = "unknown", 0.0, []
    for stage in STAGE_PRECEDENCE:  # a tie goes to the later stage: it is the one to act on
        score, cues = _score(reading.hits(f"stage:{stage}"))
        if score > best_score:
            best, best_score, best_cues = stage, score, cues
    if best != "unknown":
        reasons.append(f"stage {best}: " + ", ".join(f"'{c}'" for c in best_cues[:3]))
        return best
    if intent in ("complaint", "order_issue"):
        reasons.append(f"stage post_purchase: from intent {intent}")
        return "post_purchase"
    if intent == "purchase_interest":
        reasons.append("stage pre_purchase: from intent purchase_interest")
        return "pre_purchase"
    return "unknown"


def _urgency(
    reading: Reading,
    tables: CueTables,
    item: TriageInput,
    sentiment: str,
    cue_intent: str | None,
    reasons: list[str],
) -> str:
    critical, crisis_cues = _score(reading.hits("critical"))
    if critical >= NORMAL:
        reasons.append("urgency critical: safety/legal words " + ", ".join(f"'{c}'" for c in crisis_cues[:3]))
        return "critical"
    urgent, urgent_cues = _score(reading.hits("high"))
    if urgent:
        reasons.append("urgency high: asks for urgency " + ", ".join(f"'{c}'" for c in urgent_cues[:2]))
        return "high"
    if sentiment == "negative":
        followers = item.author_followers or 0
        if followers >= 10_000:
            reasons.append(
                f"urgency high: negative message from an influential author ({followers} followers)"
            )
            return "high"
        if item.previous_negative >= 2 or item.open_conversations >= 2:
            reasons.append(
                "urgency high: negative and repeated contact "
                f"({item.previous_negative} earlier negative, {item.open_conversations} open)"
            )
            return "high"
    if cue_intent in ("spam", "praise"):
        reasons.append(f"urgency low: {cue_intent}")
        return "low"
    return "normal"


def builtin_definitions() -> list[IntentDefinition]:
    from relaydesk.triage.builtin_intents import BUILTIN_INTENT_DEFINITIONS

    return list(BUILTIN_INTENT_DEFINITIONS)
