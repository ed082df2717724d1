"""Request and response bodies of the FAQ API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")]
Phrasing = Annotated[str, Field(min_length=1, max_length=2000)]
AnswerText = Annotated[str, Field(min_length=1, max_length=20000)]


class FaqIn(BaseModel):
    """An entry as written: the primary question and answer, other phrasings, other languages."""

    question: Phrasing
    answer: AnswerText
    language: LanguageCode = "en"
    variants: list[Phrasing] = Field(default_factory=list, max_length=100)
    answers: dict[LanguageCode, AnswerText] = Field(
        default_factory=dict, description="{language: answer} in languages other than the primary"
    )
    valid_from: date | None = None
    valid_until: date | None = None
    place: Annotated[str | None, Field(max_length=64)] = Field(
        default=None,
        description="the key of the brand (or region, location) whose conversations are offered it, with "
        "everything under it; none: the whole organisation",
    )


class FaqOut(BaseModel):
    key: str
    question: str
    answer: str
    language: str
    status: str = Field(description="draft, approved or retired")
    variants: list[str]
    answers: dict[str, str] = Field(description="{language: answer}, the primary one included")
    valid_from: date | None
    valid_until: date | None
    approved_by: str | None = None
    approved_at: datetime | None = None
    updated_at: datetime | None = None
    place: str | None = None
    place_name: str | None = None
    usage_count: int = Field(default=0, description="sent replies that carried one of its answers")
    last_used_at: datetime | None = None
    # Approved and within its validity dates today: agents are offered it.
    suggested: bool = False
    # What the caller may do to it: edit, approve, draft, retire, delete.
    allowed: list[str] = Field(default_factory=list)


class FaqImportOut(BaseModel):
    created: int = Field(description="new entries, drafts until PR approves them")
    changed: int
    unchanged: int


class FaqTryIn(BaseModel):
    text: Annotated[str, Field(min_length=1, max_length=5000)]
    language: LanguageCode | None = None
    place: Annotated[str | None, Field(max_length=64)] = Field(
        default=None,
        description="as a message to this brand or location (its key); none: the organisation's entries",
    )


class FaqSuggestionOut(BaseModel):
    key: str
    answer: str
    language: str
    score: float
    matched: str = Field(description="the question or variant the text looked most like")


class GuidelineIn(BaseModel):
    """A guideline as written: its kind, the kind's params (see guideline_kinds.py), its message."""

    kind: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
    params: dict[str, Any] = Field(default_factory=dict)
    message: Annotated[str, Field(max_length=2000)] = ""
    place: Annotated[str | None, Field(max_length=64)] = Field(
        default=None,
        description="the key of the brand (or region, location) it is for, with everything under it; "
        "none: the whole organisation",
    )
    severity: Literal["block", "warn", "suggest"] | None = Field(
        default=None,
        description="block stops the reply, warn asks to look again, suggest hints; none: the kind's default",
    )


class GuidelineOut(BaseModel):
    name: str
    kind: str
    params: dict[str, Any]
    message: str
    place: str | None = None
    place_name: str | None = None
    severity: str | None = Field(default=None, description="its own severity; none: the kind's default")
    editable: bool = False


class GuidelineTryIn(BaseModel):
    text: Annotated[str, Field(min_length=1, max_length=20000)]
    language: LanguageCode | None = None
    public: bool = True
    place: Annotated[str | None, Field(max_length=64)] = Field(
        default=None, description="check as for a reply at this brand or location (its key)"
    )
    network: Annotated[str | None, Field(max_length=32)] = Field(
        default=None, description="check as for a reply on this network (x, facebook, whatsapp...)"
    )


class GuidelineFindingOut(BaseModel):
    guideline: str
    kind: str
    severity: str = Field(description="block (the reply is stopped), warn or suggest")
    message: str
    detail: str = ""
    spans: list[tuple[int, int]] = Field(default_factory=list)
