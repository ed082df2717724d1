"""Settings: each account's automatic answers (guidelines/auto_answer_rules.py says when they go).

PR, admins and owners turn the away message and the automatic FAQ answer on and write the away
texts per language; everyone else who answers customers reads what is on. Both are off until
someone turns them on, and never go to crisis, VIP, spam or public conversations.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from relaydesk.core.errors import Forbidden, NotFound, UserError
from relaydesk.db import reading, transaction
from relaydesk.guidelines.auto_answer_settings import AccountAnswers, auto_answer_settings
from relaydesk.web.errors import not_found
from relaydesk.web.forms import posted
from relaydesk.web.i18n import _
from relaydesk.web.rendering import redirect, render, user_message
from relaydesk.web.session import container_of, current_caller, to_login
from relaydesk.web.settings_common import LANGUAGES, forbidden, form_field

router = APIRouter(include_in_schema=False)
PAGE = "/settings/auto-answers"


def _url(key: str) -> str:
    return f"{PAGE}/{quote(key, safe='')}"


def _refused(request: Request, caller: Any) -> HTMLResponse:
    return forbidden(request, caller, _("Automatic answers are for the people who answer customers."))


@router.get(PAGE, response_class=HTMLResponse, response_model=None)
def auto_answers_page(request: Request) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    try:
        with reading(container_of(request).sessions) as session:
            rows = auto_answer_settings.all(session, caller.scope)
    except Forbidden:
        return _refused(request, caller)
    return render(request, "settings_auto_answers.html", {"rows": rows, "url": _url}, caller=caller)


def _page(
    request: Request, caller: Any, found: AccountAnswers, raw: dict[str, Any] | None = None, **extra: Any
) -> HTMLResponse:
    s = found.settings
    form = raw or {
        "away": {"enabled": s.away, "texts": dict(s.away_texts)},
        "faq": {"enabled": s.faq, "min_score": s.min_score, "min_margin": s.min_margin},
    }
    return render(
        request,
        "settings_auto_answer.html",
        {"account": found, "form": form, "languages": LANGUAGES},
        caller=caller,
        **extra,
    )


@router.get(PAGE + "/{key}", response_class=HTMLResponse, response_model=None)
def auto_answer_page(request: Request, key: str) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    try:
        with reading(container_of(request).sessions) as session:
            found = auto_answer_settings.get(session, caller.scope, key)
    except Forbidden:
        return _refused(request, caller)
    except NotFound:
        return not_found(request, caller, _("There is no account with that key any more."))
    return _page(request, caller, found)


def _read(answer: FormData) -> dict[str, Any]:
    return {
        "away": {
            "enabled": form_field(answer, "away") == "1",
            "texts": {code: form_field(answer, f"away_{code}")[:2000] for code in LANGUAGES},
        },
        "faq": {
            "enabled": form_field(answer, "faq") == "1",
            "min_score": form_field(answer, "min_score").strip(),
            "min_margin": form_field(answer, "min_margin").strip(),
        },
    }


@router.post(PAGE + "/{key}", response_model=None)
async def save_auto_answers(request: Request, key: str) -> Response:
    got = await posted(request, _url(key))
    if not isinstance(got, tuple):
        return got
    caller, answer = got
    raw = _read(answer)
    container = container_of(request)

    def save() -> AccountAnswers:
        with transaction(container.sessions) as session:
            return auto_answer_settings.put(session, caller.scope, key, raw, via="web")

    def again(message: str, status: int) -> HTMLResponse:
        with reading(container.sessions) as session:
            found = auto_answer_settings.get(session, caller.scope, key)
        return _page(
            request, caller, found, raw, status_code=status, flash={"message": message, "kind": "error"}
        )

    try:
        await run_in_threadpool(save)
    except NotFound:
        return not_found(request, caller, _("There is no account with that key any more."))
    except Forbidden:
        return await run_in_threadpool(again, _("Only PR, admins and owners change automatic answers."), 403)
    except UserError as exc:
        return await run_in_threadpool(again, user_message(exc), 422)
    return redirect(request, _url(key), _("The automatic answers of %(account)s are saved.", account=key))
