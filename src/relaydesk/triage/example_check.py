"""The few-shot check of an intent's examples (pure): where triage puts each example today.

Each example is triaged as if a customer had written it. One that lands on another intent (or on
none) teaches triage something it does not follow; one whose runner-up is close behind sits on a
border between two intents, and a message like it may go either way. Read with the intents as
stored, an example mostly finds itself; so it is also read held out (its intent without it): one
that lands elsewhere then is the only example of its kind, and a customer who words it a little
differently is likely to be missed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

# A runner-up this close to the winner makes the example ambiguous.
CLOSE_MARGIN = 0.05


@dataclass(frozen=True)
class ExampleCheck:
    example: str
    landed: str | None  # the intent triage gives it; None = no intent
    score: float  # the landed intent's score (0 when none)
    runner_up: str | None
    runner_up_score: float
    status: str  # ok | close | alone | elsewhere | nowhere
    # The intent it lands on when its own intent is taught without it; None = no intent, or not read.
    held_out: str | None = None
    lang: str = "und"  # the language triage reads the example in

    @property
    def flagged(self) -> bool:
        return self.status in ("elsewhere", "nowhere")


def ranked(scores: Mapping[str, float], limit: int = 3) -> list[tuple[str, float]]:
    """The best-scored intents first (ties by name, so the order is stable)."""
    pairs = [(name, float(score)) for name, score in scores.items()]
    return sorted(pairs, key=lambda pair: (-pair[1], pair[0]))[:limit]


def check_example(
    intent: str,
    example: str,
    landed: str | None,
    scores: Mapping[str, float],
    held_out: str | bool | None = True,
) -> ExampleCheck:
    """`held_out`: the intent it gets held out (None: none), or True when that was not read."""
    order = ranked(scores, limit=len(scores))
    score = float(scores.get(landed, 0.0)) if landed else 0.0
    others = [(name, value) for name, value in order if name != landed]
    runner_up, runner_up_score = others[0] if others else (None, 0.0)
    if landed is None:
        status = "nowhere"
    elif landed != intent:
        status = "elsewhere"
    elif held_out is not True and held_out != intent:
        status = "alone"
    elif runner_up is not None and score - runner_up_score < CLOSE_MARGIN:
        status = "close"
    else:
        status = "ok"
    held = held_out if isinstance(held_out, str) else None
    return ExampleCheck(example, landed, score, runner_up, runner_up_score, status, held)


def check_examples(
    intent: str,
    examples: Sequence[str],
    readings: Sequence[tuple[str | None, Mapping[str, float]]],
    held_out: Sequence[str | None] = (),
    langs: Sequence[str] = (),
) -> list[ExampleCheck]:
    """One check per example; `readings` are triage's (intent, intent scores) for each, in order;
    `held_out` the intents the first examples get held out (the rest were not read so); `langs`
    the language each is read in."""
    checks = [
        check_example(intent, example, landed, scores, held_out[i] if i < len(held_out) else True)
        for i, (example, (landed, scores)) in enumerate(zip(examples, readings, strict=True))
    ]
    return [replace(c, lang=langs[i]) if i < len(langs) else c for i, c in enumerate(checks)]


# Examples in one language carry over to another only roughly with the triage model (ArBanking77
# from English examples 0.39 top-1; with ten native examples an intent, 0.66: MODEL_CARD.md), so
# an intent with fewer than this many examples in a language is matched less surely in it.
NATIVE_EXAMPLES = 3


def thin_languages(checks: Sequence[ExampleCheck], languages: Sequence[str]) -> list[str]:
    """The languages (of `languages`, in that order) in which the intent has fewer than
    NATIVE_EXAMPLES examples; none when it has no examples at all (nothing to compare)."""
    if not checks:
        return []
    counts = {lang: sum(1 for c in checks if c.lang == lang) for lang in languages}
    return [lang for lang in languages if counts[lang] < NATIVE_EXAMPLES]
