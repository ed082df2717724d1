"""The guard every form of the pages passes first (who is posting, and is the form theirs), and the
end every settings list's Delete button shares."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from relaydesk.core.errors import Forbidden, NotFound
from relaydesk.web.i18n import _
from relaydesk.web.rendering import redirect
from relaydesk.web.session import Caller, csrf_ok, current_caller, to_login


async def posted(request: Request, back: str) -> tuple[Caller, FormData] | Response:
    """The signed-in caller and the posted form; or the answer that ends the request: the login
    page (returning to `back`), or `back` again when the form's CSRF token is not this session's."""
    caller = await run_in_threadpool(current_caller, request)
    if caller is None:
        return to_login(request, back)
    form = await request.form()
    token = form.get("csrf", "")
    if not csrf_ok(request, token if isinstance(token, str) else ""):
        return redirect(request, back, _("This form expired; please try again."), "error")
    return caller, form


async def removed(
    request: Request, back: str, remove: Callable[[], None], gone: str, refused: str, done: str
) -> Response:
    """Run `remove` (its own transaction) and go back to the list saying how it went: `gone` when
    the object was no longer there, `refused` when the caller may not, else `done`."""
    try:
        await run_in_threadpool(remove)
    except NotFound:
        return redirect(request, back, gone, "error")
    except Forbidden:
        return redirect(request, back, refused, "error")
    return redirect(request, back, done)
