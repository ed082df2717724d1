"""Brand guidelines over the API: listed and tried by everyone who writes replies, changed by PR.

Owners, admins and the members of a spokesperson department change them; agents and managers read
them and try drafts; viewers nothing (guidelines/guideline_access.py). `place` makes a guideline
one brand's (or a region's, a location's) instead of the whole organisation's.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from relaydesk.db import reading, transaction
from relaydesk.deps import ContainerDep, ScopeDep
from relaydesk.guidelines.guideline_service import guideline_service
from relaydesk.guidelines.schemas import GuidelineFindingOut, GuidelineIn, GuidelineOut, GuidelineTryIn

router = APIRouter(prefix="/api/v1/guidelines", tags=["guidelines"])


@router.get("", response_model=list[GuidelineOut])
def list_guidelines(
    container: ContainerDep,
    scope: ScopeDep,
    q: Annotated[str, Query(max_length=128)] = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[GuidelineOut]:
    """By name, 50 a page; `q` searches the names."""
    with reading(container.sessions) as session:
        return guideline_service.page(session, scope, search=q, offset=offset).rows


@router.post("/try", response_model=list[GuidelineFindingOut])
def try_guidelines(
    body: GuidelineTryIn, container: ContainerDep, scope: ScopeDep
) -> list[GuidelineFindingOut]:
    """What a draft reply would be told, with the spans to underline; nothing is stored or sent."""
    with reading(container.sessions) as session:
        found = guideline_service.try_reply(
            session, scope, body.text, body.language, body.public, body.place, body.network
        )
    return [
        GuidelineFindingOut(
            guideline=f.guideline,
            kind=f.kind,
            severity=f.severity,
            message=f.message,
            detail=f.detail,
            spans=list(f.spans),
        )
        for f in found
    ]


@router.get("/{name}", response_model=GuidelineOut)
def get_guideline(name: str, container: ContainerDep, scope: ScopeDep) -> GuidelineOut:
    with reading(container.sessions) as session:
        return guideline_service.get(session, scope, name)


@router.put("/{name}", response_model=GuidelineOut)
def put_guideline(name: str, body: GuidelineIn, container: ContainerDep, scope: ScopeDep) -> GuidelineOut:
    """Create or replace; the kind's params are checked (422 says which and why)."""
    with transaction(container.sessions) as session:
        return guideline_service.put(session, scope, name, body)


@router.delete("/{name}", status_code=204)
def delete_guideline(name: str, container: ContainerDep, scope: ScopeDep) -> Response:
    with transaction(container.sessions) as session:
        guideline_service.delete(session, scope, name)
    return Response(status_code=204)
