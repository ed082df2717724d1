"""Login, logout, who-am-I and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response

from relaydesk.auth.csrf import CSRF_HEADER, cross_origin, csrf_token
from relaydesk.auth.schemas import (
    AvailabilityIn,
    AvailabilityOut,
    CsrfOut,
    LoginIn,
    LoginOut,
    MeOut,
    TokenIn,
    TokenInfo,
    TokenOut,
)
from relaydesk.auth.service import (
    SESSION_COOKIE,
    LoginLimits,
    Throttled,
    Unauthorized,
    authenticate,
    create_token,
    list_tokens,
    logout,
    profile_of,
    revoke_token,
    token_info,
    token_owner,
)
from relaydesk.db import transaction
from relaydesk.deps import ContainerDep, ScopeDep, client_address
from relaydesk.orgs.service import org_service

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post(
    "/auth/login",
    response_model=LoginOut,
    responses={403: {"description": "sent by another site's page"}, 429: {"description": "throttled"}},
)
def login_endpoint(body: LoginIn, request: Request, response: Response, container: ContainerDep) -> LoginOut:
    """Log in; the answer carries the CSRF token for later changes made with the session cookie."""
    if cross_origin(request.headers):
        # Login CSRF: another page must not log the browser into an account of its choosing.
        raise HTTPException(status_code=403, detail="log in from RelayDesk's own pages, not another site's")
    settings = container.settings
    try:
        user, cookie = authenticate(
            container.sessions,
            body.email,
            body.password,
            client_address(request),
            LoginLimits.from_settings(settings),
            settings.session_days,
        )
    except Throttled as exc:
        raise HTTPException(
            status_code=429, detail=str(exc), headers={"Retry-After": str(exc.retry_after)}
        ) from exc
    except Unauthorized as exc:
        raise HTTPException(status_code=401, detail=str(exc)) from exc
    me = profile_of(container.sessions, user.id)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        samesite="lax",
        secure=settings.mode == "production",
        max_age=settings.session_days * 86400,
    )
    token = csrf_token(container.box.derive("csrf"), cookie)
    response.headers[CSRF_HEADER] = token
    return LoginOut(**me.model_dump(), csrf_token=token)


@router.post("/auth/logout", status_code=204)
def logout_endpoint(request: Request, container: ContainerDep, scope: ScopeDep) -> Response:
    """End the browser session and revoke the API tokens it minted."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        with transaction(container.sessions) as session:
            logout(session, cookie)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/auth/csrf", response_model=CsrfOut)
def csrf_endpoint(request: Request, container: ContainerDep, scope: ScopeDep) -> CsrfOut:
    """The CSRF token of the calling browser session (for the X-CSRF-Token header)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if request.state.web_session_id is None or not cookie:
        raise HTTPException(
            status_code=400, detail="no browser session: requests with an API token need no CSRF token"
        )
    return CsrfOut(csrf_token=csrf_token(container.box.derive("csrf"), cookie))


@router.get("/me", response_model=MeOut)
def me(container: ContainerDep, scope: ScopeDep) -> MeOut:
    return profile_of(container.sessions, scope.user_id)


@router.post("/me/availability", response_model=AvailabilityOut)
def availability(body: AvailabilityIn, container: ContainerDep, scope: ScopeDep) -> AvailabilityOut:
    """Available or away. Away, routing gives you no new conversations; those you have stay yours."""
    if not org_service.set_availability(container.sessions, scope.user_id, body.online):
        raise HTTPException(status_code=404, detail="no active user")
    detail = (
        "available: routing may assign you new conversations"
        if body.online
        else ("away: routing gives you no new conversations")
    )
    return AvailabilityOut(online=body.online, detail=detail)


@router.post("/tokens", response_model=TokenOut, status_code=201)
def new_token(body: TokenIn, request: Request, container: ContainerDep, scope: ScopeDep) -> TokenOut:
    """Mint a token (for yourself; owners and admins also for users of their organisation).

    A token minted with a browser session is revoked when that session logs out.
    """
    with transaction(container.sessions) as session:
        user = token_owner(session, scope, body.email)
        row, secret = create_token(
            session,
            user,
            body.name,
            body.expires_days or container.settings.token_days,
            web_session_id=request.state.web_session_id,
        )
        return TokenOut(**token_info(row, user).model_dump(), token=secret)


@router.get("/tokens", response_model=list[TokenInfo])
def tokens(container: ContainerDep, scope: ScopeDep, email: str | None = None) -> list[TokenInfo]:
    """Live (not revoked) tokens, without their secrets: your own; owners and admins see the org's."""
    with container.sessions() as session:
        return list_tokens(session, scope, email)


@router.delete("/tokens/{token_id}", status_code=204)
def delete_token(token_id: int, container: ContainerDep, scope: ScopeDep) -> Response:
    """Revoke a token: your own; owners and admins any in their organisation."""
    with transaction(container.sessions) as session:
        revoke_token(session, scope, token_id)
    return Response(status_code=204)
