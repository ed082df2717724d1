"""What the channels API answers: webhook events kept raw, and the channel accounts, for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class IgnoredEventOut(BaseModel):
    id: int
    account_id: int | None
    network: str
    kind: str
    reason: str
    raw: Any = Field(description="the event's own part of the delivery, as the network sent it")
    received_at: datetime


class IgnoredEventPage(BaseModel):
    items: list[IgnoredEventOut]
    next_before: int | None = Field(default=None, description="pass as ?before= for older events")


# -- channel accounts (settings page and /api/v1/accounts) ------------------------------------


class AccountIn(BaseModel):
    """A new account. Its credentials are write-only: no answer ever carries them back."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True)

    key: str = Field(max_length=64, description="lowercase letters, digits, '-', '_' or '.'")
    network: str = Field(max_length=32, description="facebook, instagram, whatsapp, x, telegram, ...")
    handle: str = Field(max_length=200)
    external_id: str | None = Field(
        default=None, max_length=200, description="its id on the network (page, bot, phone-number id)"
    )
    name: str = Field(default="", max_length=200)
    location: str = Field(max_length=64, description="the key of the location it belongs to")
    credentials: dict[str, str] = Field(default_factory=dict, repr=False)
    sandbox: bool = Field(default=False, description="replies are recorded as sent, never posted")
    active: bool = True


class AccountPatch(BaseModel):
    """A change to an account; a field left out is kept. Key and network never change.

    `credentials`: the values to set (an empty value keeps the stored one); `remove_credentials`:
    names to delete. `external_id` given as "" or null disconnects the network identity.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True)

    handle: str | None = Field(default=None, max_length=200)
    external_id: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    location: str | None = Field(default=None, max_length=64)
    credentials: dict[str, str] = Field(default_factory=dict, repr=False)
    remove_credentials: list[str] = Field(default_factory=list)
    sandbox: bool | None = None
    active: bool | None = None


class LastErrorOut(BaseModel):
    message: str
    status: str = Field(description="queued/sending: being retried; failed: given up")
    at: datetime | None = Field(description="failed: the last attempt; being retried: the next one")


class AccountStatusOut(BaseModel):
    ok: bool = Field(description="set up to reply and to receive (as `relaydesk channels check`)")
    badge: str = Field(description="off, setup (something missing), failing (replies), ready")
    replies_state: str = Field(description="ready, missing, none (this network sends nothing)")
    webhook_state: str = Field(description="ready, missing, unmatched (no external_id), none")
    replies: str = Field(description="in plain words, as `relaydesk channels check` says it")
    webhook: str
    missing: list[str] = Field(description="credential names (or external_id) still to add")
    notes: list[str]
    webhook_address: str = Field(description="the address (or snippet) to register with the network")
    last_event_at: datetime | None = Field(description="the last event received (webhook or poll)")
    last_error: LastErrorOut | None = Field(description="the account's last reply that failed")
    checked_at: datetime


class AccountOut(BaseModel):
    id: int
    key: str
    network: str
    handle: str
    external_id: str | None
    name: str
    location: str
    location_name: str
    active: bool
    sandbox: bool
    credentials: list[str] = Field(description="the names of the stored credentials, never their values")
    status: AccountStatusOut
