"""Which notifications reach this person, and how: per kind, in the app and by e-mail.

Sound and desktop alerts belong to one browser, not to the person, so the page keeps them in
that browser (relaydesk.js, localStorage).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from relaydesk.notifications.service import CHANNELS, KINDS
from relaydesk.web.forms import posted
from relaydesk.web.i18n import _
from relaydesk.web.rendering import redirect, render
from relaydesk.web.session import container_of, current_caller, to_login

router = APIRouter(include_in_schema=False)
PAGE = "/settings/notifications"


@router.get(PAGE, response_class=HTMLResponse, response_model=None)
def settings_page(request: Request) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    prefs = container_of(request).notifications.preferences(caller.scope)
    return render(request, "notification_settings.html", {"kinds": KINDS, "prefs": prefs}, caller=caller)


@router.post(PAGE, response_model=None)
async def settings_submit(request: Request) -> Response:
    got = await posted(request, PAGE)
    if not isinstance(got, tuple):
        return got
    caller, form = got
    # A ticked box is "kind.channel"; an unticked one is simply absent.
    chosen = {kind: {c for c in CHANNELS if form.get(f"{kind}.{c}") == "1"} for kind in KINDS}
    await run_in_threadpool(container_of(request).notifications.set_preferences, caller.scope, chosen)
    return redirect(request, PAGE, _("Your notification settings are saved."))
