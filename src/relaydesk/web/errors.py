"""Error pages: the HTML twin of the API's JSON errors."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import DBAPIError

from relaydesk.web import i18n
from relaydesk.web.i18n import _
from relaydesk.web.rendering import render
from relaydesk.web.session import Caller, current_caller, reading_of

_API_PREFIXES = (
    "/api/",
    "/webhooks/",
    "/webchat/",
    "/static/",
    "/docs",
    "/openapi",
    "/redoc",
    "/healthz",
    "/readyz",
)


def wants_page(request: Request) -> bool:
    """A person's browser asking for a page (not an API client): errors should be a page too."""
    path = request.url.path
    return (
        request.method in ("GET", "HEAD")
        and not path.startswith(_API_PREFIXES)
        and "text/html" in request.headers.get("accept", "")
    )


def error_page(request: Request, status_code: int, detail: str) -> HTMLResponse:
    """The HTML twin of the API's JSON errors, for a mistyped or stale address in the browser."""
    try:
        caller = current_caller(request)
    except DBAPIError:
        caller = None  # the page must still render when the database is what failed
    # The caller's language, or the browser's when nobody is signed in.
    i18n.use(reading_of(request, caller.user if caller else None))
    titles = {404: _("Not found"), 422: _("Not found"), 405: _("Not allowed")}
    title = titles.get(status_code, _("Something went wrong"))
    if status_code == 422:
        # A page address with a malformed id (/conversations/abc) names nothing that exists.
        status_code, message = 404, _("There is no such page: the address is not one RelayDesk knows.")
    elif status_code == 404:
        message = _("There is no such page: the address is not one RelayDesk knows.")
    else:
        message = detail
    return render(
        request, "error.html", {"title": title, "message": message}, caller=caller, status_code=status_code
    )


def not_found(request: Request, caller: Caller, message: str) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {"title": _("Not found"), "message": message},
        caller=caller,
        status_code=404,
    )
