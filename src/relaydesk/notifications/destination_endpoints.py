"""/api/v1/destinations: named notification webhooks kept in the database (owners, admins).

Managers read the names, to use them in rules (`notify: ["webhook:<name>"]`); no one reads a URL
back. The same service backs /settings/destinations.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from relaydesk.db import reading, transaction
from relaydesk.deps import ContainerDep, ScopeDep
from relaydesk.notifications.destination_service import destination_service
from relaydesk.notifications.schemas import (
    DestinationIn,
    DestinationList,
    DestinationOut,
    DestinationPatch,
    DestinationTestOut,
)

router = APIRouter(prefix="/api/v1/destinations", tags=["notifications"])


@router.get("", response_model=DestinationList)
def list_destinations(
    container: ContainerDep,
    scope: ScopeDep,
    q: Annotated[str, Query(max_length=64, description="part of a name")] = "",
) -> DestinationList:
    """Stored destinations by name, and those the server's environment sets (read-only)."""
    with reading(container.sessions) as session:
        return destination_service.list(session, scope, q)


@router.post("", response_model=DestinationOut, status_code=201)
def create_destination(body: DestinationIn, container: ContainerDep, scope: ScopeDep) -> DestinationOut:
    """422 naming the field when the name or URL cannot be used; 409 when the name is taken."""
    with transaction(container.sessions) as session:
        return destination_service.create(session, scope, container.box, body, via="api")


@router.get("/{name}", response_model=DestinationOut)
def get_destination(name: str, container: ContainerDep, scope: ScopeDep) -> DestinationOut:
    with reading(container.sessions) as session:
        return destination_service.get(session, scope, name)


@router.patch("/{name}", response_model=DestinationOut)
def change_destination(
    name: str, body: DestinationPatch, container: ContainerDep, scope: ScopeDep
) -> DestinationOut:
    """A new `url` replaces the stored one (an empty one keeps it); `active` switches it."""
    with transaction(container.sessions) as session:
        return destination_service.update(session, scope, container.box, name, body, via="api")


@router.delete("/{name}", status_code=204)
def delete_destination(name: str, container: ContainerDep, scope: ScopeDep) -> Response:
    with transaction(container.sessions) as session:
        destination_service.delete(session, scope, name, via="api")
    return Response(status_code=204)


@router.post("/{name}/test", response_model=DestinationTestOut)
def test_destination(name: str, container: ContainerDep, scope: ScopeDep) -> DestinationTestOut:
    """Post a short test message now; the answer says how it went, never the URL."""
    return destination_service.test(container.sessions, scope, container.box, name)
