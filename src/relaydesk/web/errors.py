"""Error pages: the HTML twin of the API's JSON errors."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import DBAPIError

from relaydesk.web.rendering import render
from relaydesk.web.session import Caller, current_caller

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
    title = {404: "Not found", 422: "Not found", 405: "Not allowed"}.get(status_code, "Something went wrong")
    if status_code == 422:
        # A page address with a malformed id (/conversations/abc) names nothing that exists.
        status_code, message = 404, "There is no such page: the address is not one RelayDesk knows."
    elif status_code == 404:
        message = "There is no such page: the address is not one RelayDesk knows."
    else:
        message = detail
    try:
        caller = current_caller(request)
    except DBAPIError:
        caller = None  # the page must still render when the database is what failed
    return render(
        request, "error.html", {"title": title, "message": message}, caller=caller, status_code=status_code
    )


def not_found(request: Request, caller: Caller, message: str) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {"title": "Not found", "message": message},
        caller=caller,
        status_code=404,
    )
