"""The one-time set-password page an invited person opens: /welcome/<token>.

Nobody is logged in here, so the token in the address is what makes the form theirs (another
site cannot know it) and the browser's own word on the form's origin is checked as at login. A
link that is unknown, used, expired or for a deactivated person gets a page that says which, and
what to do: ask for a new link.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from relaydesk.auth import welcome
from relaydesk.auth.csrf import cross_origin
from relaydesk.core.errors import UserError
from relaydesk.web import i18n
from relaydesk.web.i18n import _
from relaydesk.web.rendering import redirect, render
from relaydesk.web.session import container_of, reading_of

router = APIRouter(include_in_schema=False)


def _gone(request: Request, state: welcome.LinkState) -> HTMLResponse:
    reasons = {
        welcome.LinkState.USED: _("This link was used already: a link sets a password once."),
        welcome.LinkState.EXPIRED: _("This link has expired."),
        welcome.LinkState.INACTIVE: _("This person's access is switched off."),
    }
    message = reasons.get(state, _("This link is not one RelayDesk knows (it may be incomplete)."))
    context = {
        "title": _("This link no longer works"),
        "message": message + " " + _("Ask whoever invited you for a new link."),
    }
    return render(
        request, "error.html", context, status_code=410 if state != welcome.LinkState.UNKNOWN else 404
    )


def _form(
    request: Request, token: str, check: welcome.LinkCheck, error: str | None, status: int
) -> HTMLResponse:
    context = {"token": token, "check": check, "error": error, "min_length": welcome.MIN_PASSWORD}
    return render(request, "welcome.html", context, status_code=status)


@router.get("/welcome/{token}", response_class=HTMLResponse, response_model=None)
def welcome_page(request: Request, token: str) -> Response:
    i18n.use(reading_of(request, None))
    check = welcome.check(container_of(request).sessions, token[:200])
    if check.state != welcome.LinkState.OK:
        return _gone(request, check.state)
    return _form(request, token, check, None, 200)


@router.post("/welcome/{token}", response_model=None)
async def set_password(
    request: Request, token: str, password: str = Form(""), confirm: str = Form("")
) -> Response:
    i18n.use(reading_of(request, None))
    sessions = container_of(request).sessions
    check = await run_in_threadpool(welcome.check, sessions, token[:200])
    if check.state != welcome.LinkState.OK:
        return _gone(request, check.state)
    if cross_origin(request.headers):
        return _form(request, token, check, _("Set your password from RelayDesk's own page."), 403)
    if password != confirm:
        return _form(request, token, check, _("The two passwords differ: type the same one twice."), 422)
    if welcome.password_problem(password) is not None:
        error = _(
            "Choose a password of %(least)s to %(most)s characters.",
            least=welcome.MIN_PASSWORD,
            most=welcome.MAX_PASSWORD,
        )
        return _form(request, token, check, error, 422)
    try:
        state, _email = await run_in_threadpool(welcome.redeem, sessions, token[:200], password)
    except UserError:
        return _form(request, token, check, _("That password cannot be used; choose another."), 422)
    if state != welcome.LinkState.OK:
        return _gone(request, state)
    return redirect(request, "/login", _("Your password is set: log in with your email and it."))
