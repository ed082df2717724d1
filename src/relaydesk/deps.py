"""FastAPI dependencies shared by every slice's endpoints: the container and the caller's scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from relaydesk.auth.csrf import CSRF_HEADER, SAFE_METHODS, csrf_valid
from relaydesk.auth.scopes import Scope
from relaydesk.auth.service import SESSION_COOKIE, Unauthorized, scope_for, session_for_cookie, user_for_token
from relaydesk.container import Container
from relaydesk.db import transaction


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def get_scope(request: Request, container: Annotated[Container, Depends(get_container)]) -> Scope:
    """The caller's scope; a cookie-authenticated change must also carry the session's CSRF token.

    `request.state.web_session_id` tells endpoints which browser session (if any) is calling.
    """
    header = request.headers.get("authorization", "")
    cookie = request.cookies.get(SESSION_COOKIE)
    request.state.web_session_id = None
    try:
        with transaction(container.sessions) as session:
            if header.lower().startswith("bearer "):
                user = user_for_token(session, header[7:].strip())
            elif cookie:
                user, web_session = session_for_cookie(session, cookie)
                if request.method not in SAFE_METHODS and not csrf_valid(
                    container.box.derive("csrf"), cookie, request.headers.get(CSRF_HEADER)
                ):
                    raise HTTPException(
                        status_code=403,
                        detail=f"missing or invalid CSRF token: a change made with the session cookie "
                        f"needs the {CSRF_HEADER} header (its value comes with the login answer and "
                        "from GET /api/v1/auth/csrf), or use an API token",
                    )
                request.state.web_session_id = web_session.id
            else:
                raise Unauthorized("log in, or send an API token as 'Authorization: Bearer <token>'")
            return scope_for(session, user)
    except Unauthorized as exc:
        raise HTTPException(status_code=401, detail=str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc


def client_address(request: Request) -> str:
    """The caller's address, for login throttling.

    Behind a reverse proxy this is the proxy's address unless uvicorn is told to trust its
    X-Forwarded-For (`FORWARDED_ALLOW_IPS`; 127.0.0.1 is trusted by default).
    """
    return request.client.host if request.client else "unknown"


ContainerDep = Annotated[Container, Depends(get_container)]
ScopeDep = Annotated[Scope, Depends(get_scope)]
