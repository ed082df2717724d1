"""Settings: the crisis playbook, for the whole organisation or one brand: who is told when an
alert opens (departments besides owners, admins, PR and the place's managers; webhooks besides
"crisis"), whether replies under an open alert wait for approval and by whom, the holding
statement new alerts start with, and the organisation's own trigger words. PR, admins and owners
change it; everyone else who writes replies reads it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from relaydesk.core.errors import Forbidden, UserError
from relaydesk.crisis import playbook
from relaydesk.crisis.playbook_service import playbook_service
from relaydesk.crisis.schemas import PlaybookIn
from relaydesk.db import reading, transaction
from relaydesk.web.forms import posted
from relaydesk.web.i18n import _
from relaydesk.web.rendering import redirect, render, user_message
from relaydesk.web.session import Caller, container_of, current_caller, to_login
from relaydesk.web.settings_common import LANGUAGES, forbidden, form_field, form_list

router = APIRouter(include_in_schema=False)
PAGE = "/settings/crisis"


def _page(
    request: Request, caller: Caller, place: str, *, error: str | None = None, status: int = 200
) -> HTMLResponse:
    with reading(container_of(request).sessions) as session:
        book = playbook_service.get(session, caller.scope, place or None)
        brands = playbook_service.brands(session, caller.scope)
        departments, destinations = playbook_service.choices(session, caller.scope)
    context: dict[str, Any] = {
        "book": book,
        "place": place,
        "brands": brands,
        "departments": departments,
        "destinations": destinations,
        "languages": LANGUAGES,
        "trigger_lines": playbook.trigger_lines(book.triggers),
        "approvers": ", ".join(book.approvers),
    }
    return render(
        request, "settings_crisis.html", context, caller=caller, status_code=status,
        flash={"message": error, "kind": "error"} if error else None,
    )  # fmt: skip


@router.get(PAGE, response_class=HTMLResponse, response_model=None)
def crisis_page(request: Request, place: str = "") -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    try:
        return _page(request, caller, place.strip()[:64])
    except Forbidden:
        return forbidden(request, caller, _("Crisis playbooks are for the people who answer and manage."))
    except UserError:
        return redirect(request, PAGE, _("There is no such brand any more."), "error")


@router.post(PAGE, response_model=None)
async def save_playbook(request: Request) -> Response:
    got = await posted(request, PAGE)
    if not isinstance(got, tuple):
        return got
    caller, answer = got
    place = form_field(answer, "place").strip()[:64]
    try:
        body = PlaybookIn(
            notify_departments=form_list(answer, "notify_departments"),
            notify_destinations=form_list(answer, "notify_destinations"),
            hold_replies=form_field(answer, "hold_replies") == "1",
            approvers=[
                a.strip() for a in form_field(answer, "approvers").replace("،", ",").split(",") if a.strip()
            ],
            holding_statements={code: form_field(answer, f"statement_{code}") for code in LANGUAGES},
            triggers=playbook.parse_trigger_lines(form_field(answer, "triggers")[:20000]),
        )
    except ValidationError:
        return await run_in_threadpool(
            _page,
            request,
            caller,
            place,
            error=_("Something in the form is too long: shorten it and save again."),
            status=422,
        )
    container = container_of(request)

    def save() -> None:
        with transaction(container.sessions) as session:
            playbook_service.put(session, caller.scope, place or None, body, via="web")

    try:
        await run_in_threadpool(save)
    except Forbidden:
        return await run_in_threadpool(
            _page, request, caller, place,
            error=_("Crisis playbooks are written by PR (the spokesperson), admins and owners."), status=403,
        )  # fmt: skip
    except UserError as exc:
        return await run_in_threadpool(
            _page, request, caller, place,
            error=_("The playbook was not saved: %(problem)s", problem=user_message(exc)), status=422,
        )  # fmt: skip
    target = f"{PAGE}?place={place}" if place else PAGE
    return redirect(request, target, _("The crisis playbook is saved."))
