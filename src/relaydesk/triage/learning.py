"""Whether a sentiment head refitted on the team's corrections is better than the one in use (pure).

One correction in five (by a stable hash of its text, so the same correction stays on the same
side from run to run) is held back: the refit never sees it, and both the head in use and the
refitted one are scored on it. The refitted head replaces the one in use only when it scores at
least as well there; with fewer than `MIN_HELD_BACK` held-back corrections there is nothing to judge
by, and the head in use stays.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

HELD_BACK_ONE_IN = 5
MIN_HELD_BACK = 3


def held_back(text: str) -> bool:
    digest = hashlib.blake2b(text.strip().encode("utf-8", "replace"), digest_size=8).digest()
    return int.from_bytes(digest, "little") % HELD_BACK_ONE_IN == 0


def split(examples: Sequence[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(to learn from, held back) of (text, label) corrections."""
    learn = [pair for pair in examples if not held_back(pair[0])]
    held = [pair for pair in examples if held_back(pair[0])]
    return learn, held


def accuracy(predicted: Sequence[str], gold: Sequence[str]) -> float:
    if not gold:
        return 0.0
    return sum(p == g for p, g in zip(predicted, gold, strict=True)) / len(gold)


@dataclass(frozen=True)
class Outcome:
    """One learning run: how many corrections, both scores on the held-back slice, what was kept."""

    corrections: int
    learned_from: int
    held_back: int
    score_in_use: float | None
    score_refitted: float | None
    kept: str  # "refitted" | "in use"
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def judge(learned_from: int, gold: Sequence[str], in_use: Sequence[str], refitted: Sequence[str]) -> Outcome:
    """Keep the refitted head when it is at least as right as the one in use on the held-back slice."""
    total = learned_from + len(gold)
    if len(gold) < MIN_HELD_BACK or learned_from == 0:
        return Outcome(
            total,
            learned_from,
            len(gold),
            None,
            None,
            "in use",
            f"too few corrections to judge a refit (need {MIN_HELD_BACK} held back and some to learn from)",
        )
    before, after = accuracy(in_use, gold), accuracy(refitted, gold)
    kept = "refitted" if after >= before else "in use"
    reason = "the refit is at least as right" if kept == "refitted" else "the refit scored worse"
    return Outcome(total, learned_from, len(gold), round(before, 4), round(after, 4), kept, reason)
