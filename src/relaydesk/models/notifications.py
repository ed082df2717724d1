"""Where notifications go besides people: named outbound webhooks an admin keeps in the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from relaydesk.core.timeutil import utcnow
from relaydesk.models.base import Base


class NotificationDestination(Base):
    """A named Slack-compatible webhook (`notify: ["webhook:<name>"]`); its URL is a secret.

    The URL is sealed with the installation's SecretBox and never read back out to a page, an
    export or the audit log (whose masking goes by the column name: `url_secret`). An environment
    variable `RELAYDESK_WEBHOOK_<NAME>` of the same name wins over the row.
    """

    __tablename__ = "notification_destinations"
    __table_args__ = (UniqueConstraint("org_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    url_secret: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
