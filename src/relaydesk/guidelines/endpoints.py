"""FAQ entries over the API: proposed as drafts, approved by PR, retired, tried on a question.

Owners, admins and the members of a spokesperson department approve, retire and delete; other
managers and agents create and edit drafts; viewers nothing (guidelines/faq_access.py).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from relaydesk.db import reading, transaction
from relaydesk.deps import ContainerDep, ScopeDep
from relaydesk.guidelines.faq_access import FaqAction
from relaydesk.guidelines.faq_service import faq_service
from relaydesk.guidelines.schemas import FaqIn, FaqOut, FaqSuggestionOut, FaqTryIn

router = APIRouter(prefix="/api/v1/faq", tags=["faq"])


@router.get("", response_model=list[FaqOut])
def list_faq(
    container: ContainerDep,
    scope: ScopeDep,
    status: Literal["draft", "approved", "retired"] | None = None,
    q: str | None = None,
) -> list[FaqOut]:
    """Drafts awaiting approval first; `q` searches keys, questions, variants and answers."""
    with reading(container.sessions) as session:
        return faq_service.list(session, scope, status=status, search=q)


@router.post("/try", response_model=list[FaqSuggestionOut])
def try_faq(body: FaqTryIn, container: ContainerDep, scope: ScopeDep) -> list[FaqSuggestionOut]:
    """The answers an agent would be offered for this customer message today; nothing is stored."""
    with reading(container.sessions) as session:
        found = faq_service.try_message(session, scope, body.text, body.language)
    return [FaqSuggestionOut(**vars(s)) for s in found]


@router.get("/{key}", response_model=FaqOut)
def get_faq(key: str, container: ContainerDep, scope: ScopeDep) -> FaqOut:
    with reading(container.sessions) as session:
        return faq_service.get(session, scope, key)


@router.put("/{key}", response_model=FaqOut)
def put_faq(key: str, body: FaqIn, container: ContainerDep, scope: ScopeDep) -> FaqOut:
    """Create a draft or change an entry. Changing the text of an approved entry puts it back to
    draft: it is not suggested until approved again."""
    with transaction(container.sessions) as session:
        return faq_service.put(session, scope, key, body)


@router.post("/{key}/approve", response_model=FaqOut)
def approve_faq(key: str, container: ContainerDep, scope: ScopeDep) -> FaqOut:
    with transaction(container.sessions) as session:
        return faq_service.set_status(session, scope, key, FaqAction.APPROVE)


@router.post("/{key}/draft", response_model=FaqOut)
def draft_faq(key: str, container: ContainerDep, scope: ScopeDep) -> FaqOut:
    """Back to draft: no longer suggested until approved again."""
    with transaction(container.sessions) as session:
        return faq_service.set_status(session, scope, key, FaqAction.DRAFT)


@router.post("/{key}/retire", response_model=FaqOut)
def retire_faq(key: str, container: ContainerDep, scope: ScopeDep) -> FaqOut:
    with transaction(container.sessions) as session:
        return faq_service.set_status(session, scope, key, FaqAction.RETIRE)


@router.delete("/{key}", status_code=204)
def delete_faq(key: str, container: ContainerDep, scope: ScopeDep) -> None:
    with transaction(container.sessions) as session:
        faq_service.delete(session, scope, key)
