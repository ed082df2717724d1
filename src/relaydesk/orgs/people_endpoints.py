"""/api/v1/people: the people settings as JSON, with the same service and permissions as the pages.

Refusals are 403 with the reason; bad values 422 (`errors` names each field, `shifts.<row>` each
shift row), an email or handle taken 409.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from relaydesk.auth.schemas import TokenInfo
from relaydesk.core.enums import Role
from relaydesk.db import reading, transaction
from relaydesk.deps import ContainerDep, ScopeDep
from relaydesk.orgs.people_repository import PeopleQuery
from relaydesk.orgs.people_schemas import InviteOut, PeoplePage, PersonIn, PersonOut, PersonPatch
from relaydesk.orgs.people_service import people_service
from relaydesk.orgs.service import org_service

router = APIRouter(prefix="/api/v1", tags=["people"])


@router.get("/people", response_model=PeoplePage)
def list_people(
    container: ContainerDep,
    scope: ScopeDep,
    q: Annotated[str, Query(max_length=200, description="part of a name, handle or email")] = "",
    department: Annotated[str | None, Query(max_length=64)] = None,
    role: Role | None = None,
    active: bool | None = True,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> PeoplePage:
    """People the caller looks after (owners, admins: everyone; a manager: her team), by name."""
    with reading(container.sessions) as session:
        department_id = None
        if department is not None:
            found = org_service.department_by_key(session, scope.org_id, department)
            department_id = found.id if found else -1
        query = PeopleQuery(
            search=q.strip(), department_id=department_id, role=role.value if role else None, active=active
        )
        return people_service.page(session, scope, query, offset)


@router.get("/people/{user_id}", response_model=PersonOut)
def get_person(user_id: int, container: ContainerDep, scope: ScopeDep) -> PersonOut:
    with reading(container.sessions) as session:
        return people_service.get(session, scope, user_id)


@router.post("/people", response_model=InviteOut, status_code=201)
def invite_person(body: PersonIn, container: ContainerDep, scope: ScopeDep) -> InviteOut:
    """Create a person; `welcome_path` is their one-time set-password link, returned only here."""
    with transaction(container.sessions) as session:
        return people_service.invite(session, scope, body, via="api")


@router.patch("/people/{user_id}", response_model=PersonOut)
def change_person(user_id: int, body: PersonPatch, container: ContainerDep, scope: ScopeDep) -> PersonOut:
    """Change the fields given (`active: false` deactivates); refusals name the field in `errors`."""
    with transaction(container.sessions) as session:
        return people_service.update(session, scope, user_id, body, via="api")


@router.get("/people/{user_id}/tokens", response_model=list[TokenInfo])
def person_tokens(user_id: int, container: ContainerDep, scope: ScopeDep) -> list[TokenInfo]:
    with reading(container.sessions) as session:
        return people_service.tokens(session, scope, user_id)


@router.delete("/people/{user_id}/tokens/{token_id}", status_code=204)
def revoke_person_token(user_id: int, token_id: int, container: ContainerDep, scope: ScopeDep) -> None:
    with transaction(container.sessions) as session:
        people_service.revoke_token(session, scope, user_id, token_id, via="api")
