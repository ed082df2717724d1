"""Routing dry-run: what would this message do, and why (no conversation is created)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import select

from relaydesk.deps import ContainerDep, ScopeDep
from relaydesk.models import ChannelAccount
from relaydesk.routing.rules import explain
from relaydesk.triage.base import TriageInput

router = APIRouter(prefix="/api/v1/route", tags=["routing"])


class DryRunIn(BaseModel):
    text: str = Field(max_length=100_000)
    account: str = Field(min_length=1, description="account key the message would arrive on")
    lang: str | None = None
    contact: dict[str, Any] = Field(default_factory=dict, description="vip, followers, purchases, ...")
    open_conversations: int = 0


def dry_run(container: Any, org_id: int, body: DryRunIn) -> dict[str, Any]:
    with container.sessions() as session:
        account = session.scalars(
            select(ChannelAccount).where(ChannelAccount.org_id == org_id, ChannelAccount.key == body.account)
        ).first()
        if account is None:
            raise HTTPException(status_code=404, detail=f"account: no account '{body.account}'")
        item = TriageInput(text=body.text, lang=body.lang, channel=account.network)
        result = container.triage.triage([item], container.triage.org_intents(session, org_id))[0]
        decision = container.pipeline.routing.decide(
            session,
            org_id=org_id,
            location_id=account.location_id,
            account=account,
            text=body.text,
            triage=result,
            contact=body.contact,
            open_count=body.open_conversations,
        )
        return {"triage": result.as_dict(), "decision": decision.as_dict(), "explanation": explain(decision)}


@router.post("/dry-run")
def route_dry_run(body: DryRunIn, container: ContainerDep, scope: ScopeDep) -> dict[str, Any]:
    return dry_run(container, scope.org_id, body)
