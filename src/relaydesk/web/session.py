"""Who is calling: the signed-in user from the session cookie, the CSRF token bound to it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import RedirectResponse

from relaydesk.auth.csrf import csrf_token, csrf_valid
from relaydesk.auth.scopes import Scope
from relaydesk.auth.service import (
    SESSION_COOKIE,
    Unauthorized,
    scope_for,
    user_for_session,
)
from relaydesk.container import Container
from relaydesk.db import transaction
from relaydesk.models import User
from relaydesk.orgs.service import org_service as orgs
from relaydesk.web import i18n
from relaydesk.web.formatting import UTC, viewer_zone


@dataclass(frozen=True)
class Caller:
    scope: Scope
    user: User
    zone: ZoneInfo  # the zone this person reads times in


def container_of(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def current_caller(request: Request) -> Caller | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        with transaction(container_of(request).sessions) as session:
            user = user_for_session(session, cookie)
            zone = viewer_zone(*orgs.time_zones_of(session, user))
            # Before anything this request says (flash messages, errors) is written.
            i18n.use(reading_of(request, user))
            return Caller(scope_for(session, user), user, zone)
    except Unauthorized:
        return None


def reading_of(request: Request, user: User | None) -> i18n.Reading:
    """The person's chosen language, else this browser's choice, else its Accept-Language."""
    locale = i18n.choose(
        user.ui_locale if user is not None else None,
        request.cookies.get(i18n.COOKIE),
        request.headers.get("accept-language"),
    )
    calendar = user.calendar if user is not None and user.calendar in i18n.CALENDARS else "local"
    return i18n.Reading(locale=locale, calendar=calendar)


def zone_of(request: Request, scope: Scope) -> ZoneInfo:
    with container_of(request).sessions() as session:
        user = session.get(User, scope.user_id)
        return viewer_zone(*orgs.time_zones_of(session, user)) if user else UTC


def session_csrf(request: Request) -> str:
    """Bound to the session cookie; the same token the API wants in its X-CSRF-Token header."""
    return csrf_token(container_of(request).box.derive("csrf"), request.cookies.get(SESSION_COOKIE, ""))


def csrf_ok(request: Request, token: str) -> bool:
    return csrf_valid(container_of(request).box.derive("csrf"), request.cookies.get(SESSION_COOKIE), token)


def to_login(request: Request, back: str | None = None) -> RedirectResponse:
    """To the login form, which then returns here (or to `back`: a form's POST cannot be replayed)."""
    target = back or request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if target == "/":
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/login?next=" + quote(target, safe=""), status_code=303)


def safe_next(value: str) -> str:
    """Only a path on this site: never '//evil.example' or 'https://…' (an open redirect)."""
    if not value.startswith("/") or value.startswith("//") or "\\" in value or "\n" in value:
        return "/"
    return value
