"""Who is calling: API tokens (Authorization: Bearer) and browser sessions (cookie)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from relaydesk.auth.crypto import new_token, token_hash, verify_password
from relaydesk.auth.scopes import Scope
from relaydesk.core.enums import Role
from relaydesk.core.timeutil import as_utc, utcnow
from relaydesk.models import ApiToken, Location, User, WebSession
from relaydesk.orgs.repository import user_department_ids

SESSION_COOKIE = "relaydesk_session"


class Unauthorized(Exception):
    pass


def scope_for(session: Session, user: User) -> Scope:
    location_path = None
    location_ids = None
    if user.location_id is not None:
        loc = session.get(Location, user.location_id)
        if loc is not None:
            location_path = loc.path
            location_ids = frozenset(
                session.scalars(
                    select(Location.id).where(
                        Location.org_id == user.org_id, Location.path.startswith(loc.path, autoescape=True)
                    )
                )
            )
    return Scope(
        org_id=user.org_id,
        user_id=user.id,
        role=Role(user.role),
        department_ids=frozenset(user_department_ids(session, user.id)),
        location_path=location_path,
        location_ids=location_ids,
    )


def user_for_token(session: Session, token: str) -> User:
    row = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == token_hash(token), ApiToken.revoked.is_(False))
    ).first()
    if row is None:
        raise Unauthorized("invalid or revoked API token")
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise Unauthorized("the token's user is inactive")
    session.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=utcnow()))
    return user


def user_for_session(session: Session, cookie: str) -> User:
    row = session.scalars(select(WebSession).where(WebSession.token_hash == token_hash(cookie))).first()
    expires = as_utc(row.expires_at) if row else None
    if row is None or expires is None or expires < utcnow():
        raise Unauthorized("session expired; log in again")
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise Unauthorized("the session's user is inactive")
    return user


def login(session: Session, email: str, password: str, days: int = 14) -> tuple[User, str]:
    users = list(
        session.scalars(
            select(User).where(func.lower(User.email) == email.strip().lower(), User.active.is_(True))
        )
    )
    for user in users:
        if verify_password(password, user.password_hash):
            cookie = new_token("rs")
            session.add(
                WebSession(
                    user_id=user.id, token_hash=token_hash(cookie), expires_at=utcnow() + timedelta(days=days)
                )
            )
            return user, cookie
    raise Unauthorized("wrong email or password")


def logout(session: Session, cookie: str) -> None:
    row = session.scalars(select(WebSession).where(WebSession.token_hash == token_hash(cookie))).first()
    if row is not None:
        session.delete(row)


def create_token(session: Session, user: User, name: str) -> str:
    token = new_token("rd")
    session.add(ApiToken(user_id=user.id, name=name, token_hash=token_hash(token), prefix=token[:7]))
    return token
