"""Settings: the buttons of a person's page. Deactivate and reactivate, hand their open
conversations back to the queue, a new set-password link, and API tokens (mint your own, shown
once; revoke your own, or anyone's as an owner or admin)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from relaydesk.core.errors import Forbidden, NotFound, UserError
from relaydesk.db import reading, transaction
from relaydesk.orgs.people_schemas import InviteOut, PersonPatch
from relaydesk.orgs.people_service import people_service
from relaydesk.orgs.person_accounts import person_accounts
from relaydesk.web.i18n import _, ngettext
from relaydesk.web.rendering import redirect, user_message
from relaydesk.web.session import Caller, container_of, csrf_ok, current_caller, to_login
from relaydesk.web.settings_people import forbidden, person_response, person_url, welcome_link_page

router = APIRouter(include_in_schema=False)
BASE = "/settings/people/{user_id:int}"


async def _posted(request: Request, user_id: int) -> tuple[Caller | None, FormData | None, Response | None]:
    caller = await run_in_threadpool(current_caller, request)
    if caller is None:
        return None, None, to_login(request, person_url(user_id))
    answer = await request.form()
    if not csrf_ok(request, str(answer.get("csrf", ""))):
        stop = redirect(request, person_url(user_id), _("This form expired; please try again."), "error")
        return None, None, stop
    return caller, answer, None


@router.post(BASE + "/deactivate", response_model=None)
async def deactivate(request: Request, user_id: int) -> Response:
    return await _switch(request, user_id, "deactivate")


@router.post(BASE + "/activate", response_model=None)
async def activate(request: Request, user_id: int) -> Response:
    return await _switch(request, user_id, "activate")


async def _switch(request: Request, user_id: int, what: str) -> Response:
    caller, _answer, stop = await _posted(request, user_id)
    if stop is not None or caller is None:
        return stop or redirect(request, person_url(user_id))
    container = container_of(request)

    def save() -> str:
        with transaction(container.sessions) as session:
            person = people_service.update(
                session, caller.scope, user_id, PersonPatch(active=what == "activate"), via="web"
            )
            return person.name

    try:
        name = await run_in_threadpool(save)
    except NotFound:
        return redirect(
            request, "/settings/people", _("There is no such person in your organisation."), "error"
        )
    except Forbidden as exc:
        return redirect(request, person_url(user_id), _("Not allowed: %(why)s", why=str(exc)), "error")
    except UserError as exc:
        return redirect(request, person_url(user_id), user_message(exc), "error")
    said = (
        _("%(name)s is active again and can log in.", name=name)
        if what == "activate"
        else _("%(name)s is deactivated: they can no longer log in and get no new conversations.", name=name)
    )
    return redirect(request, person_url(user_id), said)


@router.post(BASE + "/return", response_model=None)
async def return_to_queue(request: Request, user_id: int) -> Response:
    """Hand the person's open conversations back to their department's queue (unassigned)."""
    caller, _answer, stop = await _posted(request, user_id)
    if stop is not None or caller is None:
        return stop or redirect(request, person_url(user_id))
    container = container_of(request)

    def ids() -> list[int]:
        with reading(container.sessions) as session:
            return people_service.open_conversation_ids(session, caller.scope, user_id)

    try:
        held = await run_in_threadpool(ids)
    except (NotFound, Forbidden):
        return forbidden(request, caller)

    def hand_back() -> int:
        # Each through the conversation's own use case: its scope check, lock and events.
        done = 0
        for conversation_id in held:
            try:
                container.conversations.assign(caller.scope, conversation_id, None)
                done += 1
            except (UserError, Forbidden):
                continue
        return done

    done = await run_in_threadpool(hand_back)
    said = ngettext(
        "%(num)d conversation is back in the queue.", "%(num)d conversations are back in the queue.", done
    ) % {"num": done}
    return redirect(request, person_url(user_id), said, "ok" if done == len(held) else "error")


@router.post(BASE + "/welcome", response_model=None)
async def new_welcome_link(request: Request, user_id: int) -> Response:
    caller, _answer, stop = await _posted(request, user_id)
    if stop is not None or caller is None:
        return stop or redirect(request, person_url(user_id))
    container = container_of(request)

    def issue() -> InviteOut:
        with transaction(container.sessions) as session:
            return people_service.new_welcome_link(session, caller.scope, user_id, via="web")

    try:
        done = await run_in_threadpool(issue)
    except NotFound:
        return redirect(
            request, "/settings/people", _("There is no such person in your organisation."), "error"
        )
    except Forbidden as exc:
        return redirect(request, person_url(user_id), _("Not allowed: %(why)s", why=str(exc)), "error")
    except UserError as exc:
        return redirect(request, person_url(user_id), user_message(exc), "error")
    return await run_in_threadpool(welcome_link_page, request, caller, done, False)


@router.post(BASE + "/accounts", response_model=None)
async def set_accounts(request: Request, user_id: int) -> Response:
    """The accounts the person answers: the ticked ones kept, the typed one added."""
    caller, answer, stop = await _posted(request, user_id)
    if stop is not None or caller is None or answer is None:
        return stop or redirect(request, person_url(user_id))
    container = container_of(request)
    keys = [str(k) for k in answer.getlist("keep")] + [str(answer.get("add", "")).strip()[:64]]

    def save() -> None:
        with transaction(container.sessions) as session:
            person_accounts.set(session, caller.scope, user_id, keys, via="web")

    try:
        await run_in_threadpool(save)
    except Forbidden as exc:
        return redirect(request, person_url(user_id), _("Not allowed: %(why)s", why=str(exc)), "error")
    except UserError as exc:
        return await run_in_threadpool(
            person_response, request, caller, user_id, errors={"accounts": user_message(exc)},
            message=_("The accounts were not changed: see the problem below."), status=422,
        )  # fmt: skip
    return redirect(request, person_url(user_id) + "#accounts", _("Accounts saved."))


@router.post(BASE + "/tokens", response_model=None)
async def mint_token(request: Request, user_id: int) -> Response:
    """A token for yourself, shown once on the page this answers with (never stored in clear)."""
    caller, answer, stop = await _posted(request, user_id)
    if stop is not None or caller is None or answer is None:
        return stop or redirect(request, person_url(user_id))
    container = container_of(request)
    name = str(answer.get("token_name", "")).strip()[:200]
    try:
        days = int(str(answer.get("token_days", "")) or container.settings.token_days)
    except ValueError:
        days = 0
    if not 1 <= days <= 3650:
        return await run_in_threadpool(
            person_response, request, caller, user_id, errors={"token_days": _("Between 1 and 3650 days.")},
            message=_("No token was made: see the problems below."), status=422,
        )  # fmt: skip

    def mint() -> tuple[str, str]:
        with transaction(container.sessions) as session:
            # Not tied to this browser session (as /api/v1/tokens from a page is): a token made
            # here is for a script or integration, which must keep working after a logout.
            info, secret = people_service.mint_token(session, caller.scope, user_id, name, days, via="web")
            return info.name, secret

    try:
        token_name, secret = await run_in_threadpool(mint)
    except Forbidden as exc:
        return redirect(request, person_url(user_id), _("Not allowed: %(why)s", why=str(exc)), "error")
    except UserError as exc:
        return await run_in_threadpool(
            person_response, request, caller, user_id, errors={"token_name": user_message(exc)},
            message=_("No token was made: see the problems below."), status=422,
        )  # fmt: skip
    return await run_in_threadpool(
        person_response, request, caller, user_id, status=201,
        message=_("The token %(name)s is made: copy it now, it is not shown again.", name=token_name),
        extra={"new_token": secret},
    )  # fmt: skip


@router.post(BASE + "/tokens/{token_id:int}/revoke", response_model=None)
async def revoke_token(request: Request, user_id: int, token_id: int) -> Response:
    caller, _answer, stop = await _posted(request, user_id)
    if stop is not None or caller is None:
        return stop or redirect(request, person_url(user_id))
    container = container_of(request)

    def revoke() -> str:
        with transaction(container.sessions) as session:
            return people_service.revoke_token(session, caller.scope, user_id, token_id, via="web").name

    try:
        name = await run_in_threadpool(revoke)
    except NotFound:
        return redirect(request, person_url(user_id) + "#tokens", _("That token is gone already."), "error")
    except Forbidden as exc:
        return redirect(request, person_url(user_id), _("Not allowed: %(why)s", why=str(exc)), "error")
    said = _("The token %(name)s is revoked: it no longer works.", name=name)
    return redirect(request, person_url(user_id) + "#tokens", said)
