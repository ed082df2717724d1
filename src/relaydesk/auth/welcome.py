"""One-time links to set a password: how an invited person gets in without anyone typing it for them.

The link carries 256 random bits; only their hash is stored, with an expiry, so the link is shown
once, to whoever issued it, to pass on. A link works once; a newer link for the same person
retires the older ones; a deactivated person's link does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session, sessionmaker

from relaydesk.audit.service import Actor, acting
from relaydesk.auth import welcome_repository as repo
from relaydesk.auth.crypto import hash_password, new_token, token_hash
from relaydesk.core.errors import Refused
from relaydesk.core.timeutil import as_utc, utcnow
from relaydesk.db import reading, transaction
from relaydesk.models import User, WelcomeLink

WELCOME_DAYS = 7
MIN_PASSWORD = 10
MAX_PASSWORD = 200


class LinkState(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    INACTIVE = "inactive"


@dataclass(frozen=True)
class LinkCheck:
    state: LinkState
    name: str = ""
    email: str = ""


def issue(
    session: Session, user: User, issued_by: int | None, days: int = WELCOME_DAYS
) -> tuple[str, datetime]:
    """A new link's token and expiry; the person's older unused links stop working."""
    now = utcnow()
    repo.retire_links(session, user.id, now)
    token = new_token("rw")
    expires = now + timedelta(days=days)
    session.add(
        WelcomeLink(
            user_id=user.id,
            token_hash=token_hash(token),
            created_by_id=issued_by,
            created_at=now,
            expires_at=expires,
        )
    )
    session.flush()
    return token, expires


def _state(session: Session, token: str) -> tuple[LinkState, WelcomeLink | None, User | None]:
    link = repo.link_by_hash(session, token_hash(token)) if token else None
    if link is None:
        return LinkState.UNKNOWN, None, None
    user = session.get(User, link.user_id)
    if user is None:
        return LinkState.UNKNOWN, None, None
    if link.used_at is not None:
        return LinkState.USED, link, user
    expires = as_utc(link.expires_at)
    if expires is None or expires <= utcnow():
        return LinkState.EXPIRED, link, user
    if not user.active:
        return LinkState.INACTIVE, link, user
    return LinkState.OK, link, user


def check(sessions: sessionmaker[Session], token: str) -> LinkCheck:
    with reading(sessions) as session:
        state, _link, user = _state(session, token)
        if state != LinkState.OK or user is None:
            return LinkCheck(state)
        return LinkCheck(state, user.name, user.email)


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"password: at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"password: at most {MAX_PASSWORD} characters"
    return None


def redeem(sessions: sessionmaker[Session], token: str, password: str) -> tuple[LinkState, str]:
    """Set the password through the link; the state and the person's email.

    The hash runs outside the transaction (on SQLite a transaction holds the write lock), and the
    link is claimed with a conditional update, so it sets a password once.
    """
    problem = password_problem(password)
    if problem is not None:
        raise Refused(problem)
    hashed = hash_password(password)
    with transaction(sessions) as session:
        state, link, user = _state(session, token)
        if state != LinkState.OK or link is None or user is None:
            return state, ""
        if not repo.claim(session, link.id, utcnow()):
            return LinkState.USED, ""
        # The person sets their own password: the audit log says so (the value only as "changed").
        acting(session, Actor(user.id, user.name, "web"))
        user.password_hash = hashed
        return LinkState.OK, user.email
