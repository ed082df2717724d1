"""Who is calling: API tokens (Authorization: Bearer) and browser sessions (cookie)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from relaydesk.auth import repository as repo
from relaydesk.auth.crypto import new_token, token_hash, verify_password
from relaydesk.auth.schemas import MeOut, TokenInfo
from relaydesk.auth.scopes import Scope
from relaydesk.auth.throttle import account_key, address_key, retry_after
from relaydesk.core.enums import Role
from relaydesk.core.errors import Forbidden, NotFound, UserError
from relaydesk.core.timeutil import as_utc, utcnow
from relaydesk.db import reading, transaction
from relaydesk.models import ApiToken, Location, User, WebSession
from relaydesk.orgs.service import org_service
from relaydesk.settings import Settings

SESSION_COOKIE = "relaydesk_session"
# A token's last use is written at most this often: enough to see which tokens are idle, and a
# busy integration does not turn every read into a write.
LAST_USED_EVERY = timedelta(minutes=1)
# Who may mint a token acting as whom: never for someone who may do more than oneself.
ROLE_RANK = {Role.VIEWER: 0, Role.AGENT: 1, Role.MANAGER: 2, Role.ADMIN: 3, Role.OWNER: 4}


class Unauthorized(Exception):
    pass


class Throttled(Exception):
    """Too many failed logins for this account or from this address; try again later."""

    def __init__(self, retry_after_s: int) -> None:
        minutes = max(1, math.ceil(retry_after_s / 60))
        super().__init__(
            f"too many failed logins; try again in {minutes} minute{'s' if minutes != 1 else ''}"
        )
        self.retry_after = retry_after_s


@dataclass(frozen=True)
class LoginLimits:
    window: timedelta
    per_account: int
    per_address: int

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginLimits:
        return cls(
            window=timedelta(minutes=settings.login_window_minutes),
            per_account=settings.login_failures_per_account,
            per_address=settings.login_failures_per_address,
        )


def scope_for(session: Session, user: User) -> Scope:
    location_path = None
    location_ids = None
    # The owner answers for the whole organisation wherever her own place is (the demo's owner sits
    # at the brand): reads already ignored it, and settings pages took it for a region's limit.
    if user.location_id is not None and user.role != Role.OWNER:
        loc = session.get(Location, user.location_id)
        if loc is not None:
            location_path = loc.path
            location_ids = repo.location_subtree_ids(session, user.org_id, loc.path)
    return Scope(
        org_id=user.org_id,
        user_id=user.id,
        role=Role(user.role),
        department_ids=frozenset(org_service.user_department_ids(session, user.id)),
        location_path=location_path,
        location_ids=location_ids,
        account_ids=repo.account_ids_of(session, user.id),
    )


def profile(session: Session, user: User) -> MeOut:
    """Who the caller is, as /me and the login answer show it."""
    dept_ids = sorted(org_service.user_department_ids(session, user.id))
    return MeOut(
        id=user.id,
        email=user.email,
        handle=user.handle,
        name=user.name,
        role=user.role,
        org_id=user.org_id,
        departments=sorted(org_service.department_keys(session, dept_ids)),
        languages=list(user.languages or []),
    )


def profile_of(sessions: sessionmaker[Session], user_id: int) -> MeOut:
    with reading(sessions) as session:
        user = session.get(User, user_id)
        assert user is not None
        return profile(session, user)


def active_user(session: Session, email: str, org_id: int | None = None) -> User | None:
    """The active user with this email (of this organisation; None: of any)."""
    return repo.active_user_in_org(session, org_id, email)


def active_user_or_owner(session: Session, email: str | None) -> User | None:
    """The active user with this email, or (no email) the first active owner of any organisation."""
    return repo.active_user_or_owner(session, email)


def any_user_by_email(session: Session, email: str) -> User | None:
    """A user with this email, active or not (`email` in lower case)."""
    return repo.any_user_by_email(session, email)


# -- callers --------------------------------------------------------------------------------------


def user_for_token(session: Session, token: str) -> User:
    row = repo.live_token_by_hash(session, token_hash(token))
    if row is None:
        raise Unauthorized("invalid or revoked API token")
    now = utcnow()
    expires = as_utc(row.expires_at)
    if expires is None or expires <= now:
        raise Unauthorized("this API token has expired; mint a new one")
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise Unauthorized("the token's user is inactive")
    last_used = as_utc(row.last_used_at)
    if last_used is None or last_used < now - LAST_USED_EVERY:
        repo.touch_token(session, row.id, now, now - LAST_USED_EVERY)
    return user


def session_for_cookie(session: Session, cookie: str) -> tuple[User, WebSession]:
    row = repo.web_session_by_hash(session, token_hash(cookie))
    expires = as_utc(row.expires_at) if row else None
    if row is None or expires is None or expires < utcnow():
        raise Unauthorized("session expired; log in again")
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise Unauthorized("the session's user is inactive")
    return user, row


def user_for_session(session: Session, cookie: str) -> User:
    return session_for_cookie(session, cookie)[0]


# -- login / logout -------------------------------------------------------------------------------


def authenticate(
    sessions: sessionmaker[Session],
    email: str,
    password: str,
    address: str,
    limits: LoginLimits,
    session_days: int = 14,
) -> tuple[User, str]:
    """A new browser session for the right email and password, refused while throttled.

    Every attempt that is not throttled runs the password hash exactly once per candidate
    account and at least once, so an unknown email costs what a known one does. The attempt is
    counted as a failure before the hash runs (and forgotten if it succeeds): parallel guesses
    cannot all slip through while each waits for its hash. The hash runs outside any
    transaction: on SQLite a transaction holds the write lock.
    """
    account, client = account_key(email), address_key(address or "unknown")
    with transaction(sessions) as session:
        now = utcnow()
        wait = _throttled(session, account, client, limits, now)
        if wait is None:
            repo.record_failure(session, account, client, now, now - limits.window)
            candidates = [(u.id, u.password_hash) for u in repo.active_users_by_email(session, email)]
    if wait is not None:
        # Refused before the password is looked at: while locked, even the right one fails.
        raise Throttled(wait)
    matched: int | None = None
    if not candidates:
        verify_password(password, None)
    for user_id, stored in candidates:
        if verify_password(password, stored):
            matched = user_id
            break
    if matched is None:
        raise Unauthorized("wrong email or password")
    with transaction(sessions) as session:
        repo.forget_account_failures(session, account)
        user = session.get(User, matched)
        if user is None:  # deleted while the hash ran
            raise Unauthorized("wrong email or password")
        cookie = new_token("rs")
        session.add(
            WebSession(
                user_id=user.id,
                token_hash=token_hash(cookie),
                expires_at=utcnow() + timedelta(days=session_days),
            )
        )
    return user, cookie


def _throttled(session: Session, account: str, client: str, limits: LoginLimits, now: datetime) -> int | None:
    """Seconds to wait before this account or address may try again (the longer), or None."""
    since = now - limits.window
    waits = [
        retry_after(
            repo.recent_failures(session, "account", account, since, limits.per_account),
            limits.per_account,
            limits.window,
            now,
        ),
        retry_after(
            repo.recent_failures(session, "address", client, since, limits.per_address),
            limits.per_address,
            limits.window,
            now,
        ),
    ]
    return max((w for w in waits if w is not None), default=None)


def logout(session: Session, cookie: str) -> None:
    """End the session, and with it every API token it minted."""
    row = repo.web_session_by_hash(session, token_hash(cookie))
    if row is not None:
        repo.revoke_session_tokens(session, row.id)
        session.delete(row)


# -- API tokens -----------------------------------------------------------------------------------


def create_token(
    session: Session, user: User, name: str, days: int, *, web_session_id: int | None = None
) -> tuple[ApiToken, str]:
    """A new token (the secret is returned once and stored only as a hash)."""
    if days < 1:
        raise UserError("a token must live at least one day")
    token = new_token("rd")
    now = utcnow()
    row = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=token_hash(token),
        prefix=token[:7],
        created_at=now,
        expires_at=now + timedelta(days=days),
        web_session_id=web_session_id,
        revoked=False,
    )
    session.add(row)
    session.flush()
    return row, token


def token_info(token: ApiToken, user: User, now: datetime | None = None) -> TokenInfo:
    expires = as_utc(token.expires_at)
    assert expires is not None
    created = as_utc(token.created_at)
    assert created is not None
    return TokenInfo(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        user_id=user.id,
        email=user.email,
        created_at=created,
        expires_at=expires,
        last_used_at=as_utc(token.last_used_at),
        expired=expires <= (now or utcnow()),
        revoked=bool(token.revoked),
        from_session=token.web_session_id is not None,
    )


def token_owner(session: Session, scope: Scope, email: str | None) -> User:
    """The user a caller mints a token for: themselves, or (owners, admins) a user of their org."""
    me = session.get(User, scope.user_id)
    assert me is not None
    if email is None or email.strip().lower() == me.email.lower():
        return me
    if not scope.can_configure:
        raise Forbidden("only owners and admins can mint tokens for other users")
    user = repo.active_user_in_org(session, scope.org_id, email)
    if user is None:
        raise NotFound(f"no active user with email {email!r} in your organisation")
    if ROLE_RANK[Role(user.role)] > ROLE_RANK[scope.role]:
        raise Forbidden("a token acts as its user: you cannot mint one for a role above your own")
    return user


def list_tokens(session: Session, scope: Scope | None, email: str | None = None) -> list[TokenInfo]:
    """Tokens a caller may see: their own; owners and admins every user's in the org.

    `scope` None is the operator at the command line, who sees every organisation's tokens.
    """
    user_id: int | None = None
    if email is not None:
        user = repo.active_user_in_org(session, scope.org_id if scope else None, email)
        if user is None:
            raise NotFound(f"no active user with email {email!r}")
        user_id = user.id
    if scope is not None and not scope.can_configure:
        if user_id is not None and user_id != scope.user_id:
            raise Forbidden("only owners and admins can see other users' tokens")
        user_id = scope.user_id
    now = utcnow()
    return [token_info(t, u, now) for t, u in repo.tokens(session, scope.org_id if scope else None, user_id)]


def revoke_token(session: Session, scope: Scope | None, token_id: int) -> TokenInfo:
    """Revoke one token (idempotent); tokens the caller may not manage are 'not found'."""
    found = repo.token_with_user(session, token_id)
    if found is not None and scope is not None:
        owner = found[1]
        may_manage = owner.org_id == scope.org_id and (scope.can_configure or owner.id == scope.user_id)
        if not may_manage:
            found = None
    if found is None:
        raise NotFound(f"no API token with id {token_id}")
    token, user = found
    token.revoked = True
    return token_info(token, user)


def tokens_of(session: Session, org_id: int, user_id: int) -> list[TokenInfo]:
    """One person's live tokens, oldest first (the caller decided who may see them)."""
    now = utcnow()
    return [token_info(t, u, now) for t, u in repo.tokens(session, org_id, user_id)]
