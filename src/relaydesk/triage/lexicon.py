"""The keyword/lexicon triager: fast, explainable, no model files; the fallback of the model triager.

Every decision names the cue words it rests on. Cues are normalised exactly like messages, so
Persian and Arabic letter variants, diacritics, niqqud and Thai segmentation line up. Matching is
on whole tokens (with the clitics of each language), inside a clause, so negation ("not good",
"خوب نیست", "לא טוב", "ไม่ดี", "مش كويس") and intensifiers ("very", "خیلی", "มาก") reach only
the words they belong to.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from relaydesk.core.enums import BUILTIN_INTENT_DEPARTMENTS, BUILTIN_INTENTS
from relaydesk.triage import lexicon_data as data
from relaydesk.triage.base import IntentDefinition, TriageInput, TriageResult
from relaydesk.triage.langid import UNDETERMINED, detect_language, safe_text
from relaydesk.triage.normalize import PLACEHOLDERS, URL_TOKEN, clauses, tokens

LANGS = ("en", "fa", "ar", "he", "th")
MAX_CHARS = 5_000  # cues beyond the first few KB of a 100 KB message change nothing
CUSTOM_THRESHOLD = 0.30
BUILTIN_THRESHOLD = 0.8
NEUTRAL_PRIOR = 0.8  # evidence a message needs before it is more than neutral
STRONG, NORMAL, WEAK = 1.6, 1.0, 0.5
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


@dataclass(frozen=True)
class Match:
    table: str  # "sentiment", "intent:complaint", "stage:purchase", "critical", "high"
    start: int  # token span [start, end) within the clause
    end: int
    cue: str  # the cue as written in lexicon_data, for reasons
    weight: float
    clause: int = 0


@dataclass
class _Index:
    """Every cue of every table, so that a clause is scanned once. Looked up by first token;
    Thai phrases by their joined text."""

    by_first: dict[str, dict[tuple[str, ...], dict[str, tuple[str, float]]]] = field(default_factory=dict)
    thai: dict[str, dict[str, tuple[str, float]]] = field(default_factory=dict)
    thai_by_char: dict[str, list[str]] = field(default_factory=dict)

    def add(self, table: str, phrase: str, weight: float) -> None:
        toks = tuple(tokens(phrase))
        if not toks:
            return
        if any(_is_thai(t) for t in toks):
            joined = "".join(toks)
            if joined not in self.thai:
                self.thai_by_char.setdefault(joined[0], []).append(joined)
            slot = self.thai.setdefault(joined, {})
        else:
            slot = self.by_first.setdefault(toks[0], {}).setdefault(toks, {})
        old = slot.get(table)
        if old is None or abs(weight) > abs(old[1]):
            slot[table] = (phrase, weight)

    def find(self, clause: _Clause, clause_no: int = 0) -> list[Match]:
        found: list[Match] = []
        n = len(clause.toks)
        for i, variants in enumerate(clause.variants):
            for variant in variants:
                for phrase, tables in self.by_first.get(variant, {}).items():
                    end = i + len(phrase)
                    if end <= n and all(phrase[k] in clause.variants[i + k] for k in range(1, len(phrase))):
                        found.extend(Match(t, i, end, cue, w, clause_no) for t, (cue, w) in tables.items())
        if self.thai and clause.thai:
            found.extend(self._find_thai(clause, clause_no))
        return found

    def _find_thai(self, clause: _Clause, clause_no: int) -> list[Match]:
        # newmm may cut a phrase differently in context than alone, but its word boundaries at the
        # phrase's two ends agree; matching the joined text at boundaries is robust to both.
        found: list[Match] = []
        joined, ends = clause.joined, clause.ends
        for pos, i in clause.starts.items():
            for phrase in self.thai_by_char.get(joined[pos], ()):
                stop = pos + len(phrase)
                if stop in ends and joined.startswith(phrase, pos):
                    tables = self.thai[phrase]
                    found.extend(Match(t, i, ends[stop], cue, w, clause_no) for t, (cue, w) in tables.items())
        return found


def _is_thai(token: str) -> bool:
    return any("\u0e00" <= ch <= "\u0e7f" for ch in token)


@dataclass
class _Clause:
    toks: list[str]
    variants: list[tuple[str, ...]]
    thai: bool
    joined: str = ""
    starts: dict[int, int] = field(default_factory=dict)  # char offset -> token index
    ends: dict[int, int] = field(default_factory=dict)  # char offset -> token index + 1


@lru_cache(maxsize=65_536)
def _variants(token: str, lang: str) -> tuple[str, ...]:
    """The token and what it may be without a clitic or a stretched letter."""
    out = [token]
    if len(token) > 3 and any(token[i] == token[i + 1] for i in range(len(token) - 1)):
        squashed = "".join(ch for i, ch in enumerate(token) if i == 0 or ch != token[i - 1])
        out.append(squashed)  # "greaat" -> "great", "goood" is already "good"
    langs = (lang,) if lang in LANGS else LANGS
    for code in langs:
        for prefix in data.PREFIXES.get(code, ()):
            if token.startswith(prefix) and len(token) - len(prefix) >= 2:
                out.append(token[len(prefix) :])
        for suffix in data.SUFFIXES.get(code, ()):
            if token.endswith(suffix) and len(token) - len(suffix) >= 3:
                stem = token[: -len(suffix)]
                out.append(stem)
                if code == "ar":
                    for prefix in data.PREFIXES["ar"]:
                        if stem.startswith(prefix) and len(stem) - len(prefix) >= 2:
                            out.append(stem[len(prefix) :])
    return tuple(dict.fromkeys(out))


def _clause(toks: list[str], lang: str) -> _Clause:
    clause = _Clause(toks, [_variants(t, lang) for t in toks], any(_is_thai(t) for t in toks))
    if clause.thai:
        offset = 0
        for i, tok in enumerate(toks):
            clause.starts[offset] = i
            offset += len(tok)
            clause.ends[offset] = i + 1
        clause.joined = "".join(toks)
    return clause


@dataclass
class _Tables:
    index: _Index
    negators: frozenset[str]
    post_negators: frozenset[str]
    intensifiers: frozenset[str]


def _add(index: _Index, name: str, langs: tuple[str, ...], *tables: tuple[data.Cues, float]) -> None:
    for table, weight in tables:
        for lang in langs:
            for phrase in table.get(lang, ()):
                index.add(name, phrase, weight)


def _words(table: data.Cues, langs: tuple[str, ...]) -> frozenset[str]:
    """Single-token entries only: negators and intensifiers are compared token by token."""
    single = (tokens(phrase) for lang in langs for phrase in table.get(lang, ()))
    return frozenset(toks[0] for toks in single if len(toks) == 1)


@lru_cache(maxsize=16)
def _tables(langs: tuple[str, ...]) -> _Tables:
    index = _Index()
    _add(
        index,
        "sentiment",
        langs,
        (data.POSITIVE_WEAK, WEAK),
        (data.POSITIVE, NORMAL),
        (data.POSITIVE_STRONG, STRONG),
        (data.NEGATIVE_WEAK, -WEAK),
        (data.NEGATIVE, -NORMAL),
        (data.NEGATIVE_STRONG, -STRONG),
    )
    for emoji_set, weight in (
        (data.EMOJI_POSITIVE, NORMAL),
        (data.EMOJI_POSITIVE_STRONG, STRONG),
        (data.EMOJI_NEGATIVE, -NORMAL),
        (data.EMOJI_NEGATIVE_STRONG, -STRONG),
    ):
        for emoji in emoji_set:
            index.add("sentiment", emoji, weight)
    for name, table in data.INTENT_CUES.items():
        _add(index, f"intent:{name}", langs, (data.INTENT_CUES_WEAK.get(name, {}), WEAK), (table, NORMAL))
    for name, table in data.STAGE_CUES.items():
        _add(index, f"stage:{name}", langs, (table, NORMAL))
    _add(index, "critical", langs, (data.INTENT_CUES_WEAK["crisis"], WEAK), (data.URGENCY_CRITICAL, NORMAL))
    _add(index, "high", langs, (data.URGENCY_HIGH, NORMAL))
    grammar = langs if len(langs) > 3 else (langs[0], "en")
    return _Tables(
        index=index,
        negators=_words(data.NEGATORS, grammar),
        post_negators=_words(data.POST_NEGATORS, grammar),
        intensifiers=_words(data.INTENSIFIERS, grammar),
    )


def _languages(lang: str) -> tuple[str, ...]:
    # The message's language first; English cues too, since customers mix in English words.
    # Persian and Arabic share a script and many words, and a short message may be taken for the
    # other one, so their cues go together (negators stay with the first language: Persian "ما"
    # is "we", not "not").
    if lang == "en":
        return ("en",)
    if lang in ("fa", "ar"):
        return (lang, "ar" if lang == "fa" else "fa", "en")
    if lang in LANGS:
        return (lang, "en")
    return LANGS


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


@dataclass
class _Reading:
    """What the cue tables found in one message: per clause, every match of every table."""

    lang: str
    clauses: list[_Clause]
    matches: list[list[Match]]
    question_mark: bool
    urls: int
    words: int

    def hits(self, table: str) -> list[Match]:
        return [m for found in self.matches for m in found if m.table == table]

    def all_hits(self) -> list[Match]:
        return [m for found in self.matches for m in found]


def _score(matches: Iterable[Match]) -> tuple[float, list[str]]:
    """Sum of distinct cues' weights (a cue said twice counts once) and their names."""
    best: dict[str, float] = {}
    for m in matches:
        best[m.cue] = max(best.get(m.cue, 0.0), m.weight)
    return sum(best.values()), list(best)


class LexiconTriager:
    """Implements the Triager contract with cue words; thousands of short messages per second."""

    def triage(
        self, items: list[TriageInput], intents: list[IntentDefinition] | None = None
    ) -> list[TriageResult]:
        """With `intents`, the intent is one of them or None: the organisation's own intents by
        their examples, the built-in ones it lists by name through the built-in cues."""
        matcher = _ExampleMatcher([it for it in intents if not it.builtin]) if intents is not None else None
        listed = {it.name: it.department for it in intents or () if it.builtin}
        return [self._one(item, matcher, listed) for item in items]

    def _one(
        self, item: TriageInput, matcher: _ExampleMatcher | None, listed: dict[str, str | None]
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
        tables = _tables(_languages(lang))
        reading = self._read(text, lang, tables)
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

    @staticmethod
    def _read(text: str, lang: str, tables: _Tables) -> _Reading:
        groups = clauses(text, lang)
        match_lang = lang if lang != UNDETERMINED else ""
        words = sum(
            1
            for group in groups
            for tok in group
            if tok not in PLACEHOLDERS and any(c.isalpha() for c in tok)
        )
        urls = sum(1 for group in groups for tok in group if tok == URL_TOKEN)
        read = [_clause(group, match_lang) for group in groups]
        return _Reading(
            lang=lang,
            clauses=read,
            matches=[tables.index.find(clause, no) for no, clause in enumerate(read)],
            question_mark="?" in text or "؟" in text,
            urls=urls,
            words=words,
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


def _tally(reading: _Reading, tables: _Tables) -> SentimentEvidence:
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
    tables = _tables(_languages(lang))
    return _tally(LexiconTriager._read(text, lang, tables), tables)


def _sentiment(reading: _Reading, tables: _Tables, reasons: list[str]) -> tuple[str, dict[str, float]]:
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


def _negated(clause: _Clause, m: Match, tables: _Tables) -> bool:
    before = clause.toks[max(0, m.start - NEGATION_WINDOW) : m.start]
    if any(tok in tables.negators for tok in before):
        return True
    after = clause.toks[m.end : m.end + NEGATION_WINDOW]
    return any(tok in tables.post_negators for tok in after)


def _intensified(clause: _Clause, m: Match, tables: _Tables) -> bool:
    around = clause.toks[max(0, m.start - 1) : m.start] + clause.toks[m.end : m.end + 1]
    return any(tok in tables.intensifiers for tok in around)


def _builtin_intent(
    reading: _Reading,
    tables: _Tables,
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


def _stage(reading: _Reading, tables: _Tables, intent: str | None, reasons: list[str]) -> str:
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
    reading: _Reading,
    tables: _Tables,
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


class _ExampleMatcher:
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

    def match(self, reading: _Reading, reasons: list[str]) -> tuple[str | None, str | None, dict[str, float]]:
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


def builtin_definitions() -> list[IntentDefinition]:
    from relaydesk.triage.builtin_intents import BUILTIN_INTENT_DEFINITIONS

    return list(BUILTIN_INTENT_DEFINITIONS)
