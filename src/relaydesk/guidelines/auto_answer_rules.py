"""When RelayDesk answers by itself (pure): an away message outside business hours and an approved
FAQ answer for a clear question, each off until an account turns it on.

The product brief: a customer who asked expects an answer in reasonable time and does not care who
runs the page. Both answers leave the conversation open for a person (they are not the first
response the SLA waits for) and are never sent where a person must speak: a crisis (the message
reads as one, or an open crisis alert covers its place), a VIP customer, spam, or a public comment
(an away note under a post reads as the brand ignoring it). The away message goes at most once per
conversation in `AWAY_EVERY`; the FAQ answer only to the first message of a conversation nobody
has answered yet, only when the best entry is clearly ahead of the next, and only in the customer's
own language.

Settings, on the account (`settings.auto_answers`, the page `Automatic answers`, the YAML):
    away: {enabled: true, texts: {en: "...{opens}...", fa: "..."}}
    faq:  {enabled: true, min_score: 0.55, min_margin: 0.08}
`{opens}` in an away text becomes when the place opens next, in the customer's language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

AWAY_EVERY = timedelta(hours=12)
MAX_TEXT = 1000
# Chosen with `relaydesk eval faq` (its automatic-answers line and JSON grid): at 0.55 / 0.08 the
# first entry was right for all 34 of the 360 test questions it would answer (9.4 %); at 0.45 / 0.00
# it answered 31 % but 7 wrongly. Conservative on purpose: a wrong automatic answer is public.
DEFAULT_MIN_SCORE = 0.55
DEFAULT_MIN_MARGIN = 0.08


@dataclass(frozen=True)
class AutoAnswerSettings:
    away: bool = False
    away_texts: Mapping[str, str] = field(default_factory=dict)
    faq: bool = False
    min_score: float = DEFAULT_MIN_SCORE
    min_margin: float = DEFAULT_MIN_MARGIN

    @property
    def any(self) -> bool:
        return self.away or self.faq

    def as_dict(self) -> dict[str, Any]:
        return {
            "away": {"enabled": self.away, "texts": dict(self.away_texts)},
            "faq": {"enabled": self.faq, "min_score": self.min_score, "min_margin": self.min_margin},
        }


def _number(value: object, default: float, low: float, high: float, name: str, problems: list[str]) -> float:
    if value is None or value == "":
        return default
    try:
        number = float(str(value))
    except ValueError:
        number = float("nan")
    if not low <= number <= high:
        problems.append(f"{name}: a number from {low} to {high}")
        return default
    return number


def clean(raw: object) -> tuple[AutoAnswerSettings, list[str]]:
    """The settings as stored, and what is wrong with them (English, field first)."""
    problems: list[str] = []
    if raw in (None, {}):
        return AutoAnswerSettings(), problems
    if not isinstance(raw, Mapping):
        return AutoAnswerSettings(), ["auto_answers: a mapping with away and faq"]
    away = raw.get("away") or {}
    faq = raw.get("faq") or {}
    if not isinstance(away, Mapping) or not isinstance(faq, Mapping):
        return AutoAnswerSettings(), ["auto_answers: away and faq are mappings"]
    texts: dict[str, str] = {}
    for code, text in (away.get("texts") or {}).items():
        if not isinstance(text, str) or not text.strip():
            continue
        if len(text) > MAX_TEXT:
            problems.append(f"away.texts.{code}: at most {MAX_TEXT} characters")
        texts[str(code)] = text.strip()
    enabled = away.get("enabled") is True
    if enabled and not texts:
        problems.append("away.texts: write the away message in at least one language")
    settings = AutoAnswerSettings(
        away=enabled,
        away_texts=texts,
        faq=faq.get("enabled") is True,
        min_score=_number(faq.get("min_score"), DEFAULT_MIN_SCORE, 0.2, 1.0, "faq.min_score", problems),
        min_margin=_number(faq.get("min_margin"), DEFAULT_MIN_MARGIN, 0.0, 1.0, "faq.min_margin", problems),
    )
    return settings, problems


@dataclass(frozen=True)
class Situation:
    """What is known of the message that just came in."""

    language: str
    public: bool
    crisis: bool  # the message reads as one, or an open crisis alert covers its place
    vip: bool
    spam: bool
    open_now: bool  # the place's business hours
    answered_before: bool  # a person (or RelayDesk) has replied in this conversation
    first_message: bool
    last_away_at: datetime | None
    now: datetime


@dataclass(frozen=True)
class Candidate:
    """An approved FAQ entry offered for the message, as the agent would see it."""

    key: str
    answer: str
    language: str
    score: float


@dataclass(frozen=True)
class AutoAnswer:
    kind: str  # away | faq
    text: str
    language: str
    faq_key: str | None = None


def never(s: Situation) -> str | None:
    """Why nothing may be sent by itself here (None: something may)."""
    if s.crisis:
        return "crisis"
    if s.vip:
        return "vip"
    if s.spam:
        return "spam"
    if s.public:
        return "public"
    return None


def away_text(settings: AutoAnswerSettings, language: str) -> tuple[str, str] | None:
    """The away text in the customer's language, else English, else the first written; with its language."""
    for code in (language, "en", *settings.away_texts):
        if code in settings.away_texts:
            return settings.away_texts[code], code
    return None


def decide(settings: AutoAnswerSettings, s: Situation, offered: Sequence[Candidate]) -> AutoAnswer | None:
    """What RelayDesk answers by itself, if anything. A clear FAQ answer wins over the away note
    (it answers the question; the conversation stays open for a person either way)."""
    if not settings.any or never(s) is not None:
        return None
    if settings.faq and s.first_message and not s.answered_before and offered:
        best = offered[0]
        runner_up = offered[1].score if len(offered) > 1 else 0.0
        if (
            best.language == s.language
            and best.score >= settings.min_score
            and best.score - runner_up >= settings.min_margin
        ):
            return AutoAnswer("faq", best.answer, best.language, best.key)
    if settings.away and not s.open_now:
        if s.last_away_at is not None and s.now - s.last_away_at < AWAY_EVERY:
            return None
        found = away_text(settings, s.language)
        if found is not None:
            return AutoAnswer("away", found[0], found[1])
    return None


def fill_opens(text: str, opens: str) -> str:
    """Put when the place opens next into the away text (only this one placeholder is known; any
    other brace stays as written, so a text cannot reach anything else)."""
    return text.replace("{opens}", opens)
