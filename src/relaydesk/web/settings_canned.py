"""Settings: saved replies (`/key` in the reply box), one text per language, limited to departments.

Owners and admins change every reply; a manager of the whole organisation those limited to her
own departments; agents read the replies they are offered; viewers do not see the page
(conversations/canned_access.py decides, in the service). A macro's actions (status, tags,
priority, hand-off) are set on the same form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from relaydesk.conversations.canned_service import PAGE_SIZE, canned_service
from relaydesk.conversations.schemas import CannedEntryOut, CannedIn, MacroActions
from relaydesk.core.enums import Priority
from relaydesk.core.errors import Forbidden, NotFound, UserError
from relaydesk.db import reading, transaction
from relaydesk.orgs.service import org_service
from relaydesk.web.errors import not_found
from relaydesk.web.forms import posted, removed
from relaydesk.web.i18n import _
from relaydesk.web.rendering import redirect, render, user_message
from relaydesk.web.session import Caller, container_of, current_caller, to_login
from relaydesk.web.settings_common import LANGUAGES, forbidden, form_field, form_list, offset_of

router = APIRouter(include_in_schema=False)
PAGE = "/settings/canned"
_TEXT_FIELD = "text_"
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")


@dataclass
class CannedForm:
    key: str = ""
    title: str = ""
    texts: dict[str, str] = field(default_factory=dict)
    departments: list[str] = field(default_factory=list)
    # the macro: what sending it also does
    status: str = ""
    priority: str = ""
    tags: str = ""  # comma-separated, as typed
    transfer: str = ""

    @classmethod
    def of(cls, row: CannedEntryOut) -> CannedForm:
        a = row.actions
        return cls(
            row.key,
            row.title,
            dict(row.texts),
            list(row.departments),
            status=a.status or "",
            priority=a.priority or "",
            tags=", ".join(a.tags),
            transfer=a.transfer or "",
        )

    def actions(self) -> MacroActions:
        return MacroActions(
            status=self.status or None,
            priority=self.priority or None,
            tags=[t.strip() for t in re.split(r"[,،\n]", self.tags) if t.strip()],
            transfer=self.transfer or None,
        )

    @classmethod
    def read(cls, answer: FormData) -> CannedForm:
        texts = {}
        for name in answer:
            code = name.removeprefix(_TEXT_FIELD)
            if name.startswith(_TEXT_FIELD) and _LANGUAGE.fullmatch(code):
                texts[code] = form_field(answer, name)
        return cls(
            key=form_field(answer, "key").strip(),
            title=form_field(answer, "title").strip(),
            texts=texts,
            departments=form_list(answer, "departments"),
            status=form_field(answer, "status").strip(),
            priority=form_field(answer, "priority").strip(),
            tags=form_field(answer, "tags")[:2000],
            transfer=form_field(answer, "transfer").strip(),
        )

    @property
    def languages(self) -> list[str]:
        """The five languages of the form, then any other the reply already has a text in."""
        return [*LANGUAGES, *sorted(code for code in self.texts if code not in LANGUAGES)]


def _entry_url(key: str, action: str = "") -> str:
    return f"{PAGE}/{quote(key, safe='')}" + (f"/{action}" if action else "")


def _forbidden(request: Request, caller: Caller) -> HTMLResponse:
    return forbidden(request, caller, _("Saved replies are for the people who write replies."))


@router.get(PAGE, response_class=HTMLResponse, response_model=None)
def canned_page(request: Request, q: str = "", offset: str = "0") -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    search = q.strip()[:64]
    with reading(container_of(request).sessions) as session:
        try:
            page = canned_service.page(session, caller.scope, search=search, offset=offset_of(offset))
        except Forbidden:
            return _forbidden(request, caller)
        editor = canned_service.editor(session, caller.scope)

    def pager_url(at: int) -> str:
        return f"{PAGE}?" + urlencode({"q": search, "offset": at})

    context = {
        "page": page,
        "page_size": PAGE_SIZE,
        "pager_url": pager_url,
        "search": search,
        "may_create": editor.may_create,
        "everything": editor.everything,
        "regional": editor.regional and not editor.everything,
        "entry_url": _entry_url,
    }
    return render(request, "settings_canned.html", context, caller=caller)


def _entry_page(
    request: Request,
    caller: Caller,
    form: CannedForm,
    *,
    row: CannedEntryOut | None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    with reading(container_of(request).sessions) as session:
        editor = canned_service.editor(session, caller.scope)
        departments = [
            (d.key, d.name)
            for d in org_service.departments(session, caller.scope.org_id)
            if editor.everything or d.key in editor.departments or d.key in form.departments
        ]
        # a macro may hand off to any department, not only the editor's own
        handoffs = [(d.key, d.name) for d in org_service.departments(session, caller.scope.org_id)]
    return render(
        request,
        "settings_canned_entry.html",
        {
            "form": form,
            "row": row,
            "new": row is None,
            "editable": row.editable if row is not None else editor.may_create,
            "departments": departments,
            "handoffs": handoffs,
            "priorities": [p.value for p in Priority],
            "everything": editor.everything,
            "entry_url": _entry_url,
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
    with reading(container_of(request).sessions) as session:
        editor = canned_service.editor(session, caller.scope)
    if not editor.may_see:
        return _forbidden(request, caller)
    if not editor.may_create:
        return redirect(
            request, PAGE, _("You may not add saved replies: ask a manager or an admin."), "error"
        )
    return _entry_page(request, caller, CannedForm(), row=None)


@router.get(PAGE + "/{key}", response_class=HTMLResponse, response_model=None)
def show_entry(request: Request, key: str) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    with reading(container_of(request).sessions) as session:
        try:
            row = canned_service.get(session, caller.scope, key)
        except Forbidden:
            return _forbidden(request, caller)
        except NotFound:
            return not_found(request, caller, _("There is no saved reply with that key any more."))
    return _entry_page(request, caller, CannedForm.of(row), row=row)


def _body(form: CannedForm) -> tuple[CannedIn | None, str]:
    """The service's body for the form, or what the person has to fix (in her language)."""
    if not form.key:
        return None, _("Give the saved reply a key: agents type it after a slash.")
    if form.key == "new":
        return None, _("Choose another key: “new” is taken by the page for a new saved reply.")
    if not form.title:
        return None, _("Give the saved reply a title.")
    try:
        actions = form.actions()
    except ValidationError:
        return None, _("Choose the macro's status, priority and hand-off from the lists.")
    try:
        return CannedIn(title=form.title, texts=form.texts, departments=form.departments, actions=actions), ""
    except ValidationError:
        return None, _("The title is too long (at most 200 characters).")


class _Taken(Exception):
    pass


@router.post(PAGE, response_model=None)
async def save_entry(request: Request) -> Response:
    got = await posted(request, PAGE)
    if not isinstance(got, tuple):
        return got
    caller, answer = got
    new = form_field(answer, "new") == "1"
    form = CannedForm.read(answer)
    container = container_of(request)

    async def again(message: str, status: int) -> HTMLResponse:
        def page() -> HTMLResponse:
            row = None
            if not new:
                with reading(container.sessions) as session:
                    try:
                        row = canned_service.get(session, caller.scope, form.key)
                    except (NotFound, Forbidden):
                        row = None
            return _entry_page(request, caller, form, row=row, error=message, status=status)

        return await run_in_threadpool(page)

    body, problem = _body(form)
    if body is None:
        return await again(problem, 422)

    def save() -> None:
        with transaction(container.sessions) as session:
            if new and canned_service.exists(session, caller.scope, form.key):
                raise _Taken
            canned_service.put(session, caller.scope, form.key, body, via="web")

    try:
        await run_in_threadpool(save)
    except _Taken:
        return await again(_("A saved reply with that key exists already: choose another key."), 422)
    except Forbidden:
        return await again(
            _("You may change only the saved replies limited to your own departments: choose them below."),
            403,
        )
    except UserError as exc:
        return await again(_("The saved reply was not saved: %(problem)s", problem=user_message(exc)), 422)
    return redirect(request, _entry_url(form.key), _("The saved reply %(key)s is saved.", key=form.key))


@router.post(PAGE + "/{key}/delete", response_model=None)
async def delete_entry(request: Request, key: str) -> Response:
    got = await posted(request, PAGE)
    if not isinstance(got, tuple):
        return got
    caller, _answer = got
    container = container_of(request)

    def delete() -> None:
        with transaction(container.sessions) as session:
            canned_service.delete(session, caller.scope, key, via="web")

    return await removed(
        request,
        PAGE,
        delete,
        gone=_("There is no saved reply with that key any more."),
        refused=_("You may not delete that saved reply."),
        done=_("The saved reply %(key)s is deleted.", key=key),
    )
