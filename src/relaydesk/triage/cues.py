"""The cue tables of lexicon_data.py as one index, and a message read against it.

A message is cut into clauses (normalize.py) and each clause is scanned once for every cue of
every table. A cue matches whole tokens or the token without a clitic of its language
(`_variants`); Thai cues match the segmented text at word boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from relaydesk.triage import lexicon_data as data
from relaydesk.triage.langid import UNDETERMINED
from relaydesk.triage.normalize import PLACEHOLDERS, URL_TOKEN, clauses, tokens

LANGS = ("en", "fa", "ar", "he", "th")
STRONG, NORMAL, WEAK = 1.6, 1.0, 0.5


@dataclass(frozen=True)
class Match:
    table: str  # "sentiment", "intent:complaint", "stage:purchase", "critical", "high"
    start: int  # token span [start, end) within the clause
    end: int
    cue: str  # the cue as written in lexicon_data, for reasons
    weight: float
    clause: int = 0


@dataclass
class CueIndex:
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

    def find(self, clause: Clause, clause_no: int = 0) -> list[Match]:
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

    def _find_thai(self, clause: Clause, clause_no: int) -> list[Match]:
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
class Clause:
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


def _clause(toks: list[str], lang: str) -> Clause:
    clause = Clause(toks, [_variants(t, lang) for t in toks], any(_is_thai(t) for t in toks))
    if clause.thai:
        offset = 0
        for i, tok in enumerate(toks):
            clause.starts[offset] = i
            offset += len(tok)
            clause.ends[offset] = i + 1
        clause.joined = "".join(toks)
    return clause


@dataclass
class CueTables:
    index: CueIndex
    negators: frozenset[str]
    post_negators: frozenset[str]
    intensifiers: frozenset[str]


def _add(index: CueIndex, name: str, langs: tuple[str, ...], *tables: tuple[data.Cues, float]) -> None:
    for table, weight in tables:
        for lang in langs:
            for phrase in table.get(lang, ()):
                index.add(name, phrase, weight)


def _words(table: data.Cues, langs: tuple[str, ...]) -> frozenset[str]:
    """Single-token entries only: negators and intensifiers are compared token by token."""
    single = (tokens(phrase) for lang in langs for phrase in table.get(lang, ()))
    return frozenset(toks[0] for toks in single if len(toks) == 1)


@lru_cache(maxsize=16)
def cue_tables(langs: tuple[str, ...]) -> CueTables:
    index = CueIndex()
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
    return CueTables(
        index=index,
        negators=_words(data.NEGATORS, grammar),
        post_negators=_words(data.POST_NEGATORS, grammar),
        intensifiers=_words(data.INTENSIFIERS, grammar),
    )


def cue_languages(lang: str) -> tuple[str, ...]:
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


@dataclass
class Reading:
    """What the cue tables found in one message: per clause, every match of every table."""

    lang: str
    clauses: list[Clause]
    matches: list[list[Match]]
    question_mark: bool
    urls: int
    words: int

    def hits(self, table: str) -> list[Match]:
        return [m for found in self.matches for m in found if m.table == table]

    def all_hits(self) -> list[Match]:
        return [m for found in self.matches for m in found]


def read_message(text: str, lang: str, tables: CueTables) -> Reading:
    """Every match of every table in `text`, clause by clause."""
    groups = clauses(text, lang)
    match_lang = lang if lang != UNDETERMINED else ""
    words = sum(
        1 for group in groups for tok in group if tok not in PLACEHOLDERS and any(c.isalpha() for c in tok)
    )
    urls = sum(1 for group in groups for tok in group if tok == URL_TOKEN)
    read = [_clause(group, match_lang) for group in groups]
    return Reading(
        lang=lang,
        clauses=read,
        matches=[tables.index.find(clause, no) for no, clause in enumerate(read)],
        question_mark="?" in text or "؟" in text,
        urls=urls,
        words=words,
    )
