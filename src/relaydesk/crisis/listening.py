"""Listening query matching: does a public post mention the brand the way a query asks?

Pure logic. Keywords and exclusions are phrases written by people configuring the product and
posts are written by anyone, so both sides go through `normalize_for_matching` (Arabic/Persian
letter variants, diacritics, stretched letters, Thai word breaks) and keywords become regexes
only through `re.escape`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from relaydesk.triage.normalize import normalize_for_matching

MAX_TERMS = 100
MAX_TERM_CHARS = 100
UNKNOWN_LANGUAGES = frozenset({"", "und", "unknown", "zxx"})

# A handle keyword ("@acme") is matched against the post's mentions: normalisation turns every
# mention into one placeholder, which would make "@acme" match any mention at all.
_HANDLE_RE = re.compile(r"@([A-Za-z0-9_]{1,50})")
_ARABIC_SCRIPT_RE = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
# Arabic and Persian attach conjunctions, prepositions, the article and possessive endings to
# the word itself, so "و+برند+مان" must still count as the brand. Forms are the normalised ones
# (keheh for kaf, Persian yeh), because matching runs on normalised text.
_ARABIC_PREFIXES = "(?:وال|بال|فال|کال|لل|ال|و|ف|ب|ل|ک)?"
_ARABIC_SUFFIXES = "(?:هایی|های|ها|مان|تان|شان|یی|ی|ش|م|ت|نا|کم|هم|ه)?"


class QueryError(ValueError):
    """A listening query that cannot be used as written."""


@dataclass(frozen=True)
class Candidate:
    """One public post as a listening source delivers it, before any matching."""

    network: str
    external_id: str
    author_id: str
    text: str
    author_handle: str | None = None
    author_name: str | None = None
    author_followers: int | None = None
    url: str | None = None
    lang: str | None = None  # the source's own language tag, when it gives one
    posted_at: datetime | None = None
    thread_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MatchResult:
    matched: bool
    keywords: tuple[str, ...] = ()  # the keywords found, as configured
    reason: str = ""
    excluded_by: str | None = None  # the exclusion that vetoed the keywords found, as configured


@dataclass(frozen=True)
class _Term:
    source: str
    pattern: re.Pattern[str] | None  # None for a handle term
    handle: str | None = None


@dataclass(frozen=True)
class CompiledQuery:
    name: str
    keywords: tuple[_Term, ...]
    exclude: tuple[_Term, ...]
    languages: frozenset[str]
    networks: frozenset[str]


def normalize_language(code: str | None) -> str | None:
    """ "fa-IR" -> "fa", "EN" -> "en"; None for unknown tags ("und")."""
    if code is None:
        return None
    base = code.strip().lower().replace("_", "-").split("-", 1)[0]
    return None if base in UNKNOWN_LANGUAGES else base


def clean_terms(terms: Iterable[object], what: str) -> list[str]:
    """Trimmed, de-duplicated terms; a QueryError names the first one that cannot be used."""
    out: list[str] = []
    seen: set[str] = set()
    for i, term in enumerate(terms):
        if not isinstance(term, str):
            raise QueryError(f"{what}[{i}]: must be text")
        text = " ".join(term.split())
        if not text:
            raise QueryError(f"{what}[{i}]: must not be empty")
        if len(text) > MAX_TERM_CHARS:
            raise QueryError(f"{what}[{i}]: longer than {MAX_TERM_CHARS} characters")
        if not _HANDLE_RE.fullmatch(text) and not normalize_for_matching(text).strip():
            raise QueryError(f"{what}[{i}]: has nothing to match after normalisation")
        key = text.lower()
        if key not in seen:
            seen.add(key)
            out.append(text)
    if len(out) > MAX_TERMS:
        raise QueryError(f"{what}: at most {MAX_TERMS} terms")
    return out


def _compile_term(term: str) -> _Term:
    handle = _HANDLE_RE.fullmatch(term)
    if handle:
        return _Term(source=term, pattern=None, handle=handle.group(1).lower())
    words = normalize_for_matching(term).split()
    arabic = [bool(_ARABIC_SCRIPT_RE.search(word)) for word in words]
    body = ""
    for i, word in enumerate(words):
        if i:
            body += r"\s?" if arabic[i - 1] and arabic[i] else r"\s+"
        # Persian writes compounds joined, with a half-space or with a space ("دیجی‌کالا",
        # "دیجی کالا", "دیجیکالا"): inside Arabic-script words a space may come or go.
        body += r"\s?".join(re.escape(ch) for ch in word) if arabic[i] else re.escape(word)
    if any(arabic):
        pattern = rf"(?<!\w){_ARABIC_PREFIXES}{body}{_ARABIC_SUFFIXES}(?!\w)"
    else:
        pattern = rf"(?<!\w){body}(?!\w)"
    return _Term(source=term, pattern=re.compile(pattern))


def compile_query(
    name: str,
    keywords: Sequence[object],
    exclude: Sequence[object] = (),
    languages: Sequence[object] = (),
    networks: Sequence[object] = (),
) -> CompiledQuery:
    """Validate and prepare a query once, to match many posts."""
    kept = clean_terms(keywords, "keywords")
    if not kept:
        raise QueryError("keywords: at least one keyword is required")
    langs: set[str] = set()
    for i, code in enumerate(languages):
        lang = normalize_language(code) if isinstance(code, str) else None
        if lang is None or not lang.isalpha() or len(lang) > 8:
            raise QueryError(f"languages[{i}]: not a language code (fa, ar, en, ...)")
        langs.add(lang)
    nets: set[str] = set()
    for i, net in enumerate(networks):
        if not isinstance(net, str) or not net.strip():
            raise QueryError(f"networks[{i}]: must be a network name (x, instagram, ...)")
        nets.add(net.strip().lower())
    return CompiledQuery(
        name=name,
        keywords=tuple(_compile_term(t) for t in kept),
        exclude=tuple(_compile_term(t) for t in clean_terms(exclude, "exclude")),
        languages=frozenset(langs),
        networks=frozenset(nets),
    )


def _mentions(text: str) -> set[str]:
    folded = unicodedata.normalize("NFKC", text)
    return {m.group(1).lower() for m in _HANDLE_RE.finditer(folded)}


def _found(terms: Sequence[_Term], normalized: str, mentions: set[str]) -> list[str]:
    hits = []
    for term in terms:
        if term.handle is not None:
            if term.handle in mentions:
                hits.append(term.source)
        elif term.pattern is not None and term.pattern.search(normalized):
            hits.append(term.source)
    return hits


def match_text(query: CompiledQuery, text: str) -> MatchResult:
    """Keywords (any one) and exclusions (none) only: language and network are checked apart."""
    normalized = normalize_for_matching(text)
    mentions = _mentions(text)
    hits = _found(query.keywords, normalized, mentions)
    if not hits:
        return MatchResult(False, reason="no keyword found")
    excluded = _found(query.exclude, normalized, mentions)
    if excluded:
        return MatchResult(False, tuple(hits), reason=f"excluded by {excluded[0]!r}", excluded_by=excluded[0])
    return MatchResult(True, tuple(hits), reason=f"keyword {hits[0]!r}")


def language_allowed(query: CompiledQuery, lang: str | None) -> bool:
    """An empty list allows every language; an unknown language passes only such a query."""
    if not query.languages:
        return True
    code = normalize_language(lang)
    return code is not None and code in query.languages


def network_allowed(query: CompiledQuery, network: str) -> bool:
    return not query.networks or network.lower() in query.networks


def match(query: CompiledQuery, text: str, lang: str | None, network: str) -> MatchResult:
    """The whole decision for one post whose language is already known (or None)."""
    if not network_allowed(query, network):
        return MatchResult(False, reason=f"network {network!r} is not listened to by this query")
    result = match_text(query, text)
    if result.matched and not language_allowed(query, lang):
        return MatchResult(
            False, result.keywords, reason=f"language {normalize_language(lang) or 'unknown'} not wanted"
        )
    return result


def _x_term(term: str) -> str:
    # X search has no escape for quotes inside a phrase; dropping them keeps the phrase intact.
    cleaned = term.replace('"', " ").strip()
    if _HANDLE_RE.fullmatch(cleaned):
        return cleaned
    return f'"{" ".join(cleaned.split())}"'


def x_search_query(
    keywords: Sequence[str], exclude: Sequence[str] = (), languages: Sequence[str] = ()
) -> str:
    """The X recent-search query for a listening query (retweets left out: they repeat posts)."""
    if not keywords:
        raise QueryError("keywords: at least one keyword is required")
    parts = ["(" + " OR ".join(_x_term(k) for k in keywords) + ")"]
    parts.extend(f"-{_x_term(e)}" for e in exclude)
    langs = sorted({c for c in (normalize_language(lang) for lang in languages) if c})
    if langs:
        parts.append("(" + " OR ".join(f"lang:{c}" for c in langs) + ")")
    parts.append("-is:retweet")
    return " ".join(parts)
