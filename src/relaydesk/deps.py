"""FastAPI dependencies shared by every slice's endpoints: the container and the caller's scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from relaydesk.auth.scopes import Scope
from relaydesk.auth.service import SESSION_COOKIE, Unauthorized, scope_for, user_for_session, user_for_token
from relaydesk.container import Container
from relaydesk.db import transaction


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def get_scope(request: Request, container: Annotated[Container, Depends(get_container)]) -> Scope:
    header = request.headers.get("authorization", "")
    cookie = request.cookies.get(SESSION_COOKIE)
    try:
        with transaction(container.sessions) as session:
            if header.lower().startswith("bearer "):
                user = user_for_token(session, header[7:].strip())
            elif cookie:
                user = user_for_session(session, cookie)
            else:
                raise Unauthorized("log in, or send an API token as 'Authorization: Bearer <token>'")
            return scope_for(session, user)
    except Unauthorized as exc:
        raise HTTPException(status_code=401, detail=str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc


ContainerDep = Annotated[Container, Depends(get_container)]
ScopeDep = Annotated[Scope, Depends(get_scope)]
