"""An organisation's own regular expression as a guideline, made safe to run on every reply.

Python's `re` cannot be interrupted, so a pattern like `(a+)+$` could hold a worker for minutes
on one unlucky reply. Patterns run on the `regex` library instead, whose matching takes a timeout.
At save a pattern is compiled and tried on adversarial probes within a small budget, and refused
when it is invalid or slow; at check time each search is time-limited again, and a pattern that
runs out of time gives a warning instead of holding the reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import regex

MAX_PATTERN_CHARS = 500
SAVE_BUDGET_S = 0.05  # per probe, when a pattern is saved
CHECK_BUDGET_S = 0.01  # per reply, when a reply is checked
# Long runs of one kind of character with a different one at the end: what makes nested
# quantifiers backtrack. Each script the product serves, digits and spaces.
_PROBE_UNITS = ("a", "A", "1", " ", "a ", "ab", "ا", "ب ", "א", "ก", ".", "-", "aa1", "\n")
_PROBE_LENGTH = 3000


class PatternProblem(ValueError):
    """Why a pattern cannot be a guideline (shown to the person saving it); `reason` is a key the
    pages have a sentence for: missing, long, invalid, empty_match, slow."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Hits:
    spans: tuple[tuple[int, int], ...]
    timed_out: bool = False


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern, regex.IGNORECASE | regex.UNICODE | regex.V0)


def check_pattern(pattern: str) -> None:
    """Raise PatternProblem when `pattern` is empty, too long, invalid or slow on adversarial text."""
    if not pattern.strip():
        raise PatternProblem("missing", "write a pattern")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternProblem("long", f"at most {MAX_PATTERN_CHARS} characters")
    try:
        compiled = _compiled(pattern)
    except (regex.error, OverflowError, RecursionError) as exc:
        raise PatternProblem("invalid", f"not a valid regular expression ({exc})") from None
    if compiled.search("", timeout=SAVE_BUDGET_S) is not None and compiled.fullmatch("") is not None:
        raise PatternProblem(
            "empty_match", "the pattern matches an empty reply, so it would flag every reply"
        )
    for unit in _PROBE_UNITS:
        body = unit * (_PROBE_LENGTH // len(unit))
        for probe in (body + "!", "!" + body, body):
            try:
                compiled.search(probe, timeout=SAVE_BUDGET_S)
            except TimeoutError:
                raise PatternProblem(
                    "slow",
                    "the pattern is too slow on long replies (nested repetition such as (a+)+): simplify it",
                ) from None


def find(pattern: str, text: str, budget_s: float = CHECK_BUDGET_S) -> Hits:
    """Where `pattern` matches `text`, within the time budget (a saved pattern: checked already)."""
    try:
        compiled = _compiled(pattern)
    except (regex.error, OverflowError, RecursionError):
        return Hits((), timed_out=True)
    spans: list[tuple[int, int]] = []
    try:
        for match in compiled.finditer(text, timeout=budget_s):
            if match.end() > match.start():
                spans.append(match.span())
            if len(spans) >= 50:
                break
    except TimeoutError:
        return Hits(tuple(spans), timed_out=True)
    return Hits(tuple(spans))
