"""Settings: the organisation tree (brands, regions, locations), searched and changed many at once.

The tree opens one level at a time: `?open=key,key` lists the nodes whose children are shown, so
every link works without JavaScript and a 1,000-place chain is never drawn whole. A search finds
places by name or key across the caller's part of the organisation, each with the way down to it.
Hours and time zone go to a whole subtree, the places ticked in a search or all its results in
one step that first says how many places change (orgs/location_bulk.py). One place's own page is
settings_location.py. Who may do what: orgs/location_access.py, decided in the service.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import available_timezones

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from relaydesk.core.errors import Forbidden, UserError
from relaydesk.db import reading, transaction
from relaydesk.orgs.location_access import LocationAction
from relaydesk.orgs.location_bulk import BulkTarget, location_bulk
from relaydesk.orgs.location_service import location_service
from relaydesk.web.i18n import _, ngettext
from relaydesk.web.rendering import redirect, render, user_message
from relaydesk.web.session import Caller, container_of, csrf_ok, current_caller, to_login

router = APIRouter(include_in_schema=False)
PAGE = "/settings/locations"
ZONES = tuple(sorted(available_timezones()))


def place_url(key: str, action: str = "") -> str:
    return f"{PAGE}/{quote(key, safe='')}" + (f"/{action}" if action else "")


def forbidden(request: Request, caller: Caller, why: str | None = None) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {
            "title": _("Not allowed"),
            "message": why or _("The organisation tree is for managers, admins and owners."),
        },
        caller=caller,
        status_code=403,
    )


def field(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _tree_url(opened: list[str], toggle: str) -> str:
    keys = [k for k in opened if k != toggle] if toggle in opened else [*opened, toggle]
    return PAGE + (("?" + urlencode({"open": ",".join(keys)})) if keys else "") + f"#place-{toggle}"


def _listing(
    request: Request,
    caller: Caller,
    *,
    opened: list[str],
    search: str = "",
    page: int = 1,
    brand: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    with reading(container_of(request).sessions) as session:
        tree, top_total = location_service.tree(session, caller.scope, opened)
        found = location_service.search(session, caller.scope, search, page) if search else None
        schedules = location_service.schedules(session, caller.scope)
    context: dict[str, Any] = {
        "tree": tree,
        "top_total": top_total,
        "opened": opened,
        "tree_url": lambda key: _tree_url(opened, key),
        "place_url": place_url,
        "search": search,
        "found": found,
        "page_url": lambda n: PAGE + "?" + urlencode({"q": search, "page": n}),
        "schedules": schedules,
        "may_hours": location_service.may(caller.scope, LocationAction.HOURS),
        "may_add_brand": location_service.may(caller.scope, LocationAction.ADD)
        and caller.scope.location_path is None,
        "brand": brand or {"key": "", "name": "", "timezone": ""},
        "zones": ZONES,
        "brand_error": error,
    }
    return render(
        request,
        "settings_locations.html",
        context,
        caller=caller,
        status_code=status,
        flash={"message": error, "kind": "error"} if error else None,
    )


@router.get(PAGE, response_class=HTMLResponse, response_model=None)
def locations_page(
    request: Request, opened: str = Query("", alias="open"), q: str = "", page: int = 1
) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    if not location_service.may(caller.scope, LocationAction.VIEW):
        return forbidden(request, caller)
    keys = [k for k in opened.split(",") if k][:20]
    return _listing(request, caller, opened=keys, search=q.strip()[:200], page=page)


def _target(answer: FormData) -> BulkTarget:
    keys = tuple(v for v in answer.getlist("keys") if isinstance(v, str) and v)
    scope_choice = field(answer, "target")
    if scope_choice == "search":
        return BulkTarget(search=field(answer, "q"))
    if scope_choice == "chosen":
        return BulkTarget(keys=keys)
    return BulkTarget(under=field(answer, "under"))


def _back(answer: FormData) -> str:
    under, q = field(answer, "under"), field(answer, "q")
    if under and field(answer, "target") not in ("search", "chosen"):
        return place_url(under)
    return PAGE + ("?" + urlencode({"q": q}) if q else "")


@router.post(f"{PAGE}/bulk", response_model=None)
async def bulk(request: Request) -> Response:
    """First a confirmation that says how many places change; its button applies the change."""
    caller = await run_in_threadpool(current_caller, request)
    if caller is None:
        return to_login(request, PAGE)
    answer = await request.form()
    back = _back(answer)
    if not csrf_ok(request, field(answer, "csrf")):
        return redirect(request, back, _("This form expired; please try again."), "error")
    if not location_service.may(caller.scope, LocationAction.HOURS):
        return forbidden(request, caller)
    target = _target(answer)
    schedule, zone = field(answer, "schedule") or None, field(answer, "timezone") or None
    container = container_of(request)
    confirmed = field(answer, "confirm") == "1"

    def run() -> Any:
        if confirmed:
            with transaction(container.sessions) as session:
                return location_bulk.apply(session, caller.scope, target, schedule, zone, via="web")
        with reading(container.sessions) as session:
            return location_bulk.preview(session, caller.scope, target, schedule, zone)

    try:
        result = await run_in_threadpool(run)
    except Forbidden as exc:
        return redirect(request, back, _("Not allowed: %(why)s", why=str(exc)), "error")
    except UserError as exc:
        return redirect(
            request, back, _("Nothing was changed: %(problem)s", problem=user_message(exc)), "error"
        )
    if confirmed:
        said = ngettext(
            "%(num)s place now has the new hours.", "%(num)s places now have the new hours.", int(result)
        ) % {"num": int(result)}
        return redirect(request, back, said if result else _("Nothing to change: they had these already."))
    context = {
        "preview": result,
        "target": target,
        "fields": {
            "target": field(answer, "target") or "under",
            "under": target.under or "",
            "q": field(answer, "q"),
            "schedule": schedule or "",
            "timezone": zone or "",
        },
        "back": back,
    }
    return render(request, "settings_locations_bulk.html", context, caller=caller)


@router.post(f"{PAGE}/new-brand", response_model=None)
async def add_brand(request: Request) -> Response:
    caller = await run_in_threadpool(current_caller, request)
    if caller is None:
        return to_login(request, PAGE)
    answer = await request.form()
    if not csrf_ok(request, field(answer, "csrf")):
        return redirect(request, PAGE, _("This form expired; please try again."), "error")
    key, name, zone = field(answer, "key"), field(answer, "name"), field(answer, "timezone")
    container = container_of(request)

    def save() -> None:
        with transaction(container.sessions) as session:
            location_service.add(session, caller.scope, None, "brand", key, name, zone or None, via="web")

    try:
        await run_in_threadpool(save)
    except Forbidden as exc:
        return forbidden(request, caller, _("Not allowed: %(why)s", why=str(exc)))
    except UserError as exc:
        error = _("The brand was not added: %(problem)s", problem=user_message(exc))
        brand = {"key": key, "name": name, "timezone": zone}
        return await run_in_threadpool(
            lambda: _listing(request, caller, opened=[], brand=brand, error=error, status=422)
        )
    return redirect(request, place_url(key), _("The brand %(name)s is added.", name=name))
