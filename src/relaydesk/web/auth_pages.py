"""Logging in and out."""

from __future__ import annotations

import hmac
import math
import secrets

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from relaydesk.auth.csrf import cross_origin
from relaydesk.auth.service import (
    SESSION_COOKIE,
    LoginLimits,
    Throttled,
    Unauthorized,
    authenticate,
    logout,
)
from relaydesk.db import transaction
from relaydesk.deps import client_address
from relaydesk.web import i18n
from relaydesk.web.i18n import _, ngettext
from relaydesk.web.rendering import redirect, render
from relaydesk.web.session import container_of, csrf_ok, current_caller, reading_of, safe_next

LOGIN_COOKIE = "relaydesk_login"  # the login form's double-submit CSRF token

router = APIRouter(include_in_schema=False)

# -- login / logout -------------------------------------------------------------------------------


def _login_page(
    request: Request,
    error: str | None,
    email: str,
    next_url: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        {
            "error": error,
            "email": email,
            "next": next_url,
            "login_token": token,
            "demo": container_of(request).settings.mode != "production",
        },
        status_code=status_code,
    )
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", max_age=3600, path="/login")
    response.headers.update(headers or {})
    return response


@router.get("/login", response_model=None)
def login_page(request: Request, next: str = "/") -> Response:
    if current_caller(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, None, "", safe_next(next))


@router.post("/login", response_model=None)
def login_submit(
    request: Request,
    email: str = Form(""),
    password: str = Form(""),
    login_token: str = Form(""),
    next: str = Form("/"),
) -> Response:
    container = container_of(request)
    i18n.use(reading_of(request, None))
    target = safe_next(next)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    # The double-submit cookie alone is not enough against a page of the same site (another
    # subdomain can plant cookies), so the browser's own word on where the form came from counts too.
    if (
        not expected
        or not hmac.compare_digest(login_token.encode(), expected.encode())
        or cross_origin(request.headers)
    ):
        problem = _("This form expired (or cookies are blocked); please log in again.")
        return _login_page(request, problem, email, target, 400)
    settings = container.settings
    try:
        _user, cookie = authenticate(
            container.sessions,
            email,
            password,
            client_address(request),
            LoginLimits.from_settings(settings),
            settings.session_days,
        )
    except Throttled as exc:
        minutes = max(1, math.ceil(exc.retry_after / 60))
        message = ngettext(
            "Too many failed logins; try again in %(num)d minute.",
            "Too many failed logins; try again in %(num)d minutes.",
            minutes,
        ) % {"num": minutes}
        return _login_page(request, message, email, target, 429, {"Retry-After": str(exc.retry_after)})
    except Unauthorized as exc:
        # Whatever the cause, the form says only this: it must not tell which part was wrong.
        del exc
        return _login_page(request, _("Wrong email or password."), email, target, 401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        samesite="lax",
        secure=container.settings.mode == "production",
        max_age=container.settings.session_days * 86400,
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.get("/logout", response_model=None)
def logout_page(request: Request) -> Response:
    # Logging out changes state, so GET only asks; the button POSTs with the CSRF token.
    caller = current_caller(request)
    if caller is None:
        return RedirectResponse("/login", status_code=303)
    return render(request, "logout.html", {}, caller=caller)


@router.post("/logout", response_model=None)
def logout_submit(request: Request, csrf: str = Form("")) -> Response:
    if not csrf_ok(request, csrf):
        return redirect(request, "/logout", _("This form expired; please try again."), "error")
    cookie = request.cookies.get(SESSION_COOKIE, "")
    with transaction(container_of(request).sessions) as session:
        logout(session, cookie)
    response = redirect(request, "/login", _("You are logged out."))
    response.delete_cookie(SESSION_COOKIE)
    return response
