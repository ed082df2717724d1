"""/api/v1/contacts: the people behind the conversations, and merging their duplicates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from relaydesk.contacts.schemas import MAX_ID, ContactDetail, ContactPage, ContactUpdate, MergeRequest
from relaydesk.contacts.service import ContactService
from relaydesk.deps import ContainerDep, ScopeDep

router = APIRouter(prefix="/api/v1/contacts", tags=["contacts"])
ContactId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _service(container: ContainerDep) -> ContactService:
    return container.contacts


@router.get("", response_model=ContactPage)
def list_contacts(
    container: ContainerDep,
    scope: ScopeDep,
    q: Annotated[str | None, Query(max_length=200, description="name, handle or network user id")] = None,
    cursor: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ContactPage:
    return _service(container).page(scope, q, cursor, limit)


@router.get("/{contact_id}", response_model=ContactDetail)
def contact_detail(contact_id: ContactId, container: ContainerDep, scope: ScopeDep) -> ContactDetail:
    return _service(container).detail(scope, contact_id)


@router.patch("/{contact_id}", response_model=ContactDetail)
def update_contact(
    contact_id: ContactId, change: ContactUpdate, container: ContainerDep, scope: ScopeDep
) -> ContactDetail:
    """Name and attributes (VIP, followers, purchases...) that routing rules can match on."""
    return _service(container).update(scope, contact_id, change)


@router.post("/{contact_id}/merge", response_model=ContactDetail)
def merge_contact(
    contact_id: ContactId, body: MergeRequest, container: ContainerDep, scope: ScopeDep
) -> ContactDetail:
    """The same person wrote from two networks: fold this contact into `into`."""
    return _service(container).merge(scope, contact_id, body.into)
