"""API tokens, browser sessions and failed logins; secrets are stored only as hashes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from relaydesk.core.timeutil import utcnow
from relaydesk.models.base import Base


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Every token expires; the lifetime is chosen when it is minted (settings.token_days by default).
    expires_at: Mapped[datetime] = mapped_column()
    # Written at most once a minute per token, so a busy integration does not write on every call.
    last_used_at: Mapped[datetime | None] = mapped_column()
    # The browser session that minted it: logging that session out revokes the token.
    web_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("web_sessions.id", ondelete="SET NULL"), index=True
    )


class WebSession(Base):
    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginFailure(Base):
    """One wrong password (or unknown email); counted per account and per client address.

    Kept in the database so every API process sees the same counts; rows older than the
    throttling window are deleted as new failures arrive. Both keys are hashes: what someone
    typed as an email may be a password typed into the wrong field.
    """

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_account", "account_key", "failed_at"),
        Index("ix_login_failures_address", "address_key", "failed_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(String(64))
    address_key: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(index=True)


class WelcomeLink(Base):
    """A one-time link that lets an invited person (or one locked out) set their password.

    Only the hash of its token is stored: the link is shown once, to whoever issued it, to pass on.
    """

    __tablename__ = "welcome_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
