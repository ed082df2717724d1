"""An account's automatic answers over the API (`auto_answer_settings.py` says who may)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from relaydesk.db import reading, transaction
from relaydesk.deps import ContainerDep, ScopeDep
from relaydesk.guidelines.auto_answer_settings import AccountAnswers, auto_answer_settings

router = APIRouter(prefix="/api/v1/accounts", tags=["accounts"])


class AwayIn(BaseModel):
    enabled: bool = False
    texts: dict[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")], Annotated[str, Field(max_length=1000)]] = (
        Field(default_factory=dict, description="{language: text}; {opens} becomes when the place opens next")
    )


class FaqAutoIn(BaseModel):
    enabled: bool = False
    min_score: float = Field(default=0.55, ge=0.2, le=1.0, description="the best entry's similarity at least")
    min_margin: float = Field(default=0.08, ge=0.0, le=1.0, description="ahead of the next entry by at least")


class AutoAnswersIn(BaseModel):
    """Both off by default; never sent on crisis, VIP, spam or public conversations."""

    away: AwayIn = Field(default_factory=AwayIn)
    faq: FaqAutoIn = Field(default_factory=FaqAutoIn)


class AutoAnswersOut(AutoAnswersIn):
    account: str
    may_edit: bool


def _out(found: AccountAnswers) -> AutoAnswersOut:
    s = found.settings
    return AutoAnswersOut(
        account=found.key,
        may_edit=found.may_edit,
        away=AwayIn(enabled=s.away, texts=dict(s.away_texts)),
        faq=FaqAutoIn(enabled=s.faq, min_score=s.min_score, min_margin=s.min_margin),
    )


@router.get("/{key}/auto-answers", response_model=AutoAnswersOut)
def get_auto_answers(key: str, container: ContainerDep, scope: ScopeDep) -> AutoAnswersOut:
    with reading(container.sessions) as session:
        return _out(auto_answer_settings.get(session, scope, key))


@router.put("/{key}/auto-answers", response_model=AutoAnswersOut)
def put_auto_answers(
    key: str, body: AutoAnswersIn, container: ContainerDep, scope: ScopeDep
) -> AutoAnswersOut:
    with transaction(container.sessions) as session:
        return _out(auto_answer_settings.put(session, scope, key, body.model_dump()))
