"""API shapes of the auth slice: login, who-am-I, API tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


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


class LoginOut(MeOut):
    csrf_token: str = Field(
        description="send it as the X-CSRF-Token header with every POST/PUT/PATCH/DELETE made with "
        "the session cookie (requests with a bearer token need none)"
    )


class CsrfOut(BaseModel):
    csrf_token: str


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    expires_days: int | None = Field(
        default=None, ge=1, le=3650, description="lifetime in days; the installation's default when omitted"
    )
    email: str | None = Field(
        default=None,
        min_length=3,
        max_length=254,
        description="mint it for another user of the organisation (owners and admins only)",
    )


class TokenInfo(BaseModel):
    """A token as listed: everything but the secret, which is shown only once when minted."""

    id: int
    name: str
    prefix: str
    user_id: int
    email: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    expired: bool
    revoked: bool
    from_session: bool = Field(description="minted from a browser session: revoked when it logs out")


class TokenOut(TokenInfo):
    token: str
    detail: str = "store this token now: it is shown only once"


class AvailabilityIn(BaseModel):
    online: bool = Field(description="true: available for new conversations; false: away")


class AvailabilityOut(BaseModel):
    online: bool
    detail: str
