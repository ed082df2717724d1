"""Settings: the departments (queues) with their people, default, assignment and agency; the agencies.

Managers read them; owners and admins create, change and delete departments
(orgs/location_access.department_refusal, decided in the service). A department still used by
people, rules, intents, SLA policies or conversations is not deleted, and the page says which.
An agency's contract is an SLA matter: shown here, changed on the SLA page or in the file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from relaydesk.core.errors import Forbidden, NotFound, UserError
from relaydesk.db import reading, transaction
from relaydesk.orgs.department_schemas import DepartmentIn
from relaydesk.orgs.department_service import department_service
from relaydesk.web.errors import not_found
from relaydesk.web.i18n import _, ngettext
from relaydesk.web.rendering import redirect, render, user_message
from relaydesk.web.session import Caller, container_of, csrf_ok, current_caller, to_login

router = APIRouter(include_in_schema=False)
PAGE = "/settings/departments"
ASSIGNMENTS = ("least_loaded", "round_robin", "manual")
BLANK = {
    "key": "",
    "name": "",
    "assignment": "least_loaded",
    "agency": "",
    "default": False,
    "spokesperson": False,
}


def _url(key: str, action: str = "") -> str:
    return f"{PAGE}/{quote(key, safe='')}" + (f"/{action}" if action else "")


def _forbidden(request: Request, caller: Caller) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {"title": _("Not allowed"), "message": _("Departments are for managers, admins and owners.")},
        caller=caller,
        status_code=403,
    )


def _field(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _assignment_words() -> dict[str, str]:
    return {
        "least_loaded": _("to whoever has the fewest open conversations"),
        "round_robin": _("to each person in turn"),
        "manual": _("by hand: a lead assigns each one"),
    }


def _uses_sentence(uses: dict[str, int]) -> str:
    words: dict[str, Callable[[int], str]] = {
        "people": lambda n: ngettext("%(num)s person", "%(num)s people", n),
        "routing rules": lambda n: ngettext("%(num)s routing rule", "%(num)s routing rules", n),
        "conversations": lambda n: ngettext("%(num)s conversation", "%(num)s conversations", n),
        "intents": lambda n: ngettext("%(num)s intent", "%(num)s intents", n),
        "SLA policies": lambda n: ngettext("%(num)s SLA policy", "%(num)s SLA policies", n),
    }
    return ", ".join(say(int(uses[k])) % {"num": int(uses[k])} for k, say in words.items() if uses.get(k))


def _problem(exc: UserError) -> tuple[str, str]:
    """(the field it belongs beside, the sentence)."""
    where = str(exc.extra.get("field") or "form")
    uses = exc.extra.get("uses")
    if isinstance(uses, dict):
        return "delete", _("It cannot be deleted: %(uses)s still count on it.", uses=_uses_sentence(uses))
    if where == "default" and "default" in str(exc):
        return where, _("One department must be the default: make another one the default instead.")
    if where == "delete":
        return where, _("The default department cannot be deleted: make another one the default first.")
    text = user_message(exc)
    head, _sep, rest = text.partition(": ")
    return where, rest if rest and " " not in head else text


def _listing(
    request: Request,
    caller: Caller,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    with reading(container_of(request).sessions) as session:
        departments = department_service.rows(session, caller.scope)
        agencies = department_service.agencies(session, caller.scope)
    errors = errors or {}
    return render(
        request,
        "settings_departments.html",
        {
            "departments": departments,
            "agencies": agencies,
            "may_change": department_service.may(caller.scope, change=True),
            "values": values or BLANK,
            "errors": errors,
            "assignments": ASSIGNMENTS,
            "assignment_words": _assignment_words(),
            "url": _url,
        },
        caller=caller,
        status_code=status,
        flash={"message": " ".join(errors.values()), "kind": "error"} if errors else None,
    )


def _one(
    request: Request,
    caller: Caller,
    key: str,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    with reading(container_of(request).sessions) as session:
        try:
            department = department_service.get(session, caller.scope, key)
            uses = department_service.uses(session, caller.scope, key)
        except NotFound:
            return not_found(request, caller, _("There is no department with that key."))
        agencies = department_service.agencies(session, caller.scope)
    errors = errors or {}
    shown = values or {
        "key": department.key,
        "name": department.name,
        "assignment": department.assignment,
        "agency": department.agency or "",
        "default": department.is_default,
        "spokesperson": department.spokesperson,
    }
    return render(
        request,
        "settings_department.html",
        {
            "d": department,
            "uses": uses,
            "uses_sentence": _uses_sentence(uses),
            "agencies": agencies,
            "may_change": department_service.may(caller.scope, change=True),
            "values": shown,
            "errors": errors,
            "assignments": ASSIGNMENTS,
            "assignment_words": _assignment_words(),
            "url": _url,
        },
        caller=caller,
        status_code=status,
        flash={"message": " ".join(errors.values()), "kind": "error"} if errors else None,
    )


@router.get(PAGE, response_class=HTMLResponse, response_model=None)
def departments_page(request: Request) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    if not department_service.may(caller.scope, change=False):
        return _forbidden(request, caller)
    return _listing(request, caller)


@router.get(PAGE + "/{key}", response_class=HTMLResponse, response_model=None)
def department_page(request: Request, key: str) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    if not department_service.may(caller.scope, change=False):
        return _forbidden(request, caller)
    return _one(request, caller, key)


def _values(answer: FormData, key: str | None = None) -> dict[str, Any]:
    return {
        "key": key if key is not None else _field(answer, "key"),
        "name": _field(answer, "name"),
        "assignment": _field(answer, "assignment") or "least_loaded",
        "agency": _field(answer, "agency"),
        "default": _field(answer, "default") == "1",
        "spokesperson": _field(answer, "spokesperson") == "1",
    }


def _body(values: dict[str, Any]) -> DepartmentIn:
    assignment = values["assignment"] if values["assignment"] in ASSIGNMENTS else "least_loaded"
    return DepartmentIn(
        key=values["key"][:64],
        name=values["name"][:200],
        default=values["default"],
        assignment=assignment,
        agency=values["agency"] or None,
        spokesperson=values["spokesperson"],
    )


async def _posted(request: Request, back: str) -> tuple[Caller | None, FormData | None, Response | None]:
    caller = await run_in_threadpool(current_caller, request)
    if caller is None:
        return None, None, to_login(request, back)
    answer = await request.form()
    if not csrf_ok(request, _field(answer, "csrf")):
        return None, None, redirect(request, back, _("This form expired; please try again."), "error")
    if not department_service.may(caller.scope, change=True):
        return None, None, _forbidden(request, caller)
    return caller, answer, None


@router.post(PAGE, response_model=None)
async def create(request: Request) -> Response:
    caller, answer, stop = await _posted(request, PAGE)
    if stop is not None or caller is None or answer is None:
        return stop or redirect(request, PAGE)
    values = _values(answer)
    container = container_of(request)

    def save() -> None:
        with transaction(container.sessions) as session:
            department_service.create(session, caller.scope, _body(values), via="web")

    try:
        await run_in_threadpool(save)
    except (UserError, ValidationError) as exc:
        where, said = _problem(exc) if isinstance(exc, UserError) else ("form", str(exc))
        errors = {where: said}
        return await run_in_threadpool(
            lambda: _listing(request, caller, values=values, errors=errors, status=422)
        )
    return redirect(request, _url(values["key"]), _("The department %(name)s is added.", name=values["name"]))


@router.post(PAGE + "/{key}", response_model=None)
async def update(request: Request, key: str) -> Response:
    caller, answer, stop = await _posted(request, _url(key))
    if stop is not None or caller is None or answer is None:
        return stop or redirect(request, PAGE)
    values = _values(answer, key)
    container = container_of(request)

    def save() -> None:
        with transaction(container.sessions) as session:
            department_service.update(session, caller.scope, key, _body(values), via="web")

    try:
        await run_in_threadpool(save)
    except NotFound:
        return redirect(request, PAGE, _("There is no department with that key."), "error")
    except Forbidden:
        return _forbidden(request, caller)
    except UserError as exc:
        where, said = _problem(exc)
        return await run_in_threadpool(
            lambda: _one(request, caller, key, values=values, errors={where: said}, status=422)
        )
    return redirect(request, _url(key), _("The department %(name)s is saved.", name=values["name"]))


@router.post(PAGE + "/{key}/delete", response_model=None)
async def delete(request: Request, key: str) -> Response:
    caller, answer, stop = await _posted(request, _url(key))
    if stop is not None or caller is None or answer is None:
        return stop or redirect(request, PAGE)
    container = container_of(request)

    def run() -> None:
        with transaction(container.sessions) as session:
            department_service.delete(session, caller.scope, key, via="web")

    try:
        await run_in_threadpool(run)
    except NotFound:
        return redirect(request, PAGE, _("There is no department with that key."), "error")
    except UserError as exc:
        where, said = _problem(exc)
        return await run_in_threadpool(lambda: _one(request, caller, key, errors={where: said}, status=422))
    return redirect(request, PAGE, _("The department %(key)s is deleted.", key=key))
