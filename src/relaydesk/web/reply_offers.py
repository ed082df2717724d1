"""What the reply box offers to start a reply with: approved FAQ answers for the customer's last
message, saved replies filled for this customer and agent, and the holding statements of open
crisis alerts over the conversation's place (written by PR)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from relaydesk.crisis.alert_service import alert_service
from relaydesk.db import reading
from relaydesk.web.session import Caller, container_of


@dataclass(frozen=True)
class ReplyOffers:
    faq: list[Any]
    saved: list[Any]
    statements: list[tuple[int, str, str]]  # (alert id, language, text)

    def chosen(self, insert: str, canned: str, statement: str) -> str | None:
        """The text named by `?insert=` (an FAQ key), `?canned=` or `?statement=<alert>:<language>`."""
        text = next((s["answer"] for s in self.faq if s["key"] == insert), None) if insert else None
        if canned:
            text = next((r.text for r in self.saved if r.key == canned), text)
        if statement:
            text = next((t for alert, lang, t in self.statements if f"{alert}:{lang}" == statement), text)
        return text


def reply_offers(request: Request, caller: Caller, conversation_id: int, language: str | None) -> ReplyOffers:
    if not caller.scope.can_write:
        return ReplyOffers([], [], [])
    container = container_of(request)
    service = container.conversations
    with reading(container.sessions) as session:
        statements = alert_service.statements_for(session, caller.scope, conversation_id, language)
    return ReplyOffers(
        faq=list(service.faq_answers(caller.scope, conversation_id)),
        saved=list(service.canned(caller.scope, conversation_id)),
        statements=statements,
    )
