"""The inbox agents use all day: server-rendered pages over the same services as the API.

Every page works without JavaScript. Customer text is only ever autoescaped by Jinja2 and shown
isolated with dir="auto", so Persian, Arabic and Hebrew read right to left inside a left-to-right
page and no bidi override in it reorders the page; names lose such overrides (web/formatting.py).
Times are formatted once, on the server, in the viewer's zone.
Every POST form carries a CSRF token bound to the session (the login form, which has no session
yet, uses a double-submit cookie). Reads go through the services, which scope them in SQL.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import jinja2
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from relaydesk.analytics.service import kpi_summary, staffing_plan
from relaydesk.auth.csrf import cross_origin, csrf_token, csrf_valid
from relaydesk.auth.scopes import Forbidden, Scope
from relaydesk.auth.service import (
    SESSION_COOKIE,
    LoginLimits,
    Throttled,
    Unauthorized,
    authenticate,
    logout,
    scope_for,
    user_for_session,
)
from relaydesk.contacts.schemas import ContactDetail
from relaydesk.contacts.service import ContactService
from relaydesk.container import Container
from relaydesk.conversations.repository import ConversationFilters
from relaydesk.conversations.schemas import ConversationDetail
from relaydesk.core.enums import Priority, Sentiment
from relaydesk.core.errors import Conflict, NotFound, Refused, UserError
from relaydesk.core.timeutil import as_utc, utcnow
from relaydesk.db import transaction
from relaydesk.deps import client_address
from relaydesk.models import Intent, Organization, User
from relaydesk.orgs import repository as orgs
from relaydesk.triage.builtin_intents import builtin_intent_definitions
from relaydesk.web.formatting import UTC, clean_name, format_time, isolated, segments, viewer_zone

HERE = Path(__file__).parent
FLASH_COOKIE = "relaydesk_flash"
LOGIN_COOKIE = "relaydesk_login"  # the login form's double-submit CSRF token
ACTIVE_STATUSES = ["new", "open", "pending", "reopened"]
STATUSES = ("new", "open", "pending", "reopened", "snoozed", "resolved")
LANGUAGES = (
    ("fa", "فارسی · Persian"),
    ("ar", "العربية · Arabic"),
    ("he", "עברית · Hebrew"),
    ("th", "ไทย · Thai"),
    ("en", "English"),
)
SLA_STATES = (("breached", "breached"), ("warning", "due soon"), ("ok", "on time"), ("none", "no clock"))
SNOOZE_HOURS = (1, 4, 24, 72)
REPORT_DAYS = (7, 30, 90)
PAGE_SIZE = 50
FILTER_KEYS = ("status", "department", "assignee", "language", "sentiment", "intent", "sla", "q")
# Pages only load our own files; inline scripts and foreign origins never run.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

router = APIRouter(include_in_schema=False)


# -- formatting for templates ---------------------------------------------------------------------


def _iso(value: datetime | None) -> str:
    moment = as_utc(value)
    return moment.isoformat() if moment else ""


@jinja2.pass_context
def _when(context: Any, value: datetime | None, full: bool = False) -> str:
    """Every time on every page goes through here: one format, in the viewer's zone."""
    zone = context.get("zone") or UTC
    return format_time(value, zone, utcnow(), full=full)


def _relative(value: datetime | None) -> str:
    """'in 12 min' or '3 h ago': an SLA due time read at a glance."""
    moment = as_utc(value)
    if moment is None:
        return ""
    seconds = (moment - utcnow()).total_seconds()
    text = _span(abs(seconds))
    return f"in {text}" if seconds >= 0 else f"{text} ago"


def _span(seconds: float) -> str:
    if seconds < 60:
        return f"{int(seconds)} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _duration(seconds: float | None) -> str:
    return "—" if seconds is None else _span(seconds)


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{100 * share:.0f}%"


def _lang(code: str | None) -> str:
    """A lang attribute value, or '' when the language is unknown."""
    if not code or code == "und" or not code.replace("-", "").isalpha() or len(code) > 12:
        return ""
    return code


def _environment() -> jinja2.Environment:
    # Autoescape everything: customer text is untrusted, and no template marks anything safe.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        iso=_iso,
        when=_when,
        relative=_relative,
        duration=_duration,
        percent=_percent,
        lang=_lang,
        name=clean_name,
        isolated=isolated,
        segments=segments,
    )
    return env


TEMPLATES = Jinja2Templates(env=_environment())


# -- who is calling, CSRF, flash messages ---------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    scope: Scope
    user: User
    zone: ZoneInfo  # the zone this person reads times in


def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def _caller(request: Request) -> Caller | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        with transaction(_container(request).sessions) as session:
            user = user_for_session(session, cookie)
            zone = viewer_zone(*orgs.time_zones_of(session, user))
            return Caller(scope_for(session, user), user, zone)
    except Unauthorized:
        return None


def _zone_of(request: Request, scope: Scope) -> ZoneInfo:
    with _container(request).sessions() as session:
        user = session.get(User, scope.user_id)
        return viewer_zone(*orgs.time_zones_of(session, user)) if user else UTC


def _csrf_token(request: Request) -> str:
    """Bound to the session cookie; the same token the API wants in its X-CSRF-Token header."""
    return csrf_token(_container(request).box.derive("csrf"), request.cookies.get(SESSION_COOKIE, ""))


def _csrf_ok(request: Request, token: str) -> bool:
    return csrf_valid(_container(request).box.derive("csrf"), request.cookies.get(SESSION_COOKIE), token)


def _sign(request: Request, payload: bytes) -> str:
    return hmac.new(_container(request).box.derive("flash"), payload, hashlib.sha256).hexdigest()[:32]


def _flash_value(request: Request, message: str, kind: str) -> str:
    payload = json.dumps({"m": message[:500], "k": kind}).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + _sign(request, payload)


def _read_flash(request: Request) -> dict[str, str] | None:
    """The message a redirect left for the next page; signed, so nobody can plant one."""
    raw = request.cookies.get(FLASH_COOKIE, "")
    body, _, signature = raw.partition(".")
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        data = json.loads(payload)
    except (ValueError, binascii.Error):
        return None
    if not hmac.compare_digest(signature, _sign(request, payload)) or not isinstance(data, dict):
        return None
    return {"message": str(data.get("m", "")), "kind": "error" if data.get("k") == "error" else "ok"}


def _render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    caller: Caller | None = None,
    status_code: int = 200,
    flash: dict[str, str] | None = None,
) -> HTMLResponse:
    pending = _read_flash(request)
    full = {
        "request": request,
        "csrf": _csrf_token(request),
        "user": caller.user if caller else None,
        "scope": caller.scope if caller else None,
        "flash": flash or pending,
        "path": request.url.path,
        "zone": caller.zone if caller else UTC,
        **context,
    }
    response = TEMPLATES.TemplateResponse(request, name, full, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def _redirect(request: Request, url: str, message: str | None = None, kind: str = "ok") -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    if message:
        response.set_cookie(
            FLASH_COOKIE, _flash_value(request, message, kind), httponly=True, samesite="lax", path="/"
        )
    return response


def _to_login(request: Request, back: str | None = None) -> RedirectResponse:
    """To the login form, which then returns here (or to `back`: a form's POST cannot be replayed)."""
    target = back or request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if target == "/":
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/login?next=" + quote(target, safe=""), status_code=303)


def _safe_next(value: str) -> str:
    """Only a path on this site: never '//evil.example' or 'https://…' (an open redirect)."""
    if not value.startswith("/") or value.startswith("//") or "\\" in value or "\n" in value:
        return "/"
    return value


def _user_message(exc: Exception) -> str:
    text = str(exc) or "That did not work."
    # The API's hint about force=true means the "send anyway" box here.
    return text.split(" (send again with force=true")[0]


# -- login / logout -------------------------------------------------------------------------------


def _login_page(
    request: Request,
    error: str | None,
    email: str,
    next_url: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = _render(
        request,
        "login.html",
        {
            "error": error,
            "email": email,
            "next": next_url,
            "login_token": token,
            "demo": _container(request).settings.mode != "production",
        },
        status_code=status_code,
    )
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", max_age=3600, path="/login")
    response.headers.update(headers or {})
    return response


@router.get("/login", response_model=None)
def login_page(request: Request, next: str = "/") -> Response:
    if _caller(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, None, "", _safe_next(next))


@router.post("/login", response_model=None)
def login_submit(
    request: Request,
    email: str = Form(""),
    password: str = Form(""),
    login_token: str = Form(""),
    next: str = Form("/"),
) -> Response:
    container = _container(request)
    target = _safe_next(next)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    # The double-submit cookie alone is not enough against a page of the same site (another
    # subdomain can plant cookies), so the browser's own word on where the form came from counts too.
    if (
        not expected
        or not hmac.compare_digest(login_token.encode(), expected.encode())
        or cross_origin(request.headers)
    ):
        problem = "This form expired (or cookies are blocked); please log in again."
        return _login_page(request, problem, email, target, 400)
    settings = container.settings
    try:
        _user, cookie = authenticate(
            container.sessions,
            email,
            password,
            client_address(request),
            LoginLimits.from_settings(settings),
            settings.session_days,
        )
    except Throttled as exc:
        message = str(exc).capitalize() + "."
        return _login_page(request, message, email, target, 429, {"Retry-After": str(exc.retry_after)})
    except Unauthorized as exc:
        return _login_page(request, str(exc).capitalize() + ".", email, target, 401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        samesite="lax",
        secure=container.settings.mode == "production",
        max_age=container.settings.session_days * 86400,
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.get("/logout", response_model=None)
def logout_page(request: Request) -> Response:
    # Logging out changes state, so GET only asks; the button POSTs with the CSRF token.
    caller = _caller(request)
    if caller is None:
        return RedirectResponse("/login", status_code=303)
    return _render(request, "logout.html", {}, caller=caller)


@router.post("/logout", response_model=None)
def logout_submit(request: Request, csrf: str = Form("")) -> Response:
    if not _csrf_ok(request, csrf):
        return _redirect(request, "/logout", "This form expired; please try again.", "error")
    cookie = request.cookies.get(SESSION_COOKIE, "")
    with transaction(_container(request).sessions) as session:
        logout(session, cookie)
    response = _redirect(request, "/login", "You are logged out.")
    response.delete_cookie(SESSION_COOKIE)
    return response


# -- the inbox ------------------------------------------------------------------------------------


def _intent_names(container: Container, org_id: int) -> list[str]:
    with container.sessions() as session:
        custom = set(session.scalars(select(Intent.name).where(Intent.org_id == org_id)))
    return sorted(custom | {d.name for d in builtin_intent_definitions()})


@router.get("/", response_class=HTMLResponse, response_model=None)
def inbox(
    request: Request,
    status: str = "",
    department: str = "",
    assignee: str = "",
    language: str = "",
    sentiment: str = "",
    intent: str = "",
    sla: str = "",
    q: str = "",
    cursor: str = "",
) -> Response:
    caller = _caller(request)
    if caller is None:
        return _to_login(request)
    container = _container(request)
    chosen = {
        "status": status,
        "department": department,
        "assignee": assignee,
        "language": language,
        "sentiment": sentiment,
        "intent": intent,
        "sla": sla,
        "q": q,
    }
    filters = ConversationFilters(
        status=None if status == "all" else [status] if status else ACTIVE_STATUSES,
        department=department or None,
        assignee=assignee or None,
        language=language or None,
        sentiment=sentiment or None,
        intent=intent or None,
        sla=sla or None,
        q=q.strip() or None,
    )
    error = None
    status_code = 200
    try:
        page = container.conversations.page(caller.scope, filters, cursor or None, PAGE_SIZE)
        items, next_cursor = page.items, page.next_cursor
    except UserError as exc:
        items, next_cursor, error, status_code = [], None, str(exc), exc.status_code
    params = {k: v for k, v in chosen.items() if v}
    next_url = "/?" + urlencode({**params, "cursor": next_cursor}) if next_cursor else None
    first_url = ("/?" + urlencode(params) if params else "/") if cursor else None
    with container.sessions() as session:
        departments = orgs.departments(session, caller.scope.org_id)
    visible_departments = [d for d in departments if caller.scope.sees_department(d.id)]
    return _render(
        request,
        "inbox.html",
        {
            "items": items,
            "next_url": next_url,
            "first_url": first_url,
            "departments": visible_departments,
            "intents": _intent_names(container, caller.scope.org_id),
            "statuses": STATUSES,
            "languages": LANGUAGES,
            "sentiments": [s.value for s in Sentiment],
            "priorities": [p.value for p in Priority],
            "sla_states": SLA_STATES,
            "f": chosen,
            "filtered": any(chosen[k] for k in FILTER_KEYS),
        },
        caller=caller,
        status_code=status_code,
        flash={"message": error, "kind": "error"} if error else None,
    )


# -- one conversation -----------------------------------------------------------------------------


def _conversation_page(
    request: Request,
    caller: Caller,
    detail: ConversationDetail,
    *,
    status_code: int = 200,
    flash: dict[str, str] | None = None,
    draft: dict[str, str] | None = None,
    offer: str | None = None,
) -> HTMLResponse:
    conversation = detail.conversation
    with _container(request).sessions() as session:
        departments = orgs.departments(session, caller.scope.org_id)
        dept_id = conversation.department.id if conversation.department else None
        members = orgs.department_members(session, dept_id) if dept_id is not None else []
        load = orgs.open_counts(session, [m.id for m in members])
        agents = [
            {"id": m.id, "name": m.name, "handle": m.handle, "open": load.get(m.id, 0)}
            for m in members
            if m.role != "viewer"
        ]
    drafts = [m for m in detail.messages if m.delivery_status == "draft"]
    try:
        customer: ContactDetail | None = ContactService(_container(request).sessions).detail(
            caller.scope, conversation.contact.id
        )
    except NotFound:
        customer = None
    return _render(
        request,
        "conversation.html",
        {
            "customer": customer,
            "d": detail,
            "c": conversation,
            "agents": agents,
            "is_member": any(a["id"] == caller.scope.user_id for a in agents),
            "departments": [d for d in departments if d.id != dept_id],
            "snooze_hours": SNOOZE_HOURS,
            "last_seen": max((m.id for m in detail.messages), default=0),
            "draft": draft or {},
            "offer": offer,
            "has_drafts": bool(drafts),
        },
        caller=caller,
        status_code=status_code,
        flash=flash,
    )


_API_PREFIXES = (
    "/api/",
    "/webhooks/",
    "/webchat/",
    "/static/",
    "/docs",
    "/openapi",
    "/redoc",
    "/healthz",
    "/readyz",
)


def wants_page(request: Request) -> bool:
    """A person's browser asking for a page (not an API client): errors should be a page too."""
    path = request.url.path
    return (
        request.method in ("GET", "HEAD")
        and not path.startswith(_API_PREFIXES)
        and "text/html" in request.headers.get("accept", "")
    )


def error_page(request: Request, status_code: int, detail: str) -> HTMLResponse:
    """The HTML twin of the API's JSON errors, for a mistyped or stale address in the browser."""
    title = {404: "Not found", 422: "Not found", 405: "Not allowed"}.get(status_code, "Something went wrong")
    if status_code == 422:
        # A page address with a malformed id (/conversations/abc) names nothing that exists.
        status_code, message = 404, "There is no such page: the address is not one RelayDesk knows."
    elif status_code == 404:
        message = "There is no such page: the address is not one RelayDesk knows."
    else:
        message = detail
    try:
        caller = _caller(request)
    except DBAPIError:
        caller = None  # the page must still render when the database is what failed
    return _render(
        request, "error.html", {"title": title, "message": message}, caller=caller, status_code=status_code
    )


def _not_found(request: Request, caller: Caller, message: str) -> HTMLResponse:
    return _render(
        request,
        "error.html",
        {"title": "Not found", "message": message},
        caller=caller,
        status_code=404,
    )


@router.get("/conversations/{conversation_id}", response_class=HTMLResponse, response_model=None)
def conversation_page(request: Request, conversation_id: int) -> Response:
    caller = _caller(request)
    if caller is None:
        return _to_login(request)
    service = _container(request).conversations
    try:
        if caller.scope.can_write:
            # Colleagues opening the same conversation see that someone is on it.
            service.touch_presence(caller.scope, conversation_id, "viewing")
        detail = service.detail(caller.scope, conversation_id)
    except NotFound as exc:
        return _not_found(request, caller, str(exc).capitalize() + ".")
    return _conversation_page(request, caller, detail)


def _act(
    request: Request,
    conversation_id: int,
    csrf: str,
    action: Callable[[Scope], str],
    *,
    draft: dict[str, str] | None = None,
    offer: Callable[[Exception], str | None] | None = None,
) -> Response:
    """Run one change; success redirects with a message, an error re-renders the page with it.

    Re-rendering (not redirecting) on error keeps what the agent typed in the form.
    """
    caller = _caller(request)
    if caller is None:
        return _to_login(request, f"/conversations/{conversation_id}")
    service = _container(request).conversations
    problem: Exception
    if not _csrf_ok(request, csrf):
        problem, status_code = Forbidden("This form expired; please try again."), 403
    else:
        try:
            message: str = action(caller.scope)
        except (UserError, Forbidden) as exc:
            problem = exc
            status_code = exc.status_code if isinstance(exc, UserError) else 403
        else:
            try:
                service.detail(caller.scope, conversation_id)
            except NotFound:
                # Handed to a team the caller is not in: it has left their inbox.
                return _redirect(request, "/", message + " It is no longer in your inbox.")
            return _redirect(request, f"/conversations/{conversation_id}", message)
    try:
        detail = service.detail(caller.scope, conversation_id)
    except NotFound as exc:
        return _not_found(request, caller, str(exc).capitalize() + ".")
    return _conversation_page(
        request,
        caller,
        detail,
        status_code=status_code,
        flash={"message": _user_message(problem), "kind": "error"},
        draft=draft,
        offer=offer(problem) if offer else None,
    )


def _required(text: str, what: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise UserError(f"{what} is empty; write something first.")
    return cleaned


@router.post("/conversations/{conversation_id}/reply", response_model=None)
def reply_submit(
    request: Request,
    conversation_id: int,
    csrf: str = Form(""),
    text: str = Form(""),
    wait: str = Form(""),
    last_seen: str = Form(""),
    force: str = Form(""),
    override: str = Form(""),
) -> Response:
    def run(scope: Scope) -> str:
        service = _container(request).conversations
        _out, message_id = service.reply(
            scope,
            conversation_id,
            _required(text, "The reply"),
            set_pending=bool(wait),
            last_seen_message_id=int(last_seen) if last_seen.isdigit() else None,
            force=bool(force),
            override_guidelines=bool(override),
        )
        held = service.held_reply(scope, conversation_id, message_id)
        if held is not None:
            # Not sent: saying so, and who must release it, keeps the agent from telling the
            # customer "we answered" and the approver from being a mystery.
            return f"Reply not sent yet: it {held.sentence()}."
        return "Reply sent; waiting for the customer." if wait else "Reply sent."

    return _act(
        request,
        conversation_id,
        csrf,
        run,
        draft={"reply": text},
        offer=_reply_offer,
    )


def _reply_offer(problem: Exception) -> str | None:
    """What the agent may choose after a refused reply: send anyway, or send for approval."""
    if isinstance(problem, Conflict):
        return "force"
    if isinstance(problem, Refused) and "guidelines" in str(problem):
        return "override"
    return None


@router.post("/conversations/{conversation_id}/note", response_model=None)
def note_submit(
    request: Request, conversation_id: int, csrf: str = Form(""), text: str = Form("")
) -> Response:
    def run(scope: Scope) -> str:
        _container(request).conversations.note(scope, conversation_id, _required(text, "The note"))
        return "Note added."

    return _act(request, conversation_id, csrf, run, draft={"note": text})


@router.post("/conversations/{conversation_id}/assign", response_model=None)
def assign_submit(
    request: Request, conversation_id: int, csrf: str = Form(""), assignee_id: str = Form("")
) -> Response:
    def run(scope: Scope) -> str:
        if assignee_id == "me":
            target: int | None = scope.user_id
        elif assignee_id.isdigit():
            target = int(assignee_id)
        elif assignee_id == "":
            target = None
        else:
            raise UserError("Choose an agent, or the queue.")
        out = _container(request).conversations.assign(scope, conversation_id, target)
        return f"Assigned to @{out.assignee.key}." if out.assignee else "Back in the department queue."

    return _act(request, conversation_id, csrf, run)


@router.post("/conversations/{conversation_id}/transfer", response_model=None)
def transfer_submit(
    request: Request,
    conversation_id: int,
    csrf: str = Form(""),
    department: str = Form(""),
    note: str = Form(""),
) -> Response:
    def run(scope: Scope) -> str:
        if not department:
            raise UserError("Choose the department to hand off to.")
        cleaned = note.strip()
        if not cleaned:
            raise UserError("A hand-off needs a note for the new team.")
        out = _container(request).conversations.transfer(scope, conversation_id, department, cleaned)
        name = out.department.name if out.department else department
        return f"Transferred to {name}."

    return _act(request, conversation_id, csrf, run, draft={"transfer": note})


@router.post("/conversations/{conversation_id}/status", response_model=None)
def status_submit(
    request: Request,
    conversation_id: int,
    csrf: str = Form(""),
    action: str = Form(""),
    hours: str = Form(""),
) -> Response:
    done = {
        "resolve": "Resolved.",
        "reopen": "Reopened.",
        "pending": "Waiting for the customer.",
        "open": "Open again.",
    }

    def run(scope: Scope) -> str:
        service = _container(request).conversations
        if action == "snooze":
            if not hours.isdigit() or int(hours) not in SNOOZE_HOURS:
                raise UserError("Choose how long to snooze.")
            until = utcnow() + timedelta(hours=int(hours))
            service.change_status(scope, conversation_id, "snooze", until=until)
            return f"Snoozed until {format_time(until, _zone_of(request, scope), utcnow(), full=True)}."
        if action not in done:
            raise UserError(f"Unknown action {action!r}.")
        service.change_status(scope, conversation_id, action)
        return done[action]

    return _act(request, conversation_id, csrf, run)


@router.post("/conversations/{conversation_id}/messages/{message_id}/review", response_model=None)
def review_submit(
    request: Request,
    conversation_id: int,
    message_id: int,
    csrf: str = Form(""),
    decision: str = Form(""),
) -> Response:
    def run(scope: Scope) -> str:
        if decision not in ("approve", "reject"):
            raise UserError("Approve or reject the reply.")
        service = _container(request).conversations
        service.review_draft(scope, conversation_id, message_id, decision == "approve")
        return "Reply approved and sent." if decision == "approve" else "Reply rejected."

    return _act(request, conversation_id, csrf, run)


# -- reports --------------------------------------------------------------------------------------


@router.get("/reports", response_class=HTMLResponse, response_model=None)
def reports(request: Request, days: str = "30") -> Response:
    caller = _caller(request)
    if caller is None:
        return _to_login(request)
    period = int(days) if days.isdigit() and int(days) in REPORT_DAYS else None
    since = utcnow() - timedelta(days=period) if period else None
    with _container(request).sessions() as session:
        summary = kpi_summary(session, caller.scope, since=since)
        org = session.get(Organization, caller.scope.org_id)
        tz = org.default_timezone if org else "UTC"
        # The plan uses the period's traffic (four weeks for "all time") and the API's defaults.
        staffing = staffing_plan(session, caller.scope, days=period or 28, tz=tz)
    return _render(
        request,
        "reports.html",
        {
            "s": summary,
            "days": period,
            "choices": REPORT_DAYS,
            "staffing": staffing,
            "staffing_tz": tz,
            "staffing_peak": max((h.scheduled_agents for h in staffing), default=0),
        },
        caller=caller,
    )
