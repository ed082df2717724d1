"""Settings: people. The list (search, filters, pages), a person's page and form, the invite.

Owners and admins look after everyone; a manager after the agents and viewers of her departments
and locations; agents and viewers read their own page (orgs/people_access.py decides, in the
service). A mistake comes back next to its field or shift row, with what was typed kept.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from relaydesk.channels.account_endpoints import public_base_url
from relaydesk.core.enums import Role
from relaydesk.core.errors import Forbidden, NotFound, UserError
from relaydesk.db import reading, transaction
from relaydesk.orgs.people_access import INVITE_FIELDS, PersonField
from relaydesk.orgs.people_repository import PeopleQuery
from relaydesk.orgs.people_schemas import InviteOut, PersonIn, PersonOut, PersonPatch
from relaydesk.orgs.people_service import people_service
from relaydesk.orgs.people_values import errors_by_field
from relaydesk.orgs.person_accounts import person_accounts
from relaydesk.web import person_form
from relaydesk.web.errors import not_found
from relaydesk.web.forms import posted
from relaydesk.web.i18n import _
from relaydesk.web.person_form import DAYS, PersonForm
from relaydesk.web.rendering import redirect, render, user_message
from relaydesk.web.session import Caller, container_of, current_caller, to_login

router = APIRouter(include_in_schema=False)
PAGE = "/settings/people"
ROLES = [r.value for r in Role]


def person_url(user_id: int, action: str = "") -> str:
    return f"{PAGE}/{user_id}" + (f"/{action}" if action else "")


def day_names() -> dict[str, str]:
    return {
        "mon": _("Mon"),
        "tue": _("Tue"),
        "wed": _("Wed"),
        "thu": _("Thu"),
        "fri": _("Fri"),
        "sat": _("Sat"),
        "sun": _("Sun"),
    }


def forbidden(request: Request, caller: Caller, why: str | None = None) -> HTMLResponse:
    message = _("You cannot open this person's page: they are outside your part of the organisation.")
    return render(
        request,
        "error.html",
        {"title": _("Not allowed"), "message": why or message},
        caller=caller,
        status_code=403,
    )


def _errors_of(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "person"
        out.setdefault(name, f"{name}: {error['msg']}")
    return out


# -- the list -------------------------------------------------------------------------------------


@router.get(PAGE, response_class=HTMLResponse, response_model=None)
def people_page(
    request: Request, q: str = "", department: str = "", role: str = "", active: str = "yes", page: int = 1
) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    scope = caller.scope
    if not people_service.may_list(scope):
        # Agents and viewers have one person to look after: themselves.
        return redirect(request, person_url(scope.user_id))
    container = container_of(request)
    search = q.strip()[:200]
    page = max(1, min(page, 100_000))
    with reading(container.sessions) as session:
        choices = people_service.choices(session, scope)
        by_key = {key: ident for ident, key, _name in choices.departments}
        query = PeopleQuery(
            search=search,
            department_id=by_key.get(department),
            role=role if role in ROLES else None,
            active={"yes": True, "no": False}.get(active),
        )
        found = people_service.page(session, scope, query, offset=(page - 1) * 50)
    filters = {"q": search, "department": department, "role": role, "active": active}
    pages = max(1, -(-found.total // found.limit))

    def page_url(number: int) -> str:
        return PAGE + "?" + urlencode({**{k: v for k, v in filters.items() if v}, "page": number})

    context = {
        "found": found,
        "filters": filters,
        "departments": choices.departments,
        "roles": ROLES,
        "page_number": page,
        "pages": pages,
        "page_url": page_url,
        "person_url": person_url,
        "may_invite": scope.can_manage,
    }
    return render(request, "settings_people.html", context, caller=caller)


# -- a person's page ------------------------------------------------------------------------------


def person_context(request: Request, caller: Caller, person: PersonOut) -> dict[str, Any]:
    container = container_of(request)
    scope = caller.scope
    with reading(container.sessions) as session:
        choices = people_service.choices(session, scope) if person.editable else None
        tokens = (
            people_service.tokens(session, scope, person.id)
            if people_service.may_see_tokens(scope, person)
            else None
        )
        limits = person_accounts.get(session, scope, person.id)
    return {
        "limits": limits,
        "person": person,
        "choices": choices,
        "tokens": tokens,
        "mine": person.id == scope.user_id,
        "editable": set(person.editable),
        # Deactivating is a button of its own, not a part of the form.
        "form_parts": set(person.editable) - {PersonField.ACTIVE.value},
        "may_switch": PersonField.ACTIVE.value in person.editable,
        "roles": ROLES if scope.role == Role.OWNER else [r for r in ROLES if r != "owner"],
        "team_roles": ["agent", "viewer"],
        "days": DAYS,
        "day_names": day_names(),
        "person_url": person_url,
        "token_days": container.settings.token_days,
    }


def person_response(
    request: Request,
    caller: Caller,
    user_id: int,
    *,
    typed: PersonForm | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
    extra: dict[str, Any] | None = None,
) -> HTMLResponse:
    container = container_of(request)
    with reading(container.sessions) as session:
        try:
            person = people_service.get(session, caller.scope, user_id)
        except NotFound:
            return not_found(request, caller, _("There is no such person in your organisation."))
        except Forbidden:
            return forbidden(request, caller)
    context = person_context(request, caller, person)
    context.update(
        {"form": typed or person_form.from_person(person), "errors": errors or {}, **(extra or {})}
    )
    flash = {"message": message, "kind": "error" if status >= 400 else "ok"} if message else None
    return render(request, "settings_person.html", context, caller=caller, status_code=status, flash=flash)


@router.get(PAGE + "/{user_id:int}", response_class=HTMLResponse, response_model=None)
def person_page(request: Request, user_id: int) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    return person_response(request, caller, user_id)


@router.post(PAGE + "/{user_id:int}", response_model=None)
async def change_person(request: Request, user_id: int) -> Response:
    got = await posted(request, person_url(user_id))
    if not isinstance(got, tuple):
        return got
    caller, answer = got
    typed = person_form.read(answer)
    problems = person_form.row_errors(typed)
    values = person_form.values(typed)
    if values.get("max_concurrent", 0) is None:
        problems["max_concurrent"] = _("Capacity: a whole number of conversations, 0 to 1000.")
    if not problems:
        try:
            patch = PersonPatch(**values)
        except ValidationError as exc:
            problems = _errors_of(exc)
    if problems:
        return await run_in_threadpool(
            person_response, request, caller, user_id, typed=typed, errors=problems,
            message=_("Nothing was saved: see the problems below."), status=422,
        )  # fmt: skip
    container = container_of(request)

    def save() -> PersonOut:
        with transaction(container.sessions) as session:
            return people_service.update(session, caller.scope, user_id, patch, via="web")

    try:
        saved = await run_in_threadpool(save)
    except NotFound:
        return redirect(request, PAGE, _("There is no such person in your organisation."), "error")
    except Forbidden as exc:
        return await run_in_threadpool(
            person_response, request, caller, user_id, typed=typed,
            message=_("Not allowed: %(why)s", why=str(exc)), status=403,
        )  # fmt: skip
    except UserError as exc:
        return await run_in_threadpool(
            person_response, request, caller, user_id, typed=typed, errors=errors_by_field(exc.extra),
            message=_("Nothing was saved: %(problem)s", problem=user_message(exc)), status=exc.status_code,
        )  # fmt: skip
    return redirect(request, person_url(user_id), _("%(name)s is saved.", name=saved.name))


# -- inviting -------------------------------------------------------------------------------------


def invite_response(
    request: Request,
    caller: Caller,
    typed: PersonForm,
    *,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    with reading(container_of(request).sessions) as session:
        choices = people_service.choices(session, caller.scope)
    manager = caller.scope.role == Role.MANAGER
    context = {
        "form": typed,
        "errors": errors or {},
        "choices": choices,
        "roles": ["agent", "viewer"]
        if manager
        else [r for r in ROLES if r != "owner" or caller.scope.role == Role.OWNER],
        "manager": manager,
        "days": DAYS,
        "day_names": day_names(),
        "editable": {f.value for f in INVITE_FIELDS | ({PersonField.AGENCY} if not manager else set())}
        - {PersonField.ACTIVE.value},
    }
    flash = {"message": message, "kind": "error"} if message else None
    return render(
        request, "settings_person_new.html", context, caller=caller, status_code=status, flash=flash
    )


@router.get(PAGE + "/new", response_class=HTMLResponse, response_model=None)
def new_person(request: Request) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    if not caller.scope.can_manage:
        return forbidden(request, caller, _("Owners, admins and managers invite people."))
    return invite_response(request, caller, PersonForm(timezone=""))


@router.post(PAGE, response_model=None)
async def invite(request: Request) -> Response:
    got = await posted(request, PAGE + "/new")
    if not isinstance(got, tuple):
        return got
    caller, answer = got
    if not caller.scope.can_manage:
        return forbidden(request, caller, _("Owners, admins and managers invite people."))
    typed = person_form.read(answer)
    problems = person_form.row_errors(typed)
    values = {k: v for k, v in person_form.values(typed).items() if v not in ("", None)}
    if typed.max_concurrent and person_form.capacity(typed) is None:
        problems["max_concurrent"] = _("Capacity: a whole number of conversations, 0 to 1000.")
    body: PersonIn | None = None
    if not problems:
        try:
            body = PersonIn(**values)
        except ValidationError as exc:
            problems = _errors_of(exc)
    if problems or body is None:
        return await run_in_threadpool(
            invite_response, request, caller, typed, errors=problems,
            message=_("Nothing was saved: see the problems below."), status=422,
        )  # fmt: skip
    container = container_of(request)
    valid_body = body

    def save() -> InviteOut:
        with transaction(container.sessions) as session:
            return people_service.invite(session, caller.scope, valid_body, via="web")

    try:
        done = await run_in_threadpool(save)
    except Forbidden as exc:
        return await run_in_threadpool(
            invite_response,
            request,
            caller,
            typed,
            message=_("Not allowed: %(why)s", why=str(exc)),
            status=403,
        )
    except UserError as exc:
        return await run_in_threadpool(
            invite_response, request, caller, typed, errors=errors_by_field(exc.extra),
            message=_("Nothing was saved: %(problem)s", problem=user_message(exc)), status=exc.status_code,
        )  # fmt: skip
    return await run_in_threadpool(welcome_link_page, request, caller, done, True)


def welcome_link_page(request: Request, caller: Caller, done: InviteOut, invited: bool) -> HTMLResponse:
    """The link, shown this once: it is stored only as a hash (not a redirect, which would lose it)."""
    link = public_base_url(container_of(request), request) + done.welcome_path
    context = {"done": done, "link": link, "invited": invited, "person_url": person_url}
    return render(
        request, "settings_person_invited.html", context, caller=caller, status_code=201 if invited else 200
    )
