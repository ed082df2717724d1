"""Settings: the channel accounts, connected in a form, with their status and webhook address.

Owners and admins connect, change and switch off accounts; managers read the accounts of their
part of the organisation and may check them (channels/account_access.py decides, in the service).
Credentials are write-only: each is a password field that is never filled in, an empty field
keeps the stored value, and the page only says which ones are stored.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from relaydesk.channels import registry
from relaydesk.channels.account_access import AccountAction
from relaydesk.channels.account_endpoints import public_base_url
from relaydesk.channels.account_service import LIST_LIMIT, LOCATION_CHOICES, account_service
from relaydesk.channels.account_status import form_credential_names
from relaydesk.channels.schemas import AccountIn, AccountOut, AccountPatch
from relaydesk.core.errors import Conflict, Forbidden, NotFound, UserError
from relaydesk.db import reading, transaction
from relaydesk.web.errors import not_found
from relaydesk.web.i18n import _
from relaydesk.web.labels import network_name
from relaydesk.web.problems import sentence
from relaydesk.web.rendering import redirect, render, user_message
from relaydesk.web.session import Caller, container_of, csrf_ok, current_caller, to_login

router = APIRouter(include_in_schema=False)
PAGE = "/settings/accounts"
CREDENTIAL = "credential__"  # + name: a value to set
REMOVE = "remove__"  # + name: a stored credential to delete


def _account_url(key: str, action: str = "") -> str:
    return f"{PAGE}/{quote(key, safe='')}" + (f"/{action}" if action else "")


def _forbidden(request: Request, caller: Caller) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {"title": _("Not allowed"), "message": _("Channel accounts are for managers, admins and owners.")},
        caller=caller,
        status_code=403,
    )


def _field(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _secret(form: FormData, name: str) -> str:
    # Secrets are kept as typed (a token may end in a space no one meant, but it is theirs).
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


# -- the status in words --------------------------------------------------------------------------


def badge_word(badge: str) -> str:
    return {
        "off": _("off"),
        "setup": _("needs set-up"),
        "failing": _("replies failing"),
        "ready": _("ready"),
    }.get(badge, badge)


def status_lines(account: AccountOut) -> list[str]:
    """The check in the reader's language; the English of `channels check` is shown beside it."""
    status, network = account.status, network_name(account.network)
    spec = registry.spec(account.network)
    send = set(spec.send_credentials) if spec else set()
    send_missing = ", ".join(m for m in status.missing if m in send)
    hook_missing = ", ".join(m for m in status.missing if m not in send and m != "external_id")
    lines = []
    if status.replies_state == "ready":
        lines.append(_("Replies: ready."))
    elif status.replies_state == "missing":
        lines.append(_("Replies: cannot be sent yet; add %(names)s.", names=send_missing))
    else:
        lines.append(_("Replies: nothing to set up on this network."))
    if account.sandbox:
        lines.append(
            _("Sandbox: replies are recorded as sent but never posted to %(network)s.", network=network)
        )
    if status.webhook_state == "ready":
        lines.append(_("Webhook: ready; register the address below with %(network)s.", network=network))
    elif status.webhook_state == "missing":
        lines.append(_("Webhook: incoming events cannot be verified yet; add %(names)s.", names=hook_missing))
    elif status.webhook_state == "unmatched":
        lines.append(
            _("Webhook: events cannot be matched to this account yet; fill in its id on the network.")
        )
    else:
        lines.append(_("Webhook: nothing to register for this network."))
    if not account.active:
        lines.append(_("Switched off: nothing is received or sent on this account."))
    return lines


def _too_long(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


def _problem(exc: UserError) -> str:
    """A refused change: in the reader's language where the service said which one it was."""
    said = sentence(exc)
    return (
        said if said is not None else _("The account was not saved: %(problem)s", problem=user_message(exc))
    )


# -- pages ----------------------------------------------------------------------------------------


@router.get(PAGE, response_class=HTMLResponse, response_model=None)
def accounts_page(request: Request, q: str = "") -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    scope = caller.scope
    if not account_service.may(scope, AccountAction.VIEW):
        return _forbidden(request, caller)
    container = container_of(request)
    search = q.strip()[:200]
    with reading(container.sessions) as session:
        accounts = account_service.accounts(
            session, scope, container.box, public_base_url(container, request), search
        )
    context = {
        "accounts": accounts,
        "capped": len(accounts) >= LIST_LIMIT,
        "search": search,
        "may_connect": account_service.may(scope, AccountAction.CONNECT),
        "account_url": _account_url,
        "badge_word": badge_word,
    }
    return render(request, "settings_accounts.html", context, caller=caller)


def _form_context(request: Request, caller: Caller) -> dict[str, Any]:
    with reading(container_of(request).sessions) as session:
        locations = account_service.locations(session, caller.scope)
    return {
        "locations": locations,
        "locations_capped": len(locations) >= LOCATION_CHOICES,
        "account_url": _account_url,
        "badge_word": badge_word,
    }


def _new_page(
    request: Request, caller: Caller, values: dict[str, Any], *, error: str | None = None, status: int = 200
) -> HTMLResponse:
    network = values.get("network", "")
    known = network in account_service.networks()
    context = _form_context(request, caller)
    context.update(
        {
            "values": values,
            "networks": account_service.networks(),
            "network": network if known else "",
            "credential_names": form_credential_names(network, ()) if known else (),
        }
    )
    return render(
        request,
        "settings_account_new.html",
        context,
        caller=caller,
        status_code=status,
        flash={"message": error, "kind": "error"} if error else None,
    )


@router.get(f"{PAGE}/new", response_class=HTMLResponse, response_model=None)
def new_account(request: Request, network: str = "") -> Response:
    """Step one picks the network (a GET, so it works without JavaScript); then its fields."""
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    if not account_service.may(caller.scope, AccountAction.CONNECT):
        return _forbidden(request, caller)
    return _new_page(request, caller, {"network": network, "active": True})


@router.post(PAGE, response_model=None)
async def connect(request: Request) -> Response:
    caller = await run_in_threadpool(current_caller, request)
    if caller is None:
        return to_login(request, f"{PAGE}/new")
    answer = await request.form()
    if not csrf_ok(request, _field(answer, "csrf")):
        return redirect(request, f"{PAGE}/new", _("This form expired; please try again."), "error")
    if not account_service.may(caller.scope, AccountAction.CONNECT):
        return _forbidden(request, caller)
    network = _field(answer, "network")
    # Never the credentials: a form shown again after a mistake asks for them again.
    values: dict[str, Any] = {
        name: _field(answer, name) for name in ("network", "key", "name", "handle", "external_id", "location")
    }
    values.update(sandbox=_field(answer, "sandbox") == "1", active=_field(answer, "active") == "1")
    try:
        body = AccountIn(
            key=values["key"],
            network=network,
            handle=values["handle"],
            external_id=values["external_id"] or None,
            name=values["name"],
            location=values["location"],
            credentials=_credentials(answer),
            sandbox=values["sandbox"],
            active=values["active"],
        )
    except ValidationError as exc:
        error = _("The account was not saved: %(problem)s", problem=_too_long(exc))
        return await run_in_threadpool(_new_page, request, caller, values, error=error, status=422)
    container = container_of(request)

    def save() -> None:
        with transaction(container.sessions) as session:
            account_service.connect(
                session, caller.scope, container.box, public_base_url(container, request), body, via="web"
            )

    try:
        await run_in_threadpool(save)
    except Forbidden as exc:
        return await run_in_threadpool(
            _new_page, request, caller, values, error=_("Not allowed: %(why)s", why=str(exc)), status=403
        )
    except UserError as exc:
        status = 409 if isinstance(exc, Conflict) else 422
        return await run_in_threadpool(_new_page, request, caller, values, error=_problem(exc), status=status)
    return redirect(request, _account_url(body.key), _("The account %(key)s is connected.", key=body.key))


def _credentials(answer: FormData) -> dict[str, str]:
    """The credential fields the form had, plus the one "other credential" a person may name.

    The names come from the form itself: the service refuses a name that is not one.
    """
    entered = {
        name.removeprefix(CREDENTIAL): _secret(answer, name) for name in answer if name.startswith(CREDENTIAL)
    }
    other = _field(answer, "other_name")
    if other:
        entered[other] = _secret(answer, "other_value")
    return entered


def _account_page(
    request: Request, caller: Caller, key: str, *, error: str | None = None, status: int = 200
) -> HTMLResponse:
    container = container_of(request)
    with reading(container.sessions) as session:
        try:
            account = account_service.get(
                session, caller.scope, container.box, public_base_url(container, request), key
            )
        except NotFound:
            return not_found(request, caller, _("There is no account with that key."))
    context = _form_context(request, caller) if account_service.may(caller.scope, AccountAction.EDIT) else {}
    context.update(
        {
            "account": account,
            "lines": status_lines(account),
            "credential_names": form_credential_names(account.network, account.credentials),
            "may_edit": account_service.may(caller.scope, AccountAction.EDIT),
            "may_switch": account_service.may(caller.scope, AccountAction.SWITCH),
            "account_url": _account_url,
            "badge_word": badge_word,
        }
    )
    return render(
        request,
        "settings_account.html",
        context,
        caller=caller,
        status_code=status,
        flash={"message": error, "kind": "error"} if error else None,
    )


@router.get(PAGE + "/{key}", response_class=HTMLResponse, response_model=None)
def account_page(request: Request, key: str) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    if not account_service.may(caller.scope, AccountAction.VIEW):
        return _forbidden(request, caller)
    return _account_page(request, caller, key)


async def _posted(request: Request, key: str) -> tuple[Caller | None, FormData | None, Response | None]:
    """The caller and form of a POST to an account, or the answer when it cannot go on."""
    caller = await run_in_threadpool(current_caller, request)
    if caller is None:
        return None, None, to_login(request, _account_url(key))
    answer = await request.form()
    if not csrf_ok(request, _field(answer, "csrf")):
        return (
            None,
            None,
            redirect(request, _account_url(key), _("This form expired; please try again."), "error"),
        )
    return caller, answer, None


@router.post(PAGE + "/{key}", response_model=None)
async def change(request: Request, key: str) -> Response:
    caller, answer, stop = await _posted(request, key)
    if stop is not None or caller is None or answer is None:
        return stop or redirect(request, PAGE)
    if not account_service.may(caller.scope, AccountAction.EDIT):
        return _forbidden(request, caller)
    try:
        body = AccountPatch(
            handle=_field(answer, "handle"),
            external_id=_field(answer, "external_id"),
            name=_field(answer, "name"),
            location=_field(answer, "location"),
            credentials=_credentials(answer),
            remove_credentials=[n.removeprefix(REMOVE) for n in answer if n.startswith(REMOVE)],
            sandbox=_field(answer, "sandbox") == "1",
        )
    except ValidationError as exc:
        error = _("The account was not saved: %(problem)s", problem=_too_long(exc))
        return await run_in_threadpool(_account_page, request, caller, key, error=error, status=422)
    container = container_of(request)

    def save() -> None:
        with transaction(container.sessions) as session:
            account_service.update(
                session,
                caller.scope,
                container.box,
                public_base_url(container, request),
                key,
                body,
                via="web",
            )

    try:
        await run_in_threadpool(save)
    except NotFound:
        return redirect(request, PAGE, _("There is no account with that key."), "error")
    except Forbidden as exc:
        return await run_in_threadpool(
            _account_page, request, caller, key, error=_("Not allowed: %(why)s", why=str(exc)), status=403
        )
    except UserError as exc:
        status = 409 if isinstance(exc, Conflict) else 422
        return await run_in_threadpool(
            _account_page, request, caller, key, error=_problem(exc), status=status
        )
    return redirect(request, _account_url(key), _("The account %(key)s is saved.", key=key))


@router.post(PAGE + "/{key}/check", response_model=None)
async def check_now(request: Request, key: str) -> Response:
    """Run the check again; the page it returns to shows the result (nothing is stored)."""
    caller, _answer, stop = await _posted(request, key)
    if stop is not None or caller is None:
        return stop or redirect(request, PAGE)
    container = container_of(request)

    def run() -> AccountOut:
        with reading(container.sessions) as session:
            return account_service.check(
                session, caller.scope, container.box, public_base_url(container, request), key
            )

    try:
        checked = await run_in_threadpool(run)
    except NotFound:
        return redirect(request, PAGE, _("There is no account with that key."), "error")
    except Forbidden:
        return _forbidden(request, caller)
    said = (
        _("Checked just now: the account is set up to reply and to receive.")
        if checked.status.ok
        else _("Checked just now: something is missing, see below.")
    )
    return redirect(request, _account_url(key) + "#status", said, "ok" if checked.status.ok else "error")


@router.post(PAGE + "/{key}/{what}", response_model=None)
async def switch(request: Request, key: str, what: str) -> Response:
    if what not in ("enable", "disable"):
        return redirect(request, _account_url(key), _("That did not work."), "error")
    caller, _answer, stop = await _posted(request, key)
    if stop is not None or caller is None:
        return stop or redirect(request, PAGE)
    container = container_of(request)

    def save() -> None:
        with transaction(container.sessions) as session:
            account_service.update(
                session,
                caller.scope,
                container.box,
                public_base_url(container, request),
                key,
                AccountPatch(active=what == "enable"),
                via="web",
            )

    try:
        await run_in_threadpool(save)
    except NotFound:
        return redirect(request, PAGE, _("There is no account with that key."), "error")
    except Forbidden:
        return _forbidden(request, caller)
    except UserError as exc:
        return redirect(request, _account_url(key), _problem(exc), "error")
    said = (
        _("The account %(key)s is on.", key=key)
        if what == "enable"
        else _(
            "The account %(key)s is off: nothing is received or sent on it until it is switched on.", key=key
        )
    )
    return redirect(request, _account_url(key), said)
