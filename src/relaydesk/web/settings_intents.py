"""Settings: the organisation's intents, taught by example, with the few-shot check of each example.

Owners and admins change every intent; a manager of the whole organisation those that send
conversations to her departments; a regional manager reads them (orgs/intent_access.py decides, in
the service). Agents and viewers do not see the page. The check and the "try a message" box ask the
triage the pipeline uses, with the intents as stored now; nothing they do is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from relaydesk.core.errors import Forbidden, NotFound, UserError
from relaydesk.db import reading, transaction
from relaydesk.orgs.intent_service import PAGE_SIZE, IntentRow, intent_service
from relaydesk.orgs.schemas import IntentIn
from relaydesk.orgs.service import org_service
from relaydesk.web.errors import not_found
from relaydesk.web.forms import posted, removed
from relaydesk.web.i18n import _
from relaydesk.web.rendering import redirect, render, user_message
from relaydesk.web.session import Caller, container_of, current_caller, to_login
from relaydesk.web.settings_common import LANGUAGES, forbidden, form_field, lines, offset_of

router = APIRouter(include_in_schema=False)
PAGE = "/settings/intents"


def _intent_url(name: str, action: str = "") -> str:
    return f"{PAGE}/{quote(name, safe='')}" + (f"/{action}" if action else "")


def _forbidden(request: Request, caller: Caller) -> HTMLResponse:
    return forbidden(request, caller, _("Intents are for managers, admins and owners."))


def _list_context(request: Request, caller: Caller, search: str, offset: int) -> dict[str, Any]:
    with reading(container_of(request).sessions) as session:
        page = intent_service.page(session, caller.scope, search=search, offset=offset)
        editor = intent_service.editor(session, caller.scope)
        # Shown by name in the reader's list, the key beside it.
        department_names = {d.key: d.name for d in org_service.departments(session, caller.scope.org_id)}

    def pager_url(at: int) -> str:
        return f"{PAGE}?" + urlencode({"q": search, "offset": at})

    return {
        "page": page,
        "page_size": PAGE_SIZE,
        "pager_url": pager_url,
        "search": search,
        "may_create": editor.may_create,
        "everything": editor.everything,
        "regional": editor.regional and not editor.everything,
        "intent_url": _intent_url,
        "department_names": department_names,
        "languages": LANGUAGES,
        "tried": None,
        "try_text": "",
        "try_lang": "",
        "learning": _learning(request) if editor.everything else None,
    }


def _learning(request: Request) -> dict[str, Any]:
    """The schedule and the last runs of learning sentiment from the team's corrections."""
    from relaydesk.triage.learning_service import history, models_dir

    settings = container_of(request).settings
    runs = []
    for run in history(models_dir(settings.data_dir), 5):
        try:
            at = datetime.fromisoformat(str(run["at"]))
        except (KeyError, ValueError):
            continue
        runs.append({**run, "at": at})
    return {
        "every_hours": f"{settings.learn_every_hours:g}" if settings.learn_every_hours else "",
        "runs": runs,
    }


@router.get(PAGE, response_class=HTMLResponse, response_model=None)
def intents_page(request: Request, q: str = "", offset: str = "0") -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    try:
        context = _list_context(request, caller, q.strip()[:64], offset_of(offset))
    except Forbidden:
        return _forbidden(request, caller)
    return render(request, "settings_intents.html", context, caller=caller)


@router.post(f"{PAGE}/try", response_model=None)
async def try_message(request: Request) -> Response:
    """The intent triage gives a message today, and the closest others; nothing is stored."""
    got = await posted(request, PAGE)
    if not isinstance(got, tuple):
        return got
    caller, form = got
    text = form_field(form, "text").strip()[:5000]
    lang = form_field(form, "lang") if form_field(form, "lang") in LANGUAGES else None
    try:
        context = await run_in_threadpool(_list_context, request, caller, "", 0)
    except Forbidden:
        return _forbidden(request, caller)
    context.update({"try_text": text, "try_lang": lang or ""})
    if not text:
        return render(
            request, "settings_intents.html", context, caller=caller, status_code=422,
            flash={"message": _("Write a message to try."), "kind": "error"},
        )  # fmt: skip
    container = container_of(request)

    def run() -> Any:
        with reading(container.sessions) as session:
            return intent_service.try_message(session, caller.scope, container.triage, text, lang)

    context["tried"] = await run_in_threadpool(run)
    return render(request, "settings_intents.html", context, caller=caller)


def _departments(request: Request, caller: Caller) -> list[tuple[str, str]]:
    """The departments this person may send an intent to, as (key, name)."""
    with reading(container_of(request).sessions) as session:
        editor = intent_service.editor(session, caller.scope)
        rows = org_service.departments(session, caller.scope.org_id)
    return [(d.key, d.name) for d in rows if editor.everything or d.key in editor.departments]


def _intent_page(
    request: Request,
    caller: Caller,
    *,
    name: str,
    department: str,
    examples: str,
    intent: IntentRow | None,
    new: bool,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    container = container_of(request)
    checks: list[Any] = []
    if intent is not None:
        with reading(container.sessions) as session:
            checks = intent_service.few_shot_check(session, caller.scope, container.triage, intent.name)
    with reading(container.sessions) as session:
        everything = intent_service.editor(session, caller.scope).everything
    return render(
        request,
        "settings_intent.html",
        {
            "form": {"name": name, "department": department, "examples": examples},
            "intent": intent,
            "new": new,
            "editable": new or (intent is not None and intent.editable),
            "departments": _departments(request, caller),
            "may_leave_department": everything,
            "checks": checks,
            "flagged": sum(1 for c in checks if c.flagged),
            # the customer languages the intent has too few native examples in
            "thin": intent_service.thin_languages(checks, LANGUAGES)
            if intent is not None and intent.editable
            else [],
            "intent_url": _intent_url,
        },
        caller=caller,
        status_code=status,
        flash={"message": error, "kind": "error"} if error else None,
    )


@router.get(f"{PAGE}/new", response_class=HTMLResponse, response_model=None)
def new_intent(request: Request) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    with reading(container_of(request).sessions) as session:
        editor = intent_service.editor(session, caller.scope)
    if not editor.may_see:
        return _forbidden(request, caller)
    if not editor.may_create:
        return redirect(request, PAGE, _("You may not add intents: ask an admin."), "error")
    return _intent_page(request, caller, name="", department="", examples="", intent=None, new=True)


@router.get(PAGE + "/{name}", response_class=HTMLResponse, response_model=None)
def show_intent(request: Request, name: str) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    with reading(container_of(request).sessions) as session:
        try:
            intent = intent_service.get(session, caller.scope, name)
        except Forbidden:
            return _forbidden(request, caller)
        except NotFound:
            return not_found(request, caller, _("There is no intent with that name any more."))
    return _intent_page(
        request,
        caller,
        name=intent.name,
        department=intent.department or "",
        examples="\n".join(intent.examples),
        intent=intent,
        new=False,
    )


class _Taken(Exception):
    pass


@router.post(PAGE, response_model=None)
async def save_intent(request: Request) -> Response:
    got = await posted(request, PAGE)
    if not isinstance(got, tuple):
        return got
    caller, answer = got
    new = form_field(answer, "new") == "1"
    name = form_field(answer, "name").strip()
    department = form_field(answer, "department").strip()
    examples = form_field(answer, "examples")
    container = container_of(request)

    def stored() -> IntentRow | None:
        with reading(container.sessions) as session:
            try:
                return None if new else intent_service.get(session, caller.scope, name)
            except (NotFound, Forbidden):
                return None

    async def again(message: str, status: int) -> HTMLResponse:
        intent = await run_in_threadpool(stored)
        return await run_in_threadpool(
            lambda: _intent_page(
                request, caller, name=name, department=department, examples=examples,
                intent=intent, new=new, error=message, status=status,
            )
        )  # fmt: skip

    if not name:
        return await again(_("Give the intent a name."), 422)
    if name == "new":
        return await again(_("Choose another name: “new” is taken by the page for a new intent."), 422)
    body = IntentIn.model_construct(examples=lines(examples), department=department or None)

    def save() -> None:
        with transaction(container.sessions) as session:
            if new and intent_service.exists(session, caller.scope, name):
                raise _Taken
            intent_service.put(session, caller.scope, name, body, via="web")

    try:
        await run_in_threadpool(save)
    except _Taken:
        return await again(_("An intent with that name exists already: choose another name."), 422)
    except Forbidden:
        return await again(
            _("You may change only the intents that send conversations to your own departments."), 403
        )
    except UserError as exc:
        return await again(_("The intent was not saved: %(problem)s", problem=user_message(exc)), 422)
    container.triage.invalidate(caller.scope.org_id)
    return redirect(
        request,
        _intent_url(name) + "#check",
        _("The intent %(name)s is saved: below, where triage puts each example now.", name=name),
    )


@router.post(PAGE + "/{name}/delete", response_model=None)
async def delete_intent(request: Request, name: str) -> Response:
    got = await posted(request, PAGE)
    if not isinstance(got, tuple):
        return got
    caller, _answer = got
    container = container_of(request)

    def delete() -> None:
        with transaction(container.sessions) as session:
            intent_service.delete(session, caller.scope, name, via="web")
        container.triage.invalidate(caller.scope.org_id)  # once the deletion is committed

    return await removed(
        request,
        PAGE,
        delete,
        gone=_("There is no intent with that name any more."),
        refused=_("You may not delete that intent."),
        done=_("The intent %(name)s is deleted.", name=name),
    )
