"""Settings: the brand's guidelines (banned phrases, length, greeting, personal data, language) and
the test box that checks a draft reply against them.

Owners, admins and spokespersons (members of a spokesperson department) change them; everyone
who writes replies reads them and uses the test box; viewers do not see the page
(guidelines/guideline_access.py decides, in the service). The test box asks the same check a
reply gets before it is sent, and stores nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from relaydesk.core.errors import Forbidden, NotFound, UserError
from relaydesk.db import reading, transaction
from relaydesk.guidelines.checks import DEFAULT_SEVERITY, KINDS, SEVERITIES, Finding
from relaydesk.guidelines.guideline_service import PAGE_SIZE, guideline_service
from relaydesk.guidelines.schemas import GuidelineIn, GuidelineOut
from relaydesk.guidelines.text_limits import LIMITS
from relaydesk.guidelines.voice import TONES
from relaydesk.web.errors import not_found
from relaydesk.web.forms import posted, removed
from relaydesk.web.i18n import _
from relaydesk.web.rendering import redirect, render, user_message
from relaydesk.web.session import Caller, container_of, current_caller, to_login
from relaydesk.web.settings_common import LANGUAGES, forbidden, form_field, offset_of

router = APIRouter(include_in_schema=False)
NETWORKS = tuple(sorted({network for network, _public in LIMITS}))
PAGE = "/settings/guidelines"


@dataclass
class GuidelineForm:
    """The form as typed; every kind's fields are kept, so switching the kind loses nothing."""

    name: str = ""
    kind: str = "banned_phrase"
    message: str = ""
    phrases: str = ""
    max_chars: str = ""
    greetings: str = ""
    private_too: bool = False
    place: str = ""  # a brand's or region's key; empty: the whole organisation
    severity: str = ""  # empty: the kind's own
    tones: tuple[str, ...] = ()
    domains: str = ""
    pattern: str = ""
    limits: str = ""  # "x: 200", one network a line

    @classmethod
    def of(cls, row: GuidelineOut) -> GuidelineForm:
        p = row.params
        raw_limits = p.get("limits")
        limits: dict[str, Any] = raw_limits if isinstance(raw_limits, dict) else {}
        return cls(
            name=row.name,
            kind=row.kind,
            message=row.message,
            place=row.place or "",
            phrases="\n".join(str(x) for x in p.get("phrases", []) if isinstance(x, str)),
            max_chars=str(p.get("max_chars", "")),
            greetings="\n".join(str(x) for x in p.get("greetings", []) if isinstance(x, str)),
            private_too=p.get("private_too") is True,
            severity=row.severity or "",
            tones=tuple(str(x) for x in p.get("tones", []) if isinstance(x, str)),
            domains="\n".join(str(x) for x in p.get("domains", []) if isinstance(x, str)),
            pattern=str(p.get("pattern", "")),
            limits="\n".join(f"{k}: {v}" for k, v in limits.items()),
        )

    @classmethod
    def read(cls, answer: FormData) -> GuidelineForm:
        return cls(
            name=form_field(answer, "name").strip(),
            kind=form_field(answer, "kind"),
            message=form_field(answer, "message").strip(),
            phrases=form_field(answer, "phrases"),
            max_chars=form_field(answer, "max_chars").strip(),
            greetings=form_field(answer, "greetings"),
            private_too=form_field(answer, "private_too") == "1",
            place=form_field(answer, "place").strip()[:64],
            severity=form_field(answer, "severity").strip(),
            tones=tuple(str(t) for t in answer.getlist("tones") if isinstance(t, str))[:10],
            domains=form_field(answer, "domains"),
            pattern=form_field(answer, "pattern").strip(),
            limits=form_field(answer, "limits"),
        )

    def params(self) -> dict[str, Any]:
        """The kind's params as `guideline_kinds.clean_params` reads them."""
        return {
            "phrases": self.phrases,
            "max_chars": self.max_chars,
            "greetings": self.greetings,
            "private_too": self.private_too,
            "tones": list(self.tones),
            "domains": self.domains,
            "pattern": self.pattern,
            "limits": _limits_of(self.limits),
        }


def _limits_of(text: str) -> dict[str, str] | str:
    """ "x: 200" lines as {network: limit}; a line without a colon stays text, which is refused."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        network, colon, value = line.partition(":")
        if not colon:
            return text
        found[network.strip().lower()] = value.strip()
    return found


@dataclass(frozen=True)
class Marked:
    text: str
    marked: bool


def marked_segments(text: str, spans: Sequence[tuple[int, int]]) -> list[Marked]:
    """The draft cut where findings point, overlapping spans merged, so the page marks each once."""
    cuts: list[tuple[int, int]] = []
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in spans):
        if end <= start:
            continue
        if cuts and start <= cuts[-1][1]:
            cuts[-1] = (cuts[-1][0], max(cuts[-1][1], end))
        else:
            cuts.append((start, end))
    segments: list[Marked] = []
    at = 0
    for start, end in cuts:
        if start > at:
            segments.append(Marked(text[at:start], False))
        segments.append(Marked(text[start:end], True))
        at = end
    if at < len(text):
        segments.append(Marked(text[at:], False))
    return segments


def _guideline_url(name: str, action: str = "") -> str:
    return f"{PAGE}/{quote(name, safe='')}" + (f"/{action}" if action else "")


def _forbidden(request: Request, caller: Caller) -> HTMLResponse:
    return forbidden(request, caller, _("Guidelines are for the people who write replies."))


def _list_context(request: Request, caller: Caller, search: str, offset: int) -> dict[str, Any]:
    with reading(container_of(request).sessions) as session:
        page = guideline_service.page(session, caller.scope, search=search, offset=offset)
        editor = guideline_service.editor(session, caller.scope)
        places = guideline_service.places(session, caller.scope)

    def pager_url(at: int) -> str:
        return f"{PAGE}?" + urlencode({"q": search, "offset": at})

    return {
        "page": page,
        "page_size": PAGE_SIZE,
        "pager_url": pager_url,
        "search": search,
        "may_edit": editor.may_edit,
        "guideline_url": _guideline_url,
        "languages": LANGUAGES,
        "findings": None,
        "segments": [],
        "draft": "",
        "draft_lang": "",
        "public": True,
        "places": places,
        "draft_place": "",
        "networks": NETWORKS,
        "draft_network": "",
        "tones": TONES,
    }


@router.get(PAGE, response_class=HTMLResponse, response_model=None)
def guidelines_page(request: Request, q: str = "", offset: str = "0") -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    try:
        context = _list_context(request, caller, q.strip()[:128], offset_of(offset))
    except Forbidden:
        return _forbidden(request, caller)
    return render(request, "settings_guidelines.html", context, caller=caller)


@router.post(f"{PAGE}/try", response_model=None)
async def try_draft(request: Request) -> Response:
    """Every finding a draft reply gets from today's guidelines; nothing is stored or sent."""
    got = await posted(request, PAGE)
    if not isinstance(got, tuple):
        return got
    caller, answer = got
    draft = form_field(answer, "draft")[:20000]
    lang = form_field(answer, "lang") if form_field(answer, "lang") in LANGUAGES else None
    public = form_field(answer, "public") == "1"
    place = form_field(answer, "place").strip()[:64] or None
    network = form_field(answer, "network") if form_field(answer, "network") in NETWORKS else None
    try:
        context = await run_in_threadpool(_list_context, request, caller, "", 0)
    except Forbidden:
        return _forbidden(request, caller)
    context.update(
        {
            "draft": draft,
            "draft_lang": lang or "",
            "public": public,
            "draft_place": place or "",
            "draft_network": network or "",
        }
    )
    if not draft.strip():
        return render(
            request, "settings_guidelines.html", context, caller=caller, status_code=422,
            flash={"message": _("Write a draft reply to check."), "kind": "error"},
        )  # fmt: skip
    container = container_of(request)

    def run() -> list[Finding]:
        with reading(container.sessions) as session:
            return guideline_service.try_reply(session, caller.scope, draft, lang, public, place, network)

    try:
        findings = await run_in_threadpool(run)
    except UserError:
        return render(
            request, "settings_guidelines.html", context, caller=caller, status_code=422,
            flash={"message": _("There is no such brand or region any more: choose another."), "kind": "error"},
        )  # fmt: skip
    context["findings"] = findings
    context["segments"] = marked_segments(draft, [span for f in findings for span in f.spans])
    return render(request, "settings_guidelines.html", context, caller=caller)


def _guideline_page(
    request: Request,
    caller: Caller,
    form: GuidelineForm,
    *,
    row: GuidelineOut | None,
    new: bool,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    with reading(container_of(request).sessions) as session:
        may_edit = guideline_service.editor(session, caller.scope).may_edit
        places = guideline_service.places(session, caller.scope)
    if row is not None and row.place and row.place not in {key for key, _name, _kind in places}:
        places.append((row.place, row.place_name or row.place, "location"))  # a location set in YAML
    return render(
        request,
        "settings_guideline.html",
        {
            "form": form,
            "row": row,
            "new": new,
            "editable": may_edit,
            "kinds": KINDS,
            "severities": SEVERITIES,
            "default_severity": DEFAULT_SEVERITY,
            "tones": TONES,
            "guideline_url": _guideline_url,
            "places": places,
        },
        caller=caller,
        status_code=status,
        flash={"message": error, "kind": "error"} if error else None,
    )


@router.get(f"{PAGE}/new", response_class=HTMLResponse, response_model=None)
def new_guideline(request: Request, kind: str = "banned_phrase") -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    with reading(container_of(request).sessions) as session:
        editor = guideline_service.editor(session, caller.scope)
    if not editor.may_edit:
        return forbidden(request, caller, _("Only PR, admins and owners change the brand's guidelines."))
    form = GuidelineForm(kind=kind if kind in KINDS else "banned_phrase")
    return _guideline_page(request, caller, form, row=None, new=True)


@router.get(PAGE + "/{name}", response_class=HTMLResponse, response_model=None)
def show_guideline(request: Request, name: str) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    with reading(container_of(request).sessions) as session:
        try:
            row = guideline_service.get(session, caller.scope, name)
        except Forbidden:
            return _forbidden(request, caller)
        except NotFound:
            return not_found(request, caller, _("There is no guideline with that name any more."))
    return _guideline_page(request, caller, GuidelineForm.of(row), row=row, new=False)


class _Taken(Exception):
    pass


@router.post(PAGE, response_model=None)
async def save_guideline(request: Request) -> Response:
    got = await posted(request, PAGE)
    if not isinstance(got, tuple):
        return got
    caller, answer = got
    new = form_field(answer, "new") == "1"
    form = GuidelineForm.read(answer)
    container = container_of(request)

    async def again(message: str, status: int) -> HTMLResponse:
        def page() -> HTMLResponse:
            row = None
            if not new:
                with reading(container.sessions) as session:
                    try:
                        row = guideline_service.get(session, caller.scope, form.name)
                    except (NotFound, Forbidden):
                        row = None
            return _guideline_page(request, caller, form, row=row, new=new, error=message, status=status)

        return await run_in_threadpool(page)

    if not form.name:
        return await again(_("Give the guideline a name."), 422)
    if form.name == "new":
        return await again(_("Choose another name: “new” is taken by the page for a new guideline."), 422)
    try:
        body = GuidelineIn.model_validate(
            {
                "kind": form.kind,
                "params": form.params(),
                "message": form.message,
                "place": form.place or None,
                "severity": form.severity or None,
            }
        )
    except ValidationError:
        return await again(_("Choose a kind of guideline, and keep the message under 2,000 characters."), 422)

    def save() -> None:
        with transaction(container.sessions) as session:
            if new and guideline_service.exists(session, caller.scope, form.name):
                raise _Taken
            guideline_service.put(session, caller.scope, form.name, body, via="web")

    try:
        await run_in_threadpool(save)
    except _Taken:
        return await again(_("A guideline with that name exists already: choose another name."), 422)
    except Forbidden:
        return await again(_("Only PR, admins and owners change the brand's guidelines."), 403)
    except UserError as exc:
        return await again(_("The guideline was not saved: %(problem)s", problem=user_message(exc)), 422)
    return redirect(
        request,
        PAGE + "#try",
        _("The guideline %(name)s is saved: try a draft against it below.", name=form.name),
    )


@router.post(PAGE + "/{name}/delete", response_model=None)
async def delete_guideline(request: Request, name: str) -> Response:
    got = await posted(request, PAGE)
    if not isinstance(got, tuple):
        return got
    caller, _answer = got
    container = container_of(request)

    def delete() -> None:
        with transaction(container.sessions) as session:
            guideline_service.delete(session, caller.scope, name, via="web")

    return await removed(
        request,
        PAGE,
        delete,
        gone=_("There is no guideline with that name any more."),
        refused=_("Only PR, admins and owners change the brand's guidelines."),
        done=_("The guideline %(name)s is deleted.", name=name),
    )
