"""Settings: the routing rules, edited in a form, tried on a sample message before and after.

Owners and admins change every rule and the order; a manager the rules that send work to her own
departments (routing/rule_access.py decides, in the service). Everyone who may see the page may try
a message: the dry run stores nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from relaydesk.core.enums import PRIORITY_ORDER, Network, Sentiment, Stage
from relaydesk.core.errors import Forbidden, NotFound, UserError
from relaydesk.db import reading, transaction
from relaydesk.routing.rule_service import rule_service
from relaydesk.routing.rules.vocabulary import URGENCY_ORDER
from relaydesk.routing.schemas import DryRunIn, RuleIn
from relaydesk.web.errors import not_found
from relaydesk.web.forms import posted
from relaydesk.web.i18n import _
from relaydesk.web.labels import label
from relaydesk.web.rendering import redirect, render, user_message
from relaydesk.web.rule_form import SIGNAL_CONDITIONS, RuleForm, from_answer, to_form
from relaydesk.web.session import Caller, container_of, csrf_ok, current_caller, to_login

router = APIRouter(include_in_schema=False)
PAGE = "/settings/rules"
LANGUAGES = ("en", "fa", "ar", "he", "th")
APPROVER_ROLES = ("manager", "admin", "owner")


def _rule_url(name: str, action: str = "") -> str:
    return f"{PAGE}/{quote(name, safe='')}" + (f"/{action}" if action else "")


def _may_see(caller: Caller) -> bool:
    return caller.scope.can_manage


def _forbidden(request: Request, caller: Caller) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {"title": _("Not allowed"), "message": _("Routing rules are for managers, admins and owners.")},
        caller=caller,
        status_code=403,
    )


def _list_context(request: Request, caller: Caller) -> dict[str, Any]:
    container = container_of(request)
    with reading(container.sessions) as session:
        rules = rule_service.list(session, caller.scope)
        choices = rule_service.choices(session, caller.scope)
        editor = rule_service.editor(session, caller.scope)
    return {
        "rules": rules,
        "choices": choices,
        "may_reorder": editor.may_reorder,
        "may_create": editor.everything or bool(editor.departments),
        "regional": editor.locations is not None and not editor.everything,
        "rule_url": _rule_url,
        "signals": SIGNAL_CONDITIONS,
    }


@router.get(PAGE, response_class=HTMLResponse, response_model=None)
def rules_page(request: Request) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    if not _may_see(caller):
        return _forbidden(request, caller)
    context = _list_context(request, caller)
    context.update({"tried": None, "try_text": "", "try_account": "", "try_lang": ""})
    return render(request, "settings_rules.html", context, caller=caller)


@router.post(f"{PAGE}/try", response_model=None)
async def try_message(request: Request) -> Response:
    """The dry run: what a message would do with today's rules, and why (nothing is stored)."""
    got = await posted(request, PAGE)
    if not isinstance(got, tuple):
        return got
    caller, form = got
    if not _may_see(caller):
        return _forbidden(request, caller)
    text = str(form.get("text", "")).strip()[:5000]
    account = str(form.get("account", ""))
    lang = str(form.get("lang", "")) if form.get("lang") in LANGUAGES else None
    context = await run_in_threadpool(_list_context, request, caller)
    context.update({"try_text": text, "try_account": account, "try_lang": lang or "", "tried": None})
    if not text:
        return render(
            request, "settings_rules.html", context, caller=caller, status_code=422,
            flash={"message": _("Write a message to try."), "kind": "error"},
        )  # fmt: skip
    container = container_of(request)

    def run() -> dict[str, Any]:
        with reading(container.sessions) as session:
            return rule_service.dry_run(
                session, container, caller.scope.org_id, DryRunIn(text=text, account=account, lang=lang)
            )

    try:
        context["tried"] = await run_in_threadpool(run)
    except NotFound:
        return render(
            request, "settings_rules.html", context, caller=caller, status_code=422,
            flash={"message": _("Choose the account the message would arrive on."), "kind": "error"},
        )  # fmt: skip
    return render(request, "settings_rules.html", context, caller=caller)


def _form_page(
    request: Request,
    caller: Caller,
    form: RuleForm,
    *,
    new: bool,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    container = container_of(request)
    with reading(container.sessions) as session:
        choices = rule_service.choices(session, caller.scope)
        editor = rule_service.editor(session, caller.scope)
    departments = [
        (key, name) for key, name in choices["departments"] if editor.everything or key in editor.departments
    ]
    return render(
        request,
        "settings_rule.html",
        {
            "form": form,
            "new": new,
            "choices": choices,
            "departments": departments,
            "intent_options": [(key, label(key)) for key, _name in choices["intents"]],
            "networks": [n.value for n in Network],
            "languages": LANGUAGES,
            "sentiments": [s.value for s in Sentiment],
            "stages": [s.value for s in Stage],
            "urgencies": URGENCY_ORDER,
            "priorities": [p.value for p in PRIORITY_ORDER],
            "approver_roles": APPROVER_ROLES,
            "signals": SIGNAL_CONDITIONS,
            "rule_url": _rule_url,
            "regional": editor.locations is not None and not editor.everything,
        },
        caller=caller,
        status_code=status,
        flash={"message": error, "kind": "error"} if error else None,
    )


@router.get(f"{PAGE}/new", response_class=HTMLResponse, response_model=None)
def new_rule(request: Request) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    if not _may_see(caller):
        return _forbidden(request, caller)
    return _form_page(request, caller, to_form("", {}, {}, stop=False, enabled=True), new=True)


@router.get(PAGE + "/{name}/edit", response_class=HTMLResponse, response_model=None)
def edit_rule(request: Request, name: str) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    if not _may_see(caller):
        return _forbidden(request, caller)
    with reading(container_of(request).sessions) as session:
        try:
            rule = rule_service.get(session, caller.scope, name)
        except NotFound:
            return not_found(request, caller, _("There is no rule with that name any more."))
    if not rule.editable:
        return redirect(
            request,
            PAGE,
            _("You may change only the rules that send conversations to your own departments."),
            "error",
        )
    form = to_form(rule.name, rule.when, rule.then, stop=rule.stop, enabled=rule.enabled)
    return _form_page(request, caller, form, new=False)


def _field(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


@router.post(PAGE, response_model=None)
async def save_rule(request: Request) -> Response:
    caller = await run_in_threadpool(current_caller, request)
    if caller is None:
        return to_login(request, PAGE)
    answer = await request.form()
    if not csrf_ok(request, _field(answer, "csrf")):
        return redirect(request, PAGE, _("This form expired; please try again."), "error")
    if not _may_see(caller):
        return _forbidden(request, caller)
    new = _field(answer, "new") == "1"
    form, when, then, problems = from_answer(
        lambda n: _field(answer, n), lambda n: [v for v in answer.getlist(n) if isinstance(v, str)]
    )
    if not form.name:
        problems.insert(0, _("Give the rule a name."))
    if problems:
        return await run_in_threadpool(
            _form_page, request, caller, form, new=new, error=" ".join(problems), status=422
        )
    body = RuleIn(when=when, then=then, stop=form.stop, enabled=form.enabled)
    container = container_of(request)

    def save() -> None:
        with transaction(container.sessions) as session:
            if new and rule_service.exists(session, caller.scope, form.name):
                raise _Taken
            rule_service.put(session, caller.scope, form.name, body, via="web")

    try:
        await run_in_threadpool(save)
    except _Taken:
        message = _("A rule with that name exists already: choose another name.")
        return await run_in_threadpool(_form_page, request, caller, form, new=new, error=message, status=422)
    except Forbidden:
        with reading(container.sessions) as session:
            editor = rule_service.editor(session, caller.scope)
        if editor.locations is not None and form.department in editor.departments:
            message = _("Limit the rule to locations inside your part of the organisation.")
        else:
            message = _("You may change only the rules that send conversations to your own departments.")
        return await run_in_threadpool(_form_page, request, caller, form, new=new, error=message, status=403)
    except UserError as exc:
        message = _("The rule was not saved: %(problem)s", problem=user_message(exc))
        return await run_in_threadpool(_form_page, request, caller, form, new=new, error=message, status=422)
    return redirect(request, PAGE, _("The rule %(name)s is saved.", name=form.name))


class _Taken(Exception):
    pass


async def _change(request: Request, name: str, what: str) -> Response:
    caller = await run_in_threadpool(current_caller, request)
    if caller is None:
        return to_login(request, PAGE)
    answer = await request.form()
    if not csrf_ok(request, _field(answer, "csrf")):
        return redirect(request, PAGE, _("This form expired; please try again."), "error")
    container = container_of(request)

    def change() -> str:
        with transaction(container.sessions) as session:
            if what == "enable":
                rule_service.set_enabled(session, caller.scope, name, True, via="web")
                return _("The rule %(name)s is on.", name=name)
            if what == "disable":
                rule_service.set_enabled(session, caller.scope, name, False, via="web")
                return _("The rule %(name)s is off: it routes nothing until it is switched on.", name=name)
            if what in ("up", "down"):
                rule_service.move(session, caller.scope, name, -1 if what == "up" else 1, via="web")
                return _("The rule %(name)s moved.", name=name)
            rule_service.delete(session, caller.scope, name, via="web")
            return _("The rule %(name)s is deleted.", name=name)

    try:
        said = await run_in_threadpool(change)
    except NotFound:
        return redirect(request, PAGE, _("There is no rule with that name any more."), "error")
    except Forbidden:
        return redirect(request, PAGE, _("You may not change that rule."), "error")
    return redirect(request, PAGE + f"#rule-{quote(name, safe='')}", said)


@router.post(PAGE + "/{name}/{what}", response_model=None)
async def change_rule(request: Request, name: str, what: str) -> Response:
    if what not in ("enable", "disable", "up", "down", "delete"):
        return redirect(request, PAGE, _("That did not work."), "error")
    return await _change(request, name, what)
