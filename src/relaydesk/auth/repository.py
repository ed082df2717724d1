"""The auth slice's queries: users by email, sessions, API tokens and failed logins."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.orm import Session

from relaydesk.models import ApiToken, Location, LoginFailure, User, UserAccount, WebSession


def active_users_by_email(session: Session, email: str) -> list[User]:
    # One email may hold accounts in several organisations; each is tried in turn.
    return list(
        session.scalars(
            select(User)
            .where(func.lower(User.email) == email.strip().lower(), User.active.is_(True))
            .order_by(User.id)
        )
    )


def active_user_in_org(session: Session, org_id: int | None, email: str) -> User | None:
    query = select(User).where(func.lower(User.email) == email.strip().lower(), User.active.is_(True))
    if org_id is not None:
        query = query.where(User.org_id == org_id)
    return session.scalars(query.order_by(User.id)).first()


def active_user_or_owner(session: Session, email: str | None) -> User | None:
    """The active user with this email, or (no email) the first active owner."""
    query = select(User).where(User.active.is_(True))
    if email:
        query = query.where(func.lower(User.email) == email.lower())
    else:
        query = query.where(User.role == "owner")
    return session.scalars(query.order_by(User.id)).first()


def any_user_by_email(session: Session, email: str) -> User | None:
    """A user with this email (lower case), active or not."""
    return session.scalars(select(User).where(func.lower(User.email) == email)).first()


# -- scopes ---------------------------------------------------------------------------------------


def location_subtree(org_id: int, path: str) -> Select[int]:
    """The ids of the locations under `path` (itself included), as a statement to embed or run."""
    return select(Location.id).where(
        Location.org_id == org_id, Location.path.startswith(path, autoescape=True)
    )


def location_subtree_ids(session: Session, org_id: int, path: str) -> frozenset[int]:
    return frozenset(session.scalars(location_subtree(org_id, path)))


# -- failed logins ---------------------------------------------------------------------------------


def recent_failures(session: Session, column: str, key: str, since: datetime, limit: int) -> list[datetime]:
    """The `limit` most recent failure times for one account or address key since `since`."""
    field = LoginFailure.account_key if column == "account" else LoginFailure.address_key
    return list(
        session.scalars(
            select(LoginFailure.failed_at)
            .where(field == key, LoginFailure.failed_at > since)
            .order_by(LoginFailure.failed_at.desc())
            .limit(limit)
        )
    )


def record_failure(
    session: Session, account_key: str, address_key: str, at: datetime, forget_before: datetime
) -> None:
    # Rows that left the window count for nothing any more; dropping them here keeps the table small.
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= forget_before))
    session.add(LoginFailure(account_key=account_key, address_key=address_key, failed_at=at))


def forget_account_failures(session: Session, account_key: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.account_key == account_key))


# -- sessions -------------------------------------------------------------------------------------


def web_session_by_hash(session: Session, hashed: str) -> WebSession | None:
    return session.scalars(select(WebSession).where(WebSession.token_hash == hashed)).first()


# -- API tokens -----------------------------------------------------------------------------------


def live_token_by_hash(session: Session, hashed: str) -> ApiToken | None:
    return session.scalars(
        select(ApiToken).where(ApiToken.token_hash == hashed, ApiToken.revoked.is_(False))
    ).first()


def touch_token(session: Session, token_id: int, now: datetime, stale_before: datetime) -> None:
    """Record a use; the condition keeps two processes from both writing within the same minute."""
    session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < stale_before),
        )
        .values(last_used_at=now)
    )


def revoke_session_tokens(session: Session, web_session_id: int) -> None:
    session.execute(
        update(ApiToken)
        .where(ApiToken.web_session_id == web_session_id, ApiToken.revoked.is_(False))
        .values(revoked=True)
    )


def tokens(
    session: Session, org_id: int | None, user_id: int | None, include_revoked: bool = False
) -> Sequence[tuple[ApiToken, User]]:
    query = select(ApiToken, User).join(User, User.id == ApiToken.user_id)
    if org_id is not None:
        query = query.where(User.org_id == org_id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    if not include_revoked:
        query = query.where(ApiToken.revoked.is_(False))
    return [(token, user) for token, user in session.execute(query.order_by(ApiToken.id))]


def token_with_user(session: Session, token_id: int) -> tuple[ApiToken, User] | None:
    row = session.execute(
        select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(ApiToken.id == token_id)
    ).first()
    return (row[0], row[1]) if row else None


def account_ids_of(session: Session, user_id: int) -> frozenset[int] | None:
    """The channel accounts a person is limited to; None when they are not limited to any."""
    found = frozenset(session.scalars(select(UserAccount.account_id).where(UserAccount.user_id == user_id)))
    return found or None
