"""Guideline checks and FAQ suggestions against an organisation's stored configuration."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.orm import Session

from relaydesk.core.enums import PUBLIC_KINDS
from relaydesk.guidelines import repository
from relaydesk.guidelines.checks import Finding, Guideline, check_reply
from relaydesk.guidelines.faq import Suggestion
from relaydesk.guidelines.faq_service import FaqService, faq_service

__all__ = [
    "PUBLIC_KINDS",
    "FaqService",
    "check",
    "count_faq_uses",
    "faq_service",
    "faq_suggestions",
    "org_guidelines",
    "speaks_for_brand",
]


def org_guidelines(session: Session, org_id: int, location_id: int | None = None) -> list[Guideline]:
    """The organisation's guidelines and, with a place, those of that place's brand, region and own."""
    rows = repository.guideline_rows(session, org_id, location_id)
    return [Guideline(r.name, r.kind, dict(r.params or {}), r.message, r.severity) for r in rows]


def check(
    session: Session,
    org_id: int,
    text: str,
    language: str | None,
    public: bool,
    location_id: int | None = None,
    *,
    network: str | None = None,
    agent_name: str | None = None,
) -> list[Finding]:
    """What a reply at this place (the conversation's location), on this network, written by this
    agent gets from the guidelines."""
    from relaydesk.triage.langid import detect_language

    return check_reply(
        text,
        org_guidelines(session, org_id, location_id),
        language=language,
        public=public,
        detect_language=lambda t: detect_language(t).lang,
        network=network,
        agent_name=agent_name,
    )


def speaks_for_brand(session: Session, org_id: int, department_ids: Collection[int]) -> bool:
    """Whether any of these departments is a spokesperson (PR) department."""
    return repository.speaks_for_brand(session, org_id, department_ids)


def faq_suggestions(
    session: Session, org_id: int, message: str, language: str | None, location_id: int | None = None
) -> list[Suggestion]:
    """Approved answers in force today, for a conversation at this place, whose question or a
    variant looks like the message."""
    return faq_service.suggestions(session, org_id, message, language, location_id=location_id)


def count_faq_uses(session: Session, org_id: int, location_id: int | None, sent: str) -> int:
    """A reply was sent: count it for the approved answers it carries."""
    return faq_service.count_uses(session, org_id, location_id, sent)


def describe(findings: list[Finding]) -> str:
    return "; ".join(f"{f.guideline}: {f.message} ({f.detail})" if f.detail else f.message for f in findings)
