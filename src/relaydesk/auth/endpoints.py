"""Login, logout, who-am-I and API tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from relaydesk.auth.service import SESSION_COOKIE, Unauthorized, create_token, login, logout
from relaydesk.db import transaction
from relaydesk.deps import ContainerDep, ScopeDep
from relaydesk.models import Department, User
from relaydesk.orgs.repository import user_department_ids

router = APIRouter(prefix="/api/v1", tags=["auth"])


class LoginIn(BaseModel):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1000)


class MeOut(BaseModel):
    id: int
    email: str
    handle: str
    name: str
    role: str
    org_id: int
    departments: list[str]
    languages: list[str]


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=128)


class TokenOut(BaseModel):
    token: str
    detail: str = "store this token now: it is shown only once"


@router.post("/auth/login", response_model=MeOut)
def login_endpoint(body: LoginIn, response: Response, container: ContainerDep) -> MeOut:
    try:
        with transaction(container.sessions) as session:
            user, cookie = login(session, body.email, body.password, container.settings.session_days)
            me = _me(session, user)
    except Unauthorized as exc:
        raise HTTPException(status_code=401, detail=str(exc)) from exc
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        samesite="lax",
        secure=container.settings.mode == "production",
        max_age=container.settings.session_days * 86400,
    )
    return me


@router.post("/auth/logout", status_code=204)
def logout_endpoint(request: Request, container: ContainerDep, scope: ScopeDep) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        with transaction(container.sessions) as session:
            logout(session, cookie)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/me", response_model=MeOut)
def me(container: ContainerDep, scope: ScopeDep) -> MeOut:
    with container.sessions() as session:
        user = session.get(User, scope.user_id)
        assert user is not None
        return _me(session, user)


@router.post("/tokens", response_model=TokenOut, status_code=201)
def new_token(body: TokenIn, container: ContainerDep, scope: ScopeDep) -> TokenOut:
    with transaction(container.sessions) as session:
        user = session.get(User, scope.user_id)
        assert user is not None
        return TokenOut(token=create_token(session, user, body.name))


def _me(session: Session, user: User) -> MeOut:
    dept_ids = sorted(user_department_ids(session, user.id))
    depts: Any = (
        session.scalars(select(Department.key).where(Department.id.in_(dept_ids))) if dept_ids else []
    )
    return MeOut(
        id=user.id,
        email=user.email,
        handle=user.handle,
        name=user.name,
        role=user.role,
        org_id=user.org_id,
        departments=sorted(depts),
        languages=list(user.languages or []),
    )
