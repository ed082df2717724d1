"""Settings: SLA policies (which conversations each covers, its targets, its hours) and each
agency's contract.

Owners and admins change them; managers read them (the clocks their people work against); agents
and viewers do not see the page (sla/policy_access.py decides, in the service). A policy and a
contract are checked with the same models as relaydesk.yaml, so what is saved here exports back.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from relaydesk.core.enums import PRIORITY_ORDER, Network
from relaydesk.core.errors import Forbidden, NotFound, UserError
from relaydesk.db import reading, transaction
from relaydesk.models import SlaPolicy
from relaydesk.sla.policy_service import PAGE_SIZE, policy_service
from relaydesk.web.errors import not_found
from relaydesk.web.forms import posted, removed
from relaydesk.web.i18n import _
from relaydesk.web.rendering import redirect, render, user_message
from relaydesk.web.session import Caller, container_of, current_caller, to_login
from relaydesk.web.settings_common import LANGUAGES, forbidden, form_field, form_list, offset_of

router = APIRouter(include_in_schema=False)
PAGE = "/settings/sla"
_MINUTES = ("first_response_minutes", "next_response_minutes", "resolution_minutes")


def _policy_url(name: str, action: str = "") -> str:
    return f"{PAGE}/{quote(name, safe='')}" + (f"/{action}" if action else "")


def _agency_url(key: str) -> str:
    return f"{PAGE}/agencies/{quote(key, safe='')}"


def _forbidden(request: Request, caller: Caller) -> HTMLResponse:
    return forbidden(request, caller, _("SLA policies are for managers, admins and owners."))


@router.get(PAGE, response_class=HTMLResponse, response_model=None)
def sla_page(request: Request, offset: str = "0") -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    with reading(container_of(request).sessions) as session:
        try:
            page = policy_service.page(session, caller.scope, offset=offset_of(offset))
        except Forbidden:
            return _forbidden(request, caller)

    def pager_url(at: int) -> str:
        return f"{PAGE}?" + urlencode({"offset": at})

    context = {
        "page": page,
        "page_size": PAGE_SIZE,
        "pager_url": pager_url,
        "policy_url": _policy_url,
        "agency_url": _agency_url,
    }
    return render(request, "settings_sla.html", context, caller=caller)


def _form_of(row: SlaPolicy) -> dict[str, Any]:
    return {
        "name": row.name,
        "department": row.department_key or "",
        "priority": row.priority or "",
        "channel": row.channel or "",
        "first_response_minutes": str(row.first_response_minutes),
        "next_response_minutes": str(row.next_response_minutes or ""),
        "resolution_minutes": str(row.resolution_minutes or ""),
        "business_hours": row.business_hours_key or "",
        "around_the_clock": row.around_the_clock,
        "warn_before_minutes": str(row.warn_before_minutes),
    }


def _read_form(answer: FormData) -> dict[str, Any]:
    form: dict[str, Any] = {
        name: form_field(answer, name).strip()
        for name in (
            "name",
            "department",
            "priority",
            "channel",
            "business_hours",
            "warn_before_minutes",
            *_MINUTES,
        )
    }
    form["around_the_clock"] = form_field(answer, "around_the_clock") == "1"
    return form


def _fields(form: dict[str, Any]) -> dict[str, Any]:
    """The policy as relaydesk.yaml writes it: empty choices left out, numbers as typed."""
    fields: dict[str, Any] = {"name": form["name"], "around_the_clock": form["around_the_clock"]}
    for name in ("department", "priority", "channel", "business_hours", "warn_before_minutes", *_MINUTES):
        if form[name]:
            fields[name] = form[name]
    return fields


def _policy_page(
    request: Request,
    caller: Caller,
    form: dict[str, Any],
    *,
    new: bool,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    with reading(container_of(request).sessions) as session:
        choices = policy_service.choices(session, caller.scope)
    return render(
        request,
        "settings_sla_policy.html",
        {
            "form": form,
            "new": new,
            "editable": policy_service.may_edit(caller.scope),
            "choices": choices,
            "priorities": [p.value for p in PRIORITY_ORDER],
            "networks": [n.value for n in Network],
            "policy_url": _policy_url,
        },
        caller=caller,
        status_code=status,
        flash={"message": error, "kind": "error"} if error else None,
    )


_EMPTY = {
    "name": "",
    "department": "",
    "priority": "",
    "channel": "",
    "first_response_minutes": "60",
    "next_response_minutes": "",
    "resolution_minutes": "",
    "business_hours": "",
    "around_the_clock": False,
    "warn_before_minutes": "15",
}


@router.get(f"{PAGE}/new", response_class=HTMLResponse, response_model=None)
def new_policy(request: Request) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    if not policy_service.may_edit(caller.scope):
        return forbidden(request, caller, _("Owners and admins change SLA policies."))
    return _policy_page(request, caller, dict(_EMPTY), new=True)


@router.get(PAGE + "/{name}", response_class=HTMLResponse, response_model=None)
def show_policy(request: Request, name: str) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    with reading(container_of(request).sessions) as session:
        try:
            form = _form_of(policy_service.get(session, caller.scope, name))
        except Forbidden:
            return _forbidden(request, caller)
        except NotFound:
            return not_found(request, caller, _("There is no SLA policy with that name any more."))
    return _policy_page(request, caller, form, new=False)


class _Taken(Exception):
    pass


@router.post(PAGE, response_model=None)
async def save_policy(request: Request) -> Response:
    got = await posted(request, PAGE)
    if not isinstance(got, tuple):
        return got
    caller, answer = got
    new = form_field(answer, "new") == "1"
    form = _read_form(answer)
    container = container_of(request)

    async def again(message: str, status: int) -> HTMLResponse:
        return await run_in_threadpool(
            lambda: _policy_page(request, caller, form, new=new, error=message, status=status)
        )

    if not form["name"]:
        return await again(_("Give the policy a name."), 422)
    if form["name"] in ("new", "agencies"):
        return await again(_("Choose another name: that one is taken by the page itself."), 422)

    def save() -> None:
        with transaction(container.sessions) as session:
            if new and policy_service.exists(session, caller.scope, form["name"]):
                raise _Taken
            policy_service.put(session, caller.scope, _fields(form), via="web")

    try:
        await run_in_threadpool(save)
    except _Taken:
        return await again(_("A policy with that name exists already: choose another name."), 422)
    except Forbidden:
        return await again(_("Owners and admins change SLA policies."), 403)
    except UserError as exc:
        return await again(_("The policy was not saved: %(problem)s", problem=user_message(exc)), 422)
    return redirect(request, PAGE, _("The SLA policy %(name)s is saved.", name=form["name"]))


@router.post(PAGE + "/{name}/delete", response_model=None)
async def delete_policy(request: Request, name: str) -> Response:
    got = await posted(request, PAGE)
    if not isinstance(got, tuple):
        return got
    caller, _answer = got
    container = container_of(request)

    def delete() -> None:
        with transaction(container.sessions) as session:
            policy_service.delete(session, caller.scope, name, via="web")

    return await removed(
        request,
        PAGE,
        delete,
        gone=_("There is no SLA policy with that name any more."),
        refused=_("Owners and admins change SLA policies."),
        done=_("The SLA policy %(name)s is deleted.", name=name),
    )


def _agency_page(
    request: Request,
    caller: Caller,
    key: str,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    with reading(container_of(request).sessions) as session:
        agency = policy_service.agency(session, caller.scope, key)
        choices = policy_service.choices(session, caller.scope)
        name = agency.name
        contract = dict(agency.contract or {})
    shown = form or {
        "first_response_minutes": str(contract.get("first_response_minutes") or ""),
        "resolution_minutes": str(contract.get("resolution_minutes") or ""),
        "around_the_clock": bool(contract.get("around_the_clock")),
        "intents": [str(i) for i in contract.get("intents", [])],
        "languages": [str(c) for c in contract.get("languages", [])],
        "replies_need_approval": bool(contract.get("replies_need_approval")),
    }
    return render(
        request,
        "settings_sla_agency.html",
        {
            "key": key,
            "name": name,
            "form": shown,
            "editable": policy_service.may_edit(caller.scope),
            "intents": choices.intents,
            "languages": sorted(set(LANGUAGES) | set(shown["languages"])),
            "agency_url": _agency_url,
        },
        caller=caller,
        status_code=status,
        flash={"message": error, "kind": "error"} if error else None,
    )


@router.get(PAGE + "/agencies/{key}", response_class=HTMLResponse, response_model=None)
def show_agency(request: Request, key: str) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    try:
        return _agency_page(request, caller, key)
    except Forbidden:
        return _forbidden(request, caller)
    except NotFound:
        return not_found(request, caller, _("There is no agency with that key."))


@router.post(PAGE + "/agencies/{key}", response_model=None)
async def save_contract(request: Request, key: str) -> Response:
    got = await posted(request, PAGE)
    if not isinstance(got, tuple):
        return got
    caller, answer = got
    form: dict[str, Any] = {
        "first_response_minutes": form_field(answer, "first_response_minutes").strip(),
        "resolution_minutes": form_field(answer, "resolution_minutes").strip(),
        "around_the_clock": form_field(answer, "around_the_clock") == "1",
        "intents": form_list(answer, "intents"),
        "languages": form_list(answer, "languages"),
        "replies_need_approval": form_field(answer, "replies_need_approval") == "1",
    }
    fields = {name: value for name, value in form.items() if value not in ("", None)}
    container = container_of(request)

    def save() -> None:
        with transaction(container.sessions) as session:
            policy_service.put_contract(session, caller.scope, key, fields, via="web")

    async def again(message: str, status: int) -> Response:
        try:
            return await run_in_threadpool(_agency_page, request, caller, key, form, message, status)
        except (NotFound, Forbidden):
            return redirect(request, PAGE, message, "error")

    try:
        await run_in_threadpool(save)
    except NotFound:
        return redirect(request, PAGE, _("There is no agency with that key."), "error")
    except Forbidden:
        return await again(_("Owners and admins change agency contracts."), 403)
    except UserError as exc:
        return await again(_("The contract was not saved: %(problem)s", problem=user_message(exc)), 422)
    return redirect(request, PAGE + "#agencies", _("The contract of %(agency)s is saved.", agency=key))
