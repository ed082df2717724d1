"""Saved replies (and their macro actions) over the API, for integrators; the settings page uses the
same service, so the same people may change the same replies (conversations/canned_access.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from relaydesk.conversations.canned_service import canned_service
from relaydesk.conversations.schemas import CannedEntryOut, CannedIn
from relaydesk.db import reading, transaction
from relaydesk.deps import ContainerDep, ScopeDep

router = APIRouter(prefix="/api/v1/canned", tags=["saved replies"])


@router.get("", response_model=list[CannedEntryOut])
def list_canned(
    container: ContainerDep,
    scope: ScopeDep,
    q: Annotated[str, Query(max_length=64)] = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[CannedEntryOut]:
    """The replies the caller is offered (owners and admins: all), by key, 50 a page."""
    with reading(container.sessions) as session:
        return canned_service.page(session, scope, search=q, offset=offset).rows


@router.get("/{key}", response_model=CannedEntryOut)
def get_canned(key: str, container: ContainerDep, scope: ScopeDep) -> CannedEntryOut:
    with reading(container.sessions) as session:
        return canned_service.get(session, scope, key)


@router.put("/{key}", response_model=CannedEntryOut)
def put_canned(key: str, body: CannedIn, container: ContainerDep, scope: ScopeDep) -> CannedEntryOut:
    """Create or change; without `actions` the stored macro actions stay."""
    with transaction(container.sessions) as session:
        return canned_service.put(session, scope, key, body)


@router.delete("/{key}", status_code=204)
def delete_canned(key: str, container: ContainerDep, scope: ScopeDep) -> Response:
    with transaction(container.sessions) as session:
        canned_service.delete(session, scope, key)
    return Response(status_code=204)
