"""Settings: notification destinations, the named webhooks rules tell (`notify: ["webhook:<name>"]`).

Owners and admins of the whole organisation add, replace, test, switch and delete them; managers
read the names to use them in rules (notifications/destination_access.py decides, in the service).
A URL is write-only: typed into a password field, sealed, never shown again (not even after a
mistake: the form asks for it again). Webhooks the server's environment sets are listed read-only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from relaydesk.core.errors import Conflict, Forbidden, NotFound, UserError
from relaydesk.db import reading, transaction
from relaydesk.notifications.destination_access import DestinationAction
from relaydesk.notifications.destination_service import destination_service
from relaydesk.notifications.schemas import DestinationIn, DestinationPatch, DestinationTestOut
from relaydesk.web.i18n import _
from relaydesk.web.rendering import redirect, render, user_message
from relaydesk.web.session import Caller, container_of, csrf_ok, current_caller, to_login

router = APIRouter(include_in_schema=False)
PAGE = "/settings/destinations"


def _url_of(name: str, action: str = "") -> str:
    return f"{PAGE}/{quote(name, safe='')}" + (f"/{action}" if action else "")


def _forbidden(request: Request, caller: Caller) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {
            "title": _("Not allowed"),
            "message": _("Notification destinations are for managers, admins and owners."),
        },
        caller=caller,
        status_code=403,
    )


def _field(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _page(
    request: Request,
    caller: Caller,
    *,
    search: str = "",
    name: str = "",
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    scope = caller.scope
    with reading(container_of(request).sessions) as session:
        listing = destination_service.list(session, scope, search)
    context: dict[str, Any] = {
        "listing": listing,
        "search": search,
        "typed_name": name,
        "may_create": destination_service.may(scope, DestinationAction.CREATE),
        "may_edit": destination_service.may(scope, DestinationAction.EDIT),
        "may_test": destination_service.may(scope, DestinationAction.TEST),
        "may_delete": destination_service.may(scope, DestinationAction.DELETE),
        "url_of": _url_of,
    }
    return render(
        request,
        "settings_destinations.html",
        context,
        caller=caller,
        status_code=status,
        flash={"message": error, "kind": "error"} if error else None,
    )


def _problem(exc: UserError) -> str:
    return _("The destination was not saved: %(problem)s", problem=user_message(exc))


@router.get(PAGE, response_class=HTMLResponse, response_model=None)
def destinations_page(request: Request, q: str = "") -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    if not destination_service.may(caller.scope, DestinationAction.VIEW):
        return _forbidden(request, caller)
    return _page(request, caller, search=q.strip()[:64])


async def _posted(request: Request) -> tuple[Caller | None, FormData | None, Response | None]:
    """The caller and form of a POST here, or the answer when it cannot go on."""
    caller = await run_in_threadpool(current_caller, request)
    if caller is None:
        return None, None, to_login(request, PAGE)
    answer = await request.form()
    if not csrf_ok(request, _field(answer, "csrf")):
        return None, None, redirect(request, PAGE, _("This form expired; please try again."), "error")
    return caller, answer, None


@router.post(PAGE, response_model=None)
async def add_destination(request: Request) -> Response:
    caller, answer, stop = await _posted(request)
    if stop is not None or caller is None or answer is None:
        return stop or redirect(request, PAGE)
    if not destination_service.may(caller.scope, DestinationAction.CREATE):
        return _forbidden(request, caller)
    name = _field(answer, "name")
    container = container_of(request)
    try:
        body = DestinationIn(name=name, url=_field(answer, "url"), active=_field(answer, "active") == "1")
    except ValidationError:
        error = _("The destination was not saved: the name or the address is too long.")
        return await run_in_threadpool(_page, request, caller, name=name, error=error, status=422)

    def save() -> str:
        with transaction(container.sessions) as session:
            return destination_service.create(session, caller.scope, container.box, body, via="web").name

    try:
        saved = await run_in_threadpool(save)
    except Forbidden as exc:
        error = _("Not allowed: %(why)s", why=str(exc))
        return await run_in_threadpool(_page, request, caller, name=name, error=error, status=403)
    except UserError as exc:
        status = 409 if isinstance(exc, Conflict) else 422
        error = _problem(exc) + " " + _("Type the address again: it is never shown back.")
        return await run_in_threadpool(_page, request, caller, name=name, error=error, status=status)
    said = _("The destination %(name)s is saved. Rules reach it as webhook:%(name)s.", name=saved)
    return redirect(request, PAGE + f"#destination-{quote(saved, safe='')}", said)


@router.post(PAGE + "/{name}", response_model=None)
async def replace_address(request: Request, name: str) -> Response:
    """A new URL replaces the stored one; an empty field keeps it."""
    caller, answer, stop = await _posted(request)
    if stop is not None or caller is None or answer is None:
        return stop or redirect(request, PAGE)
    if not destination_service.may(caller.scope, DestinationAction.EDIT):
        return _forbidden(request, caller)
    url = _field(answer, "replace")
    if not url:
        return redirect(request, PAGE, _("Nothing changed: type the new address to replace the stored one."))
    container = container_of(request)
    try:
        patch = DestinationPatch(url=url)
    except ValidationError:
        return redirect(request, PAGE, _("The destination was not saved: the address is too long."), "error")

    def save() -> None:
        with transaction(container.sessions) as session:
            destination_service.update(session, caller.scope, container.box, name, patch, via="web")

    try:
        await run_in_threadpool(save)
    except NotFound:
        return redirect(request, PAGE, _("There is no destination with that name any more."), "error")
    except Forbidden:
        return _forbidden(request, caller)
    except UserError as exc:
        return await run_in_threadpool(_page, request, caller, error=_problem(exc), status=422)
    return redirect(request, PAGE, _("The address of %(name)s is replaced.", name=name))


def _tested(result: DestinationTestOut) -> tuple[str, str]:
    if result.ok:
        return _(
            "The test message reached %(name)s (HTTP %(status)s).",
            name=result.name,
            status=str(result.status),
        ), "ok"
    if result.status is not None:
        said = _(
            "The test message did not reach %(name)s: it answered HTTP %(status)s.",
            name=result.name,
            status=str(result.status),
        )
    else:
        said = _(
            "The test message did not reach %(name)s: %(error)s.", name=result.name, error=result.error or ""
        )
    return said, "error"


@router.post(PAGE + "/{name}/{what}", response_model=None)
async def change_destination(request: Request, name: str, what: str) -> Response:
    if what not in ("enable", "disable", "delete", "test"):
        return redirect(request, PAGE, _("That did not work."), "error")
    caller, _answer, stop = await _posted(request)
    if stop is not None or caller is None:
        return stop or redirect(request, PAGE)
    container = container_of(request)
    anchor = PAGE + f"#destination-{quote(name, safe='')}"

    def change() -> DestinationTestOut | None:
        if what == "test":
            return destination_service.test(container.sessions, caller.scope, container.box, name)
        with transaction(container.sessions) as session:
            if what == "delete":
                destination_service.delete(session, caller.scope, name, via="web")
            else:
                patch = DestinationPatch(active=what == "enable")
                destination_service.update(session, caller.scope, container.box, name, patch, via="web")
        return None

    try:
        result = await run_in_threadpool(change)
    except NotFound:
        return redirect(request, PAGE, _("There is no destination with that name any more."), "error")
    except Forbidden:
        return _forbidden(request, caller)
    if result is not None:
        said, kind = _tested(result)
        return redirect(request, anchor, said, kind)
    if what == "delete":
        return redirect(request, PAGE, _("The destination %(name)s is deleted.", name=name))
    if what == "enable":
        return redirect(request, anchor, _("The destination %(name)s is on.", name=name))
    return redirect(
        request,
        anchor,
        _("The destination %(name)s is off: rules that name it tell no one there.", name=name),
    )
