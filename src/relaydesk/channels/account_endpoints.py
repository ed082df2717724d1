"""/api/v1/accounts: the channel accounts with their status; connect, change, check (owners, admins).

Managers read the accounts of their part of the organisation and may check them; credentials go
in and never come out (only their names). The same service backs /settings/accounts.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from relaydesk.channels.account_service import account_service
from relaydesk.channels.schemas import AccountIn, AccountOut, AccountPatch
from relaydesk.container import Container
from relaydesk.db import reading, transaction
from relaydesk.deps import ContainerDep, ScopeDep

router = APIRouter(prefix="/api/v1/accounts", tags=["organisation"])


def public_base_url(container: Container, request: Request) -> str:
    """Where the networks reach us: RELAYDESK_PUBLIC_URL, else the address this request came to."""
    return (container.settings.public_url or str(request.base_url)).rstrip("/")


@router.get("", response_model=list[AccountOut])
def list_accounts(
    request: Request,
    container: ContainerDep,
    scope: ScopeDep,
    q: Annotated[str, Query(max_length=200, description="part of a key, name, handle or location")] = "",
) -> list[AccountOut]:
    """The accounts the caller may see, each with its status (as `relaydesk channels check`)."""
    with reading(container.sessions) as session:
        return account_service.accounts(session, scope, container.box, public_base_url(container, request), q)


@router.post("", response_model=AccountOut, status_code=201)
def connect_account(
    body: AccountIn, request: Request, container: ContainerDep, scope: ScopeDep
) -> AccountOut:
    """Connect an account; 409 when its key or its network identity is taken."""
    with transaction(container.sessions) as session:
        return account_service.connect(
            session, scope, container.box, public_base_url(container, request), body, via="api"
        )


@router.get("/{key}", response_model=AccountOut)
def get_account(key: str, request: Request, container: ContainerDep, scope: ScopeDep) -> AccountOut:
    with reading(container.sessions) as session:
        return account_service.get(session, scope, container.box, public_base_url(container, request), key)


@router.patch("/{key}", response_model=AccountOut)
def change_account(
    key: str, body: AccountPatch, request: Request, container: ContainerDep, scope: ScopeDep
) -> AccountOut:
    """Change what the body names; an empty credential value keeps the stored one."""
    with transaction(container.sessions) as session:
        return account_service.update(
            session, scope, container.box, public_base_url(container, request), key, body, via="api"
        )


@router.post("/{key}/check", response_model=AccountOut)
def check_account(key: str, request: Request, container: ContainerDep, scope: ScopeDep) -> AccountOut:
    """The account's status worked out again now; nothing is stored or sent to the network."""
    with reading(container.sessions) as session:
        return account_service.check(session, scope, container.box, public_base_url(container, request), key)
