"""The triage contract: what the pipeline, the CLI and the API ask of any triage backend.

Later backends (embeddings, trained heads) plug in behind `Triager` without changing callers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class IntentDefinition:
    """An intent an organisation (or the product) defines by example phrases."""

    name: str
    examples: tuple[str, ...] = ()
    department: str | None = None


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

    def as_dict(self) -> dict[str, object]:
        return {
            "lang": self.lang,
            "sentiment": self.sentiment,
            "intent": self.intent,
            "department": self.department,
            "stage": self.stage,
            "urgency": self.urgency,
            "scores": self.scores,
            "reasons": self.reasons,
        }


class Triager(Protocol):
    """Anything that can triage a batch of messages against a set of intents."""

    def triage(
        self, items: list[TriageInput], intents: list[IntentDefinition] | None = None
    ) -> list[TriageResult]: ...
