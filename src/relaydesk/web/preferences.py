"""Choosing the pages' language and date convention: per person once signed in, per browser before."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from relaydesk.auth.preferences import save_reading
from relaydesk.orgs.service import org_service
from relaydesk.web import i18n
from relaydesk.web.i18n import _
from relaydesk.web.rendering import redirect
from relaydesk.web.session import container_of, csrf_ok, current_caller, safe_next, to_login

router = APIRouter(include_in_schema=False)
# A year: the choice outlives the session, so the login page speaks it next time too.
COOKIE_AGE = 365 * 86400


def _remember(response: Response, locale: str) -> Response:
    response.set_cookie(i18n.COOKIE, locale, max_age=COOKIE_AGE, httponly=True, samesite="lax", path="/")
    return response


@router.get("/language", response_model=None)
def language_before_login(request: Request, set: str = "", next: str = "/login") -> Response:
    """The login page's switcher: only this browser's cookie changes, so a link (GET) is enough."""
    locale = i18n.supported(set)
    response = RedirectResponse(safe_next(next), status_code=303)
    return _remember(response, locale) if locale else response


@router.post("/preferences", response_model=None)
def preferences_submit(
    request: Request,
    csrf: str = Form(""),
    locale: str = Form(""),
    calendar: str = Form("local"),
    next: str = Form("/"),
) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request, "/")
    target = safe_next(next)
    if not csrf_ok(request, csrf):
        return redirect(request, target, _("This form expired; please try again."), "error")
    chosen = i18n.supported(locale)
    if chosen is None or calendar not in i18n.CALENDARS:
        return redirect(request, target, _("Choose one of the languages in the list."), "error")
    save_reading(container_of(request).sessions, caller.scope.user_id, chosen, calendar)
    # The confirmation is already in the new language.
    i18n.use(i18n.Reading(locale=chosen, calendar=calendar))
    return _remember(redirect(request, target, _("Language and dates saved.")), chosen)


@router.post("/availability", response_model=None)
def availability_submit(
    request: Request, csrf: str = Form(""), online: str = Form(""), next: str = Form("/")
) -> Response:
    """Available or away: away, routing gives the person no new conversations."""
    caller = current_caller(request)
    if caller is None:
        return to_login(request, "/")
    target = safe_next(next)
    if not csrf_ok(request, csrf):
        return redirect(request, target, _("This form expired; please try again."), "error")
    available = online == "1"
    org_service.set_availability(container_of(request).sessions, caller.scope.user_id, available)
    if available:
        return redirect(request, target, _("You are available: new conversations can be assigned to you."))
    return redirect(request, target, _("You are away: you get no new conversations until you are back."))
