"""The triage contract: what the pipeline, the CLI and the API ask of any triage backend.

Later backends (embeddings, trained heads) plug in behind `Triager` without changing callers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

# Built-in readings the product acts on whatever intents an organisation defines. They are
# fields of every result (`spam`, `crisis`, `complaint`), never competitors in the intent
# ranking; a routing rule that names `intent: spam` or `intent: crisis` also matches the signal.
SIGNALS = ("spam", "crisis", "complaint")
SIGNAL_INTENTS = frozenset({"spam", "crisis"})


@dataclass(frozen=True)
class IntentDefinition:
    """An intent an organisation (or the product) defines by example phrases."""

    name: str
    examples: tuple[str, ...] = ()
    department: str | None = None
    # True for a built-in intent an organisation listed by name (its examples are the product's):
    # a backend with its own reading of the built-in intents (the lexicon's cues) may use it.
    builtin: bool = False


def org_vocabulary(
    org: Sequence[IntentDefinition], builtin: Sequence[IntentDefinition]
) -> list[IntentDefinition] | None:
    """The intents triage ranks for an organisation; None means the built-in intents.

    An organisation that teaches at least one intent by example has its own vocabulary: exactly
    the intents it lists, so `intent` is one of them or None. A built-in intent it lists without
    examples (to give it a department) keeps the product's examples. An organisation that lists
    no examples at all has only set departments for built-in intents: the built-ins stand.
    """
    if not any(it.examples for it in org):
        return None
    known = {it.name: it for it in builtin}
    vocabulary: list[IntentDefinition] = []
    for it in org:
        if it.examples:
            vocabulary.append(it)
        elif it.name in known:
            base = known[it.name]
            vocabulary.append(
                IntentDefinition(it.name, base.examples, it.department or base.department, builtin=True)
            )
    return vocabulary


def vocabulary_names(org: Sequence[tuple[str, bool]], builtin: Sequence[str]) -> list[str]:
    """The intent names an organisation's triage can answer, from (name, has examples) pairs:
    its own list when it teaches any intent by example, else the built-in names."""
    if any(has_examples for _, has_examples in org):
        return list(dict.fromkeys(name for name, _ in org))
    return list(builtin)


@dataclass(frozen=True)
class TriageInput:
    text: str
    lang: str | None = None  # a caller-supplied language hint (ISO 639-1)
    channel: str | None = None
    # Signals known outside the text (used for urgency): follower count, repeat contact, ...
    author_followers: int | None = None
    previous_negative: int = 0
    open_conversations: int = 0


@dataclass
class TriageResult:
    lang: str  # ISO 639-1 or "und"
    sentiment: str  # positive|neutral|negative
    intent: str | None
    stage: str  # pre_purchase|purchase|post_purchase|unknown
    urgency: str  # low|normal|high|critical
    department: str | None = None
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    # the product's own signals, read whatever the intent vocabulary is (see SIGNALS)
    spam: bool = False
    crisis: bool = False
    complaint: bool = False

    def copy(self) -> TriageResult:
        """A copy whose scores and reasons can be edited (routing adds reasons) without touching this
        one: a cached result is never handed out itself."""
        return replace(self, scores={k: dict(v) for k, v in self.scores.items()}, reasons=list(self.reasons))

    def as_dict(self) -> dict[str, object]:
        return {
            "lang": self.lang,
            "sentiment": self.sentiment,
            "intent": self.intent,
            "department": self.department,
            "stage": self.stage,
            "urgency": self.urgency,
            "spam": self.spam,
            "crisis": self.crisis,
            "complaint": self.complaint,
            "scores": self.scores,
            "reasons": self.reasons,
        }


class Triager(Protocol):
    """Anything that can triage a batch of messages against a set of intents."""

    def triage(
        self, items: list[TriageInput], intents: list[IntentDefinition] | None = None
    ) -> list[TriageResult]: ...
