"""Crisis alerts in the browser: the list (open first), one alert with its numbers, timeline and the
messages behind it, the buttons to acknowledge, escalate and resolve, and the holding statement PR
writes per language (offered in the reply box of the conversations under the alert)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from relaydesk.core.errors import Conflict, Forbidden, NotFound
from relaydesk.crisis.alert_service import PAGE_SIZE, STATUSES, alert_service, median_minutes
from relaydesk.crisis.topic_service import alert_topics
from relaydesk.db import reading, transaction
from relaydesk.web.errors import not_found
from relaydesk.web.forms import posted
from relaydesk.web.i18n import _
from relaydesk.web.rendering import redirect, render
from relaydesk.web.session import container_of, current_caller, to_login
from relaydesk.web.settings_common import LANGUAGES, forbidden, form_field, offset_of

router = APIRouter(include_in_schema=False)
PAGE = "/alerts"


@router.get(PAGE, response_class=HTMLResponse, response_model=None)
def alerts_page(request: Request, status: str = "", offset: str = "0") -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    status = status if status in STATUSES else ""
    at = offset_of(offset)
    with reading(container_of(request).sessions) as session:
        try:
            rows, more = alert_service.page(session, caller.scope, status, at)
        except Forbidden:
            return forbidden(request, caller, _("Crisis alerts are for the people who answer and manage."))
    context: dict[str, Any] = {
        "rows": rows,
        "median_ack": median_minutes(rows),
        "status": status,
        "statuses": STATUSES,
        "page": type("Page", (), {"offset": at, "more": more, "rows": rows})(),
        "page_size": PAGE_SIZE,
        "pager_url": lambda n: f"{PAGE}?status={status}&offset={n}",
    }
    return render(request, "alerts.html", context, caller=caller)


@router.get(PAGE + "/{alert_id}", response_class=HTMLResponse, response_model=None)
def alert_page(request: Request, alert_id: int) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    with reading(container_of(request).sessions) as session:
        try:
            alert = alert_service.get(session, caller.scope, alert_id)
        except Forbidden:
            return forbidden(request, caller, _("Crisis alerts are for the people who answer and manage."))
        except NotFound:
            return not_found(request, caller, _("There is no such alert, or it is not one of your places."))
        found = alert_topics(session, caller.scope, alert_id)
    return render(
        request,
        "alert.html",
        {"a": alert, "languages": LANGUAGES, "topics": found[0] if found else None},
        caller=caller,
    )


@router.post(PAGE + "/{alert_id}/action", response_model=None)
async def alert_action(request: Request, alert_id: int) -> Response:
    here = f"{PAGE}/{alert_id}"
    got = await posted(request, here)
    if not isinstance(got, tuple):
        return got
    caller, answer = got
    action = form_field(answer, "action")
    note = form_field(answer, "note")[:2000]
    container = container_of(request)

    def act() -> None:
        with transaction(container.sessions) as session:
            alert_service.act(session, caller.scope, alert_id, action, note)

    done = {
        "acknowledge": _("Acknowledged: everyone sees that you are on it."),
        "escalate": _("Escalated: the owners and admins are told again."),
        "resolve": _("The alert is resolved."),
        "reopen": _("Opened again."),
    }
    try:
        await run_in_threadpool(act)
    except NotFound:
        return redirect(request, PAGE, _("There is no such alert, or it is not one of your places."), "error")
    except Forbidden:
        return redirect(request, here, _("Alerts are handled by managers, PR, admins and owners."), "error")
    except Conflict:
        return redirect(
            request, here, _("The alert has moved on in the meantime: see its timeline."), "error"
        )
    return redirect(request, here, done.get(action, _("Done.")))


@router.post(PAGE + "/{alert_id}/statement", response_model=None)
async def alert_statement(request: Request, alert_id: int) -> Response:
    here = f"{PAGE}/{alert_id}"
    got = await posted(request, here)
    if not isinstance(got, tuple):
        return got
    caller, answer = got
    statements = {code: form_field(answer, f"statement_{code}")[:5000] for code in LANGUAGES}
    container = container_of(request)

    def save() -> None:
        with transaction(container.sessions) as session:
            alert_service.set_statements(session, caller.scope, alert_id, statements)

    try:
        await run_in_threadpool(save)
    except NotFound:
        return redirect(request, PAGE, _("There is no such alert, or it is not one of your places."), "error")
    except Forbidden:
        return redirect(
            request,
            here,
            _("The holding statement is written by PR (the spokesperson), admins and owners."),
            "error",
        )
    return redirect(
        request,
        here,
        _("The holding statement is saved: agents are offered it in the conversations under this alert."),
    )
