"""What the settings pages for intents, guidelines, saved replies and SLA policies share."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from relaydesk.web.i18n import _
from relaydesk.web.rendering import render
from relaydesk.web.session import Caller

LANGUAGES = ("en", "fa", "ar", "he", "th")
# A page of a list never asks the database for more than this past its start.
MAX_OFFSET = 100_000


def form_field(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def form_list(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str) and v]


def lines(text: str) -> list[str]:
    """One entry per non-blank line, trimmed."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def offset_of(value: str) -> int:
    try:
        return min(max(int(value), 0), MAX_OFFSET)
    except ValueError:
        return 0


def forbidden(request: Request, caller: Caller, message: str) -> HTMLResponse:
    return render(
        request, "error.html", {"title": _("Not allowed"), "message": message}, caller=caller, status_code=403
    )
