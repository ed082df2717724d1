"""Whole-word phrase search in the five scripts (pure): banned phrases, greetings.

A phrase is found only where it starts and ends on a word boundary of the text, both sides in
the `fold` form: banning "hell" does not block "Hello". What a word boundary is depends on the
script:
- spaced scripts (Latin, Hebrew, Arabic, Persian, ...): a change between word characters
  (letters, marks, digits; an apostrophe inside a word) and anything else, or between scripts
  ("error404", "ราคา100บาท");
- Thai has no spaces: the boundaries are pythainlp's word boundaries (newmm), so a phrase
  matches whole Thai words only ("หมา" is not in "หมากฝรั่ง");
- Arabic, Persian and Hebrew attach clitics to words ("و+ال+کذب", "دروغ+ه", "ו+ה+..."): a
  phrase may also sit behind one of a few prefixes or before one of a few suffixes, but only
  when its edge word is long enough that the stripped form cannot be another common word (a
  two-letter Arabic-script word takes no clitic: banning "سم" must not block "بسم" or "اسمك").

Only plain string comparisons run on the text: a phrase, written by an organisation, is never
compiled into a regular expression, and customer text never is.
"""

from __future__ import annotations

import bisect
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from relaydesk.triage.normalize import fold, thai_word_ends

# Clitics in their folded form (ك -> ک, ي -> ی, ة -> ه). Longest first, so "وال" is tried before "و".
_ARABIC_SCRIPT_PREFIXES = ("وال", "بال", "فال", "کال", "لل", "ال", "و", "ف", "ب", "ل")
_ARABIC_SCRIPT_SUFFIXES = tuple(
    sorted(
        {
            # Arabic attached pronouns
            *("ه", "ها", "هم", "هما", "هن", "ک", "کم", "کن", "ی", "نا"),
            # Persian plural, ezafe / indefinite, possessive and copula endings (formal and spoken)
            *("ها", "های", "هایی", "ی", "ای", "یی", "م", "ت", "ش", "ام", "ات", "اش", "مان", "تان", "شان"),
            *(
                "یم",
                "ید",
                "ند",
                "مون",
                "تون",
                "شون",
                "ایم",
                "اید",
                "اند",
                "هایم",
                "هایت",
                "هایش",
                "هایمان",
                "هایتان",
            ),
            "هایشان",
        },
        key=len,
        reverse=True,
    )
)
_HEBREW_PREFIXES = (
    *("וכש", "ושה", "וה", "וב", "ול", "ומ", "וש", "שה", "שב", "של", "מה", "כש", "לכ"),
    *("ה", "ו", "ש", "ב", "ל", "מ", "כ"),
)
_HEBREW_SUFFIXES = ("ים", "ות", "כם", "כן", "הם", "נו", "ה", "ת", "י", "ך", "ו")
# Shortest edge word that may carry a clitic, per script (see the module docstring).
_MIN_PREFIXED = {"arabic": 3, "hebrew": 2}
_MIN_SUFFIXED = {"arabic": 3, "hebrew": 3}


def _script(ch: str) -> str:
    cp = ord(ch)
    if 0x0E00 <= cp <= 0x0E7F:
        return "thai"
    if 0x0590 <= cp <= 0x05FF or 0xFB1D <= cp <= 0xFB4F:
        return "hebrew"
    if 0x0600 <= cp <= 0x06FF or 0x0750 <= cp <= 0x077F or 0x08A0 <= cp <= 0x08FF or 0xFB50 <= cp <= 0xFEFF:
        return "arabic"
    if unicodedata.category(ch) == "Nd":
        return "digit"
    return "other"


def _is_word(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMN"


def _boundaries(text: str) -> frozenset[int]:
    """Offsets of `text` where a word starts or ends."""
    n = len(text)
    found = {0, n}
    for k in range(1, n):
        a, b = text[k - 1], text[k]
        if b == "'" and _is_word(a) and k + 1 < n and _is_word(text[k + 1]):
            continue  # "don't": the apostrophe belongs to the word
        if a == "'" and k >= 2 and _is_word(text[k - 2]) and _is_word(b):
            continue
        if not (_is_word(a) and _is_word(b)) or _script(a) != _script(b):
            found.add(k)
    found.update(thai_word_ends(text))
    return frozenset(found)


@dataclass(frozen=True)
class _Form:
    text: str
    bounds: frozenset[int]

    @classmethod
    def of(cls, folded: str) -> _Form:
        return cls(folded, _boundaries(folded))


@dataclass(frozen=True)
class SearchText:
    """A text prepared once for any number of phrase searches (its two ZWNJ readings)."""

    spaced: _Form
    joined: _Form

    @classmethod
    def of(cls, text: str) -> SearchText:
        spaced = fold(text)
        joined = fold(text, join_zwnj=True)
        form = _Form.of(spaced)
        return cls(form, form if joined == spaced else _Form.of(joined))


def _edge_word(needle: str, *, last: bool) -> str:
    """The first (or last) run of word characters of the same script at the needle's edge."""
    chars = reversed(needle) if last else iter(needle)
    word: list[str] = []
    for ch in chars:
        if not _is_word(ch) or (word and _script(ch) != _script(word[0])):
            break
        word.append(ch)
    return "".join(reversed(word) if last else word)


def _left_ok(form: _Form, start: int, needle: str) -> bool:
    if not _is_word(needle[0]) or start in form.bounds:
        return True
    word = _edge_word(needle, last=False)
    script = _script(word[0])
    prefixes = (
        _ARABIC_SCRIPT_PREFIXES if script == "arabic" else _HEBREW_PREFIXES if script == "hebrew" else ()
    )
    if not prefixes or len(word) < _MIN_PREFIXED[script]:
        return False
    return any(
        form.text.endswith(prefix, 0, start) and (start - len(prefix)) in form.bounds for prefix in prefixes
    )


def _right_ok(form: _Form, end: int, needle: str) -> bool:
    if not _is_word(needle[-1]) or end in form.bounds:
        return True
    word = _edge_word(needle, last=True)
    script = _script(word[0])
    suffixes = (
        _ARABIC_SCRIPT_SUFFIXES if script == "arabic" else _HEBREW_SUFFIXES if script == "hebrew" else ()
    )
    if not suffixes or len(word) < _MIN_SUFFIXED[script]:
        return False
    return any(
        form.text.startswith(suffix, end) and (end + len(suffix)) in form.bounds for suffix in suffixes
    )


def _starts(form: _Form, needle: str) -> Iterator[int]:
    """Where `needle` starts as whole words in the folded form."""
    start = form.text.find(needle)
    while start != -1:
        if _left_ok(form, start, needle) and _right_ok(form, start + len(needle), needle):
            yield start
        start = form.text.find(needle, start + 1)


def _occurs(form: _Form, needle: str) -> bool:
    for _ in _starts(form, needle):
        return True
    return False


def contains_phrase(text: SearchText | str, phrase: str) -> bool:
    """Whether `phrase` occurs in `text` as whole words (see the module docstring)."""
    haystack = text if isinstance(text, SearchText) else SearchText.of(text)
    spaced = fold(phrase)
    if not spaced:
        return False
    if _occurs(haystack.spaced, spaced):
        return True
    joined = fold(phrase, join_zwnj=True)
    return bool(joined) and _occurs(haystack.joined, joined)


def phrase_spans(text: str, phrase: str, searchable: SearchText | None = None) -> list[tuple[int, int]]:
    """Where `phrase` occurs in `text` as whole words (as `contains_phrase` finds it), as
    (start, end) offsets into `text` itself: what an editor underlines."""
    haystack = searchable or SearchText.of(text)
    for join, form in ((False, haystack.spaced), (True, haystack.joined)):
        needle = fold(phrase, join_zwnj=join)
        if not needle:
            continue
        spans = [_original_span(text, start, start + len(needle), join) for start in _starts(form, needle)]
        if spans:
            return spans
    return []


def _original_span(text: str, start: int, end: int, join: bool) -> tuple[int, int]:
    """The offsets in `text` of the folded form's [start, end).

    Folding changes lengths (NFKC, removed marks, collapsed spaces), so the folded length of each
    prefix of `text` is searched instead: it only grows as the prefix does.
    """

    def folded_length(k: int) -> int:
        return len(fold(text[:k], join_zwnj=join))

    positions = range(len(text) + 1)
    first = bisect.bisect_right(positions, start, key=folded_length) - 1
    last = bisect.bisect_left(positions, end, key=folded_length)
    first = max(0, min(first, len(text)))
    return first, max(first, min(last, len(text)))
