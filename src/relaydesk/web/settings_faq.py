"""Settings: FAQ entries, proposed as drafts by anyone who answers customers, approved by PR.

Owners, admins and the members of a spokesperson department approve, retire, put back to draft and
delete; other managers and agents create and edit drafts; viewers do not see the page. The page
shows only the buttons a person may use, and the service refuses the rest anyway
(guidelines/faq_access.py). The "Try a question" box asks the same function the conversation page
does, so what it shows is what an agent would be offered today.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from relaydesk.core.errors import Forbidden, NotFound, UserError
from relaydesk.db import reading, transaction
from relaydesk.guidelines.faq_access import FaqAction
from relaydesk.guidelines.faq_service import faq_service
from relaydesk.guidelines.schemas import FaqIn, FaqOut
from relaydesk.web.errors import not_found
from relaydesk.web.i18n import _
from relaydesk.web.rendering import redirect, render, user_message
from relaydesk.web.session import Caller, container_of, csrf_ok, current_caller, to_login

router = APIRouter(include_in_schema=False)
PAGE = "/settings/faq"
LANGUAGES = ("en", "fa", "ar", "he", "th")
STATUSES = ("draft", "approved", "retired")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")
_ANSWER_FIELD = "answer_"


def _entry_url(key: str, action: str = "") -> str:
    return f"{PAGE}/{quote(key, safe='')}" + (f"/{action}" if action else "")


def may_see(caller: Caller) -> bool:
    return caller.scope.can_write


def forbidden_page(request: Request, caller: Caller) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {"title": _("Not allowed"), "message": _("FAQ entries are for the people who answer customers.")},
        caller=caller,
        status_code=403,
    )


def _field(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


@dataclass
class FaqForm:
    """What the entry form shows and sends back, as typed (re-shown as is when it is refused)."""

    key: str = ""
    question: str = ""
    language: str = "en"
    variants: str = ""
    answers: dict[str, str] = field(default_factory=dict)
    valid_from: str = ""
    valid_until: str = ""
    place: str = ""  # a brand's or region's key; empty: the whole organisation

    @classmethod
    def of(cls, entry: FaqOut) -> FaqForm:
        return cls(
            place=entry.place or "",
            key=entry.key,
            question=entry.question,
            language=entry.language,
            variants="\n".join(entry.variants),
            answers=dict(entry.answers),
            valid_from=entry.valid_from.isoformat() if entry.valid_from else "",
            valid_until=entry.valid_until.isoformat() if entry.valid_until else "",
        )

    @property
    def languages(self) -> list[str]:
        """The form's five languages, then any other the entry already has an answer in."""
        return [*LANGUAGES, *sorted(code for code in self.answers if code not in LANGUAGES)]


def _read_form(answer: FormData) -> FaqForm:
    answers = {}
    for name in answer:
        code = name.removeprefix(_ANSWER_FIELD)
        if name.startswith(_ANSWER_FIELD) and _LANGUAGE.fullmatch(code):
            text = _field(answer, name).strip()
            if text:
                answers[code] = text
    language = _field(answer, "language")
    return FaqForm(
        key=_field(answer, "key").strip(),
        question=_field(answer, "question").strip(),
        language=language if _LANGUAGE.fullmatch(language) else "en",
        variants=_field(answer, "variants"),
        answers=answers,
        valid_from=_field(answer, "valid_from").strip(),
        valid_until=_field(answer, "valid_until").strip(),
        place=_field(answer, "place").strip()[:64],
    )


def _date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _body(form: FaqForm) -> tuple[FaqIn | None, list[str]]:
    """The API body for the form, or what the person has to fix (in her language)."""
    problems = []
    if not form.key:
        problems.append(_("Give the entry a key."))
    elif form.key == "new":
        # /settings/faq/new is the empty form: an entry of that key could not be opened.
        problems.append(_("Choose another key: “new” is taken by the page for a new entry."))
    if not form.question:
        problems.append(_("Write the question."))
    primary = form.answers.get(form.language, "")
    if not primary:
        problems.append(_("Write the answer in the main language."))
    try:
        valid_from, valid_until = _date(form.valid_from), _date(form.valid_until)
    except ValueError:
        problems.append(_("Write the dates as year-month-day."))
        valid_from = valid_until = None
    if valid_from and valid_until and valid_until < valid_from:
        problems.append(_("The entry must be valid from a day before it ends."))
    if problems:
        return None, problems
    variants = [line.strip() for line in form.variants.splitlines() if line.strip()]
    others = {code: text for code, text in form.answers.items() if code != form.language}
    try:
        body = FaqIn(
            question=form.question,
            answer=primary,
            language=form.language,
            variants=variants,
            answers=others,
            valid_from=valid_from,
            valid_until=valid_until,
            place=form.place or None,
        )
    except ValidationError:
        return None, [_("A text is too long, or there are too many phrasings.")]
    return body, []


def _list_context(request: Request, caller: Caller, status: str, search: str) -> dict[str, Any]:
    with reading(container_of(request).sessions) as session:
        entries = faq_service.list(session, caller.scope, status=status or None, search=search or None)
        editor = faq_service.editor(session, caller.scope)
        places = faq_service.places(session, caller.scope)
    return {
        "places": places,
        "try_place": "",
        "entries": entries,
        "status": status,
        "search": search,
        "statuses": STATUSES,
        "approver": editor.approver,
        "entry_url": _entry_url,
        "languages": LANGUAGES,
        "tried": None,
        "try_text": "",
        "try_lang": "",
    }


@router.get(PAGE, response_class=HTMLResponse, response_model=None)
def faq_page(request: Request, status: str = "", q: str = "") -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    if not may_see(caller):
        return forbidden_page(request, caller)
    context = _list_context(request, caller, status if status in STATUSES else "", q.strip()[:200])
    return render(request, "settings_faq.html", context, caller=caller)


@router.post(f"{PAGE}/try", response_model=None)
async def try_question(request: Request) -> Response:
    """What an agent would be offered for this customer message today; nothing is stored."""
    caller = await run_in_threadpool(current_caller, request)
    if caller is None:
        return to_login(request, PAGE)
    answer = await request.form()
    if not csrf_ok(request, _field(answer, "csrf")):
        return redirect(request, PAGE, _("This form expired; please try again."), "error")
    if not may_see(caller):
        return forbidden_page(request, caller)
    text = _field(answer, "text").strip()[:5000]
    lang = _field(answer, "lang") if _field(answer, "lang") in LANGUAGES else None
    place = _field(answer, "place").strip()[:64] or None
    context = await run_in_threadpool(_list_context, request, caller, "", "")
    context.update({"try_text": text, "try_lang": lang or "", "try_place": place or ""})
    if not text:
        return render(
            request, "settings_faq.html", context, caller=caller, status_code=422,
            flash={"message": _("Write a question to try."), "kind": "error"},
        )  # fmt: skip
    container = container_of(request)

    def run() -> list[Any]:
        with reading(container.sessions) as session:
            return faq_service.try_message(session, caller.scope, text, lang, place)

    try:
        context["tried"] = await run_in_threadpool(run)
    except UserError:
        return render(
            request, "settings_faq.html", context, caller=caller, status_code=422,
            flash={"message": _("There is no such brand or region any more: choose another."), "kind": "error"},
        )  # fmt: skip
    return render(request, "settings_faq.html", context, caller=caller)


def _entry_page(
    request: Request,
    caller: Caller,
    form: FaqForm,
    *,
    entry: FaqOut | None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    editable = entry is None or FaqAction.EDIT.value in entry.allowed
    with reading(container_of(request).sessions) as session:
        places = faq_service.places(session, caller.scope)
    if entry is not None and entry.place and entry.place not in {key for key, _name, _kind in places}:
        places.append((entry.place, entry.place_name or entry.place, "location"))  # a location set in YAML
    return render(
        request,
        "settings_faq_entry.html",
        {
            "form": form,
            "entry": entry,
            "new": entry is None,
            "editable": editable,
            "entry_url": _entry_url,
            "back_to_draft": entry is not None and entry.status == "approved",
            "places": places,
        },
        caller=caller,
        status_code=status,
        flash={"message": error, "kind": "error"} if error else None,
    )


@router.get(f"{PAGE}/new", response_class=HTMLResponse, response_model=None)
def new_entry(request: Request) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    if not may_see(caller):
        return forbidden_page(request, caller)
    return _entry_page(request, caller, FaqForm(), entry=None)


@router.get(PAGE + "/{key}", response_class=HTMLResponse, response_model=None)
def show_entry(request: Request, key: str) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    if not may_see(caller):
        return forbidden_page(request, caller)
    with reading(container_of(request).sessions) as session:
        try:
            entry = faq_service.get(session, caller.scope, key)
        except NotFound:
            return not_found(request, caller, _("There is no FAQ entry with that key any more."))
    return _entry_page(request, caller, FaqForm.of(entry), entry=entry)


class _Taken(Exception):
    pass


@router.post(PAGE, response_model=None)
async def save_entry(request: Request) -> Response:
    caller = await run_in_threadpool(current_caller, request)
    if caller is None:
        return to_login(request, PAGE)
    answer = await request.form()
    if not csrf_ok(request, _field(answer, "csrf")):
        return redirect(request, PAGE, _("This form expired; please try again."), "error")
    if not may_see(caller):
        return forbidden_page(request, caller)
    new = _field(answer, "new") == "1"
    form = _read_form(answer)
    container = container_of(request)

    def stored() -> FaqOut | None:
        if new:
            return None
        with reading(container.sessions) as session:
            try:
                return faq_service.get(session, caller.scope, form.key)
            except NotFound:
                return None

    body, problems = _body(form)
    if body is None:
        entry = await run_in_threadpool(stored)
        return await run_in_threadpool(
            _entry_page, request, caller, form, entry=entry, error=" ".join(problems), status=422
        )

    def save() -> FaqOut:
        with transaction(container.sessions) as session:
            if new and faq_service.exists(session, caller.scope, form.key):
                raise _Taken
            return faq_service.put(session, caller.scope, form.key, body, via="web")

    try:
        saved = await run_in_threadpool(save)
    except _Taken:
        message = _("An entry with that key exists already: choose another key.")
        return await run_in_threadpool(
            _entry_page, request, caller, form, entry=None, error=message, status=422
        )
    except Forbidden:
        message = _("Only PR, admins and owners change an approved or retired entry.")
        entry = await run_in_threadpool(stored)
        return await run_in_threadpool(
            _entry_page, request, caller, form, entry=entry, error=message, status=403
        )
    except UserError as exc:
        message = _("The entry was not saved: %(problem)s", problem=user_message(exc))
        entry = await run_in_threadpool(stored)
        return await run_in_threadpool(
            _entry_page, request, caller, form, entry=entry, error=message, status=422
        )
    if saved.status == "draft":
        said = _(
            "The entry %(key)s is saved as a draft: PR approves it before agents are offered it.",
            key=saved.key,
        )
    else:
        said = _("The entry %(key)s is saved.", key=saved.key)
    return redirect(request, _entry_url(saved.key), said)


def _said(what: str, key: str) -> str:
    if what == "approve":
        return _("The entry %(key)s is approved: agents are offered it.", key=key)
    if what == "draft":
        return _("The entry %(key)s is a draft again: agents are not offered it.", key=key)
    if what == "retire":
        return _("The entry %(key)s is retired: agents are not offered it.", key=key)
    return _("The entry %(key)s is deleted.", key=key)


@router.post(PAGE + "/{key}/{what}", response_model=None)
async def change_entry(request: Request, key: str, what: str) -> Response:
    if what not in ("approve", "draft", "retire", "delete"):
        return redirect(request, PAGE, _("That did not work."), "error")
    caller = await run_in_threadpool(current_caller, request)
    if caller is None:
        return to_login(request, PAGE)
    answer = await request.form()
    back = _field(answer, "back")
    # Only back to this page or to the entry: never a place the form names freely.
    target = _entry_url(key) if back == "entry" and what != "delete" else PAGE + f"#faq-{quote(key, safe='')}"
    if not csrf_ok(request, _field(answer, "csrf")):
        return redirect(request, PAGE, _("This form expired; please try again."), "error")
    container = container_of(request)

    def change() -> None:
        with transaction(container.sessions) as session:
            if what == "delete":
                faq_service.delete(session, caller.scope, key, via="web")
            else:
                faq_service.set_status(session, caller.scope, key, FaqAction(what), via="web")

    try:
        await run_in_threadpool(change)
    except NotFound:
        return redirect(request, PAGE, _("There is no FAQ entry with that key any more."), "error")
    except Forbidden:
        return redirect(
            request, target, _("Only PR, admins and owners approve, retire or delete FAQ entries."), "error"
        )
    return redirect(request, target, _said(what, key))
