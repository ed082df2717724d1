"""The notification centre page: what asked for this person's attention, newest first."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from relaydesk.core.errors import NotFound
from relaydesk.notifications.service import NotificationCentre
from relaydesk.web.errors import not_found
from relaydesk.web.i18n import _, ngettext
from relaydesk.web.rendering import redirect, render
from relaydesk.web.session import container_of, csrf_ok, current_caller, to_login

router = APIRouter(include_in_schema=False)


def centre_of(request: Request) -> NotificationCentre:
    return container_of(request).notifications


@router.get("/notifications", response_class=HTMLResponse, response_model=None)
def notifications_page(request: Request, unread: str = "") -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    items = centre_of(request).latest(caller.scope, unread=unread == "1")
    return render(
        request, "notifications.html", {"items": items, "only_unread": unread == "1"}, caller=caller
    )


@router.post("/notifications/{notification_id}/read", response_model=None)
def read_one(request: Request, notification_id: int, csrf: str = Form("")) -> Response:
    """Opening a notice reads it and goes where it points (its conversation or alert, else the list)."""
    caller = current_caller(request)
    if caller is None:
        return to_login(request, "/notifications")
    if not csrf_ok(request, csrf):
        return redirect(request, "/notifications", _("This form expired; please try again."), "error")
    try:
        notice = centre_of(request).mark_read(caller.scope, notification_id)
    except NotFound:
        return not_found(request, caller, _("There is no such notification."))
    if notice.conversation_id is not None:
        return redirect(request, f"/conversations/{notice.conversation_id}")
    if notice.alert_id is not None:
        return redirect(request, f"/alerts/{notice.alert_id}")
    return redirect(request, "/notifications")


@router.post("/notifications/read-all", response_model=None)
def read_all(request: Request, csrf: str = Form("")) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request, "/notifications")
    if not csrf_ok(request, csrf):
        return redirect(request, "/notifications", _("This form expired; please try again."), "error")
    count = centre_of(request).mark_all_read(caller.scope)
    message = ngettext("%(num)d notification marked read.", "%(num)d notifications marked read.", count)
    return redirect(request, "/notifications", message % {"num": count})
