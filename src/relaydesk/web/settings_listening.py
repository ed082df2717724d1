"""Settings: listening queries, the searches that gather public posts about a brand for the team.

Owners, admins and managers list, edit, pause and resume the queries of their part of the
organisation (crisis/listening_access.py decides, in the service); agents and viewers work the
posts the queries find, not the queries. The "Try a post" box runs the poller's own matching on a
sample text, so what it says is what the poller would keep; nothing is stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from relaydesk.core.errors import Forbidden, NotFound, UserError
from relaydesk.crisis.listening_access import ListeningAction
from relaydesk.crisis.query_service import LIST_LIMIT, LOCATION_CHOICES, QueryRow, TryResult, query_service
from relaydesk.crisis.schemas import QueryIn, QueryOut
from relaydesk.db import reading, transaction
from relaydesk.web.errors import not_found
from relaydesk.web.i18n import _
from relaydesk.web.rendering import redirect, render, user_message
from relaydesk.web.session import Caller, container_of, csrf_ok, current_caller, to_login

router = APIRouter(include_in_schema=False)
PAGE = "/settings/listening"
# The networks listening reads today (X recent search, Instagram hashtags and tags); a query
# naming none listens on every one.
NETWORKS = ("x", "instagram")
LANGUAGES = ("en", "fa", "ar", "he", "th")
_NETWORK = re.compile(r"[a-z]{1,32}")


def _query_url(name: str, action: str = "") -> str:
    return f"{PAGE}/{quote(name, safe='')}" + (f"/{action}" if action else "")


def _forbidden(request: Request, caller: Caller) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {"title": _("Not allowed"), "message": _("Listening queries are for managers, admins and owners.")},
        caller=caller,
        status_code=403,
    )


def _field(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@dataclass
class QueryForm:
    """What the query form shows and sends back, as typed (shown again as is when refused)."""

    name: str = ""
    keywords: str = ""
    exclude: str = ""
    networks: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    other_languages: str = ""
    location: str = ""
    active: bool = True

    @classmethod
    def of(cls, query: QueryOut) -> QueryForm:
        return cls(
            name=query.name,
            keywords="\n".join(query.keywords),
            exclude="\n".join(query.exclude),
            networks=list(query.networks),
            languages=[code for code in query.languages if code in LANGUAGES],
            other_languages=" ".join(code for code in query.languages if code not in LANGUAGES),
            location=query.location or "",
            active=query.active,
        )

    @property
    def network_choices(self) -> list[str]:
        """The form's networks, then any other the query already names (kept, not dropped)."""
        return [*NETWORKS, *sorted(n for n in self.networks if n not in NETWORKS)]

    def body(self) -> QueryIn:
        others = [code for code in re.split(r"[\s,]+", self.other_languages.lower()) if code]
        return QueryIn(
            keywords=_lines(self.keywords),
            exclude=_lines(self.exclude),
            networks=self.networks,
            languages=[*self.languages, *others],
            location=self.location or None,
            active=self.active,
        )


def _read_form(answer: FormData) -> QueryForm:
    return QueryForm(
        name=" ".join(_field(answer, "name").split()),
        keywords=_field(answer, "keywords"),
        exclude=_field(answer, "exclude"),
        networks=[v for v in answer.getlist("networks") if isinstance(v, str) and _NETWORK.fullmatch(v)],
        languages=[v for v in answer.getlist("languages") if isinstance(v, str) and v in LANGUAGES],
        other_languages=_field(answer, "other_languages").strip(),
        location=_field(answer, "location").strip(),
        active=_field(answer, "active") == "1",
    )


# -- the list -------------------------------------------------------------------------------------


@router.get(PAGE, response_class=HTMLResponse, response_model=None)
def listening_page(request: Request, q: str = "") -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    if not query_service.may(caller.scope, ListeningAction.VIEW):
        return _forbidden(request, caller)
    search = q.strip()[:128]
    with reading(container_of(request).sessions) as session:
        rows = query_service.rows(session, caller.scope, search)
    context = {
        "rows": rows,
        "search": search,
        "capped": len(rows) >= LIST_LIMIT,
        "may_create": query_service.may(caller.scope, ListeningAction.CREATE),
        "query_url": _query_url,
    }
    return render(request, "settings_listening.html", context, caller=caller)


# -- one query ------------------------------------------------------------------------------------


def _query_page(
    request: Request,
    caller: Caller,
    form: QueryForm,
    *,
    row: QueryRow | None,
    tried: TryResult | None = None,
    try_text: str = "",
    try_network: str = "",
    try_lang: str = "",
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    with reading(container_of(request).sessions) as session:
        locations = query_service.locations(session, caller.scope)
    return render(
        request,
        "settings_listening_query.html",
        {
            "form": form,
            "row": row,
            "new": row is None,
            "may_edit": query_service.may(caller.scope, ListeningAction.EDIT),
            "may_switch": query_service.may(caller.scope, ListeningAction.SWITCH),
            "locations": locations,
            "locations_capped": len(locations) >= LOCATION_CHOICES,
            "languages": LANGUAGES,
            "query_url": _query_url,
            "tried": tried,
            "try_text": try_text,
            "try_network": try_network,
            "try_lang": try_lang,
            "try_networks": form.networks or list(NETWORKS),
        },
        caller=caller,
        status_code=status,
        flash={"message": error, "kind": "error"} if error else None,
    )


def _stored(request: Request, caller: Caller, name: str) -> QueryRow | None:
    with reading(container_of(request).sessions) as session:
        try:
            return query_service.get(session, caller.scope, name)
        except NotFound:
            return None


@router.get(f"{PAGE}/new", response_class=HTMLResponse, response_model=None)
def new_query(request: Request) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    if not query_service.may(caller.scope, ListeningAction.CREATE):
        return _forbidden(request, caller)
    return _query_page(request, caller, QueryForm(), row=None)


@router.get(PAGE + "/{name}", response_class=HTMLResponse, response_model=None)
def show_query(request: Request, name: str) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    if not query_service.may(caller.scope, ListeningAction.VIEW):
        return _forbidden(request, caller)
    row = _stored(request, caller, name)
    if row is None:
        return not_found(request, caller, _("There is no listening query with that name."))
    return _query_page(request, caller, QueryForm.of(row.query), row=row)


async def _posted(request: Request, back: str) -> tuple[Caller | None, FormData | None, Response | None]:
    """The caller and form of a POST, or the answer when it cannot go on."""
    caller = await run_in_threadpool(current_caller, request)
    if caller is None:
        return None, None, to_login(request, back)
    answer = await request.form()
    if not csrf_ok(request, _field(answer, "csrf")):
        return None, None, redirect(request, back, _("This form expired; please try again."), "error")
    if not query_service.may(caller.scope, ListeningAction.VIEW):
        return caller, None, _forbidden(request, caller)
    return caller, answer, None


@router.post(PAGE, response_model=None)
async def save_query(request: Request) -> Response:
    caller, answer, stop = await _posted(request, PAGE)
    if stop is not None or caller is None or answer is None:
        return stop or redirect(request, PAGE)
    new = _field(answer, "new") == "1"
    form = _read_form(answer)
    row = None if new else await run_in_threadpool(_stored, request, caller, form.name)

    def again(error: str, status: int) -> HTMLResponse:
        return _query_page(request, caller, form, row=row, error=error, status=status)

    if not new and row is None:
        return redirect(request, PAGE, _("There is no listening query with that name any more."), "error")
    if new and form.name.lower() == "new":
        # /settings/listening/new is the empty form: a query of that name could not be opened.
        return await run_in_threadpool(again, _("Choose another name: “new” is taken by the page."), 422)
    if not _lines(form.keywords):
        return await run_in_threadpool(again, _("Write at least one keyword, one per line."), 422)
    try:
        body = form.body()
    except ValidationError:
        return await run_in_threadpool(
            again, _("A list is too long: at most 100 keywords and 100 exclusions."), 422
        )
    container = container_of(request)

    def save() -> QueryOut:
        with transaction(container.sessions) as session:
            saved, _created = query_service.save(session, caller.scope, form.name, body, via="web", new=new)
            return saved

    try:
        saved = await run_in_threadpool(save)
    except Forbidden as exc:
        return await run_in_threadpool(again, _("Not allowed: %(why)s", why=str(exc)), 403)
    except UserError as exc:
        problem = _("The query was not saved: %(problem)s", problem=user_message(exc))
        return await run_in_threadpool(again, problem, 422)
    return redirect(
        request, _query_url(saved.name), _("The listening query %(name)s is saved.", name=saved.name)
    )


@router.post(PAGE + "/{name}/try", response_model=None)
async def try_post(request: Request, name: str) -> Response:
    """Would the poller keep this post for the query? Nothing is stored."""
    caller, answer, stop = await _posted(request, _query_url(name))
    if stop is not None or caller is None or answer is None:
        return stop or redirect(request, PAGE)
    text = _field(answer, "text").strip()[:5000]
    network = _field(answer, "network").strip().lower()[:32] or "x"
    lang = _field(answer, "lang") if _field(answer, "lang") in LANGUAGES else ""
    row = await run_in_threadpool(_stored, request, caller, name)
    if row is None:
        return redirect(request, PAGE, _("There is no listening query with that name any more."), "error")
    form = QueryForm.of(row.query)
    if not text:
        return await run_in_threadpool(
            lambda: _query_page(
                request, caller, form, row=row, try_network=network, try_lang=lang,
                error=_("Write a post to try."), status=422,
            )
        )  # fmt: skip
    container = container_of(request)

    def run() -> TryResult:
        with reading(container.sessions) as session:
            return query_service.try_post(session, caller.scope, name, text, network, lang or None)

    try:
        tried = await run_in_threadpool(run)
    except NotFound:
        return redirect(request, PAGE, _("There is no listening query with that name any more."), "error")
    except Forbidden:
        return _forbidden(request, caller)
    return await run_in_threadpool(
        lambda: _query_page(
            request, caller, form, row=row, tried=tried, try_text=text, try_network=network, try_lang=lang
        )
    )


@router.post(PAGE + "/{name}/{what}", response_model=None)
async def switch_query(request: Request, name: str, what: str) -> Response:
    if what not in ("pause", "resume"):
        return redirect(request, PAGE, _("That did not work."), "error")
    caller, _answer, stop = await _posted(request, _query_url(name))
    if stop is not None or caller is None:
        return stop or redirect(request, PAGE)
    container = container_of(request)

    def save() -> None:
        with transaction(container.sessions) as session:
            query_service.set_active(session, caller.scope, name, what == "resume", via="web")

    try:
        await run_in_threadpool(save)
    except NotFound:
        return redirect(request, PAGE, _("There is no listening query with that name any more."), "error")
    except Forbidden:
        return _forbidden(request, caller)
    said = (
        _("The listening query %(name)s is listening again.", name=name)
        if what == "resume"
        else _(
            "The listening query %(name)s is paused: no posts are gathered for it until it is resumed.",
            name=name,
        )
    )
    return redirect(request, _query_url(name), said)
