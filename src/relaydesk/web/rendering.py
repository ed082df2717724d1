"""The template environment and the helpers every page answers with: render, redirect, flash."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Iterable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from relaydesk.core.timeutil import as_utc, utcnow
from relaydesk.web import i18n
from relaydesk.web.calendars import date_text, native_digits
from relaydesk.web.findings import composer_names, composer_sentences, finding_text
from relaydesk.web.formatting import UTC, clean_name, format_time, initials, isolated, segments
from relaydesk.web.labels import label, network_name
from relaydesk.web.problems import sentence
from relaydesk.web.session import Caller, container_of, reading_of, session_csrf

HERE = Path(__file__).parent
FLASH_COOKIE = "relaydesk_flash"

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
# The inbox's reading pane: a conversation framed by a page of this site, never by another site.
FRAMED_BY_US = {
    "Content-Security-Policy": SECURITY_HEADERS["Content-Security-Policy"].replace(
        "frame-ancestors 'none'", "frame-ancestors 'self'"
    ),
    "X-Frame-Options": "SAMEORIGIN",
}


# -- formatting for templates ---------------------------------------------------------------------


def _moment(value: object) -> datetime | None:
    """A time stored as ISO text (in a timeline row's facts), or None when it is not one."""
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _iso(value: datetime | None) -> str:
    moment = as_utc(value)
    return moment.isoformat() if moment else ""


@jinja2.pass_context
def _when(context: Any, value: datetime | None, full: bool = False) -> str:
    """Every time on every page goes through here: one format, in the viewer's zone and calendar."""
    zone = context.get("zone") or UTC
    reading = i18n.current()
    return format_time(value, zone, utcnow(), full=full, locale=reading.locale, calendar=reading.calendar)


@jinja2.pass_context
def _drill_time(context: Any, value: object) -> str:
    """A time from a report's link, as every other time shows; unreadable text as written."""
    moment = _moment(value)
    return _when(context, moment, full=True) if moment is not None else str(value)


@jinja2.pass_context
def _day(context: Any, value: date | None, with_year: bool = True) -> str:
    """A calendar day (a report's period) in the reader's calendar and digits."""
    if value is None:
        return "—"
    reading = i18n.current()
    noon = datetime.combine(value, time(12), tzinfo=UTC)
    return date_text(noon, reading.locale, reading.calendar, with_year=with_year)


# Filters that depend on the request's language take the context: Jinja would otherwise fold
# `"all"|label` into a constant when it compiles the template, in whatever language that was.
@jinja2.pass_context
def _label(context: Any, value: object) -> str:
    return label(value)


@jinja2.pass_context
def _network_name(context: Any, value: object) -> str:
    return network_name(value)


@jinja2.pass_context
def _language_name(context: Any, code: str | None) -> str:
    return i18n.language_name(code)


@jinja2.pass_context
def _num_filter(context: Any, value: object) -> str:
    return _num(value)


def _num(value: object) -> str:
    """A number in the reader's digits."""
    reading = i18n.current()
    return native_digits(str(value), reading.locale, reading.calendar)


def _relative(value: datetime | None) -> str:
    """'in 12 min' or '3 h ago': an SLA due time read at a glance."""
    moment = as_utc(value)
    if moment is None:
        return ""
    seconds = (moment - utcnow()).total_seconds()
    text = _span(abs(seconds))
    return i18n._("in %(span)s", span=text) if seconds >= 0 else i18n._("%(span)s ago", span=text)


def _span(seconds: float) -> str:
    if seconds < 60:
        text = i18n._("%(n)s s", n=int(seconds))
    elif seconds < 3600:
        text = i18n._("%(n)s min", n=int(seconds // 60))
    elif seconds < 86400:
        text = i18n._("%(n)s h", n=f"{seconds / 3600:.1f}")
    else:
        text = i18n._("%(n)s d", n=f"{seconds / 86400:.1f}")
    return _num(text)


def _duration(seconds: float | None) -> str:
    return "—" if seconds is None else _span(seconds)


def _percent(share: float | None) -> str:
    return "—" if share is None else _num(f"{100 * share:.0f}%")


def _listed(items: Iterable[object]) -> str:
    """Names as a list in the reader's language ("Persian, Arabic and Thai"; in Persian with its
    own comma and "و")."""
    from babel.lists import format_list

    return format_list([str(item) for item in items], locale=i18n.current().locale)


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
        extensions=["jinja2.ext.i18n"],
    )
    # The request's language is a context variable (`i18n.use`): one environment serves all.
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    # Values people wrote in their own script show as written, not as \u escapes (still HTML-safe).
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
    env.filters.update(
        finding=finding_text,
        iso=_iso,
        moment=_moment,
        when=_when,
        drill_time=_drill_time,
        day=_day,
        relative=_relative,
        duration=_duration,
        percent=_percent,
        num=_num_filter,
        label=_label,
        network=_network_name,
        language_name=_language_name,
        listed=_listed,
        lang=_lang,
        name=clean_name,
        initials=initials,
        isolated=isolated,
        segments=segments,
    )
    env.globals.update(finding_sentences=composer_sentences, finding_names=composer_names)
    return env


TEMPLATES = Jinja2Templates(env=_environment())


def _sign(request: Request, payload: bytes) -> str:
    return hmac.new(container_of(request).box.derive("flash"), payload, hashlib.sha256).hexdigest()[:32]


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


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    caller: Caller | None = None,
    status_code: int = 200,
    flash: dict[str, str] | None = None,
    framed: bool = False,
) -> HTMLResponse:
    i18n.use(reading_of(request, caller.user if caller else None))
    pending = _read_flash(request)
    full = {
        "request": request,
        "csrf": session_csrf(request),
        "user": caller.user if caller else None,
        "scope": caller.scope if caller else None,
        "flash": flash or pending,
        "path": request.url.path,
        "zone": caller.zone if caller else UTC,
        "reading": i18n.current(),
        # The bell's number on every page: one indexed count.
        "unread": container_of(request).notifications.unread_count(caller.scope) if caller else 0,
        "languages_offered": i18n.NAMES,
        **context,
    }
    response = TEMPLATES.TemplateResponse(request, name, full, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    if framed:
        response.headers.update(FRAMED_BY_US)
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(request: Request, url: str, message: str | None = None, kind: str = "ok") -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    if message:
        response.set_cookie(
            FLASH_COOKIE, _flash_value(request, message, kind), httponly=True, samesite="lax", path="/"
        )
    return response


def user_message(exc: Exception) -> str:
    said = sentence(exc)
    if said is not None:
        return said
    text = str(exc) or i18n._("That did not work.")
    # The API's hint about force=true means the "send anyway" box here.
    return text.split(" (send again with force=true")[0]
