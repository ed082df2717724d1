"""Settings: one place of the organisation tree: its name, time zone and hours, the places under it.

Hours are a named schedule. The page shows the one the place keeps (its own, or inherited from the
place above) and how many places use it: changing it changes it for all of them, which the form
says before it is sent. Whoever may not change a shared schedule (a manager whose places share it
with others) saves her hours as a new schedule for this place instead. Mistakes are said next to
their field and the form comes back as it was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from relaydesk.core.errors import Forbidden, NotFound, UserError
from relaydesk.db import reading, transaction
from relaydesk.orgs.location_access import LocationAction
from relaydesk.orgs.location_service import location_service
from relaydesk.web.errors import not_found
from relaydesk.web.hours_form import HoursForm, day_names, from_answer, summary, to_form
from relaydesk.web.i18n import _, ngettext
from relaydesk.web.rendering import redirect, render, user_message
from relaydesk.web.session import Caller, container_of, csrf_ok, current_caller, to_login
from relaydesk.web.settings_locations import PAGE, ZONES, field, forbidden, place_url

router = APIRouter(include_in_schema=False)


def _uses(counts: dict[str, Any]) -> str:
    words: dict[str, Callable[[int], str]] = {
        "children": lambda n: ngettext("%(num)s place under it", "%(num)s places under it", n),
        "conversations": lambda n: ngettext("%(num)s conversation", "%(num)s conversations", n),
        "accounts": lambda n: ngettext("%(num)s channel account", "%(num)s channel accounts", n),
        "people": lambda n: ngettext("%(num)s person limited to it", "%(num)s people limited to it", n),
    }
    return ", ".join(
        say(int(counts[what])) % {"num": int(counts[what])}
        for what, say in words.items()
        if int(counts.get(what) or 0)
    )


def _problem(exc: UserError) -> str:
    if exc.extra.get("field") == "delete":
        return _(
            "It cannot be deleted: it still has %(uses)s. Move or delete them first.",
            uses=_uses(exc.extra),
        )
    text = user_message(exc)
    # The service says "field: what is wrong"; beside the field the name is already there.
    head, _sep, rest = text.partition(": ")
    return rest if rest and " " not in head else text


def _place_page(
    request: Request,
    caller: Caller,
    key: str,
    *,
    page: int = 1,
    errors: dict[str, str] | None = None,
    typed: dict[str, Any] | None = None,
    hours: HoursForm | None = None,
    status: int = 200,
) -> HTMLResponse:
    with reading(container_of(request).sessions) as session:
        try:
            detail = location_service.detail(session, caller.scope, key, page)
        except NotFound:
            return not_found(
                request, caller, _("There is no place with that key in your part of the organisation.")
            )
        schedules = location_service.schedules(session, caller.scope)
    schedule = detail.schedule
    errors = errors or {}
    context = {
        "d": detail,
        "p": detail.place,
        "schedule": schedule,
        "schedules": schedules,
        "typed": typed or {},
        "errors": errors,
        "hours": hours or to_form(schedule.weekly if schedule else {}, schedule.holidays if schedule else []),
        "day_names": day_names(),
        "summary": summary(schedule.weekly) if schedule else summary({}),
        "zones": ZONES,
        "place_url": place_url,
        "may_bulk": location_service.may(caller.scope, LocationAction.HOURS),
    }
    flash = {"message": " ".join(dict.fromkeys(errors.values())), "kind": "error"} if errors else None
    return render(request, "settings_location.html", context, caller=caller, status_code=status, flash=flash)


@router.get(PAGE + "/{key}", response_class=HTMLResponse, response_model=None)
def place_page(request: Request, key: str, page: int = 1) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    if not location_service.may(caller.scope, LocationAction.VIEW):
        return forbidden(request, caller)
    return _place_page(request, caller, key, page=page)


async def _posted(request: Request, key: str) -> tuple[Caller | None, FormData | None, Response | None]:
    caller = await run_in_threadpool(current_caller, request)
    if caller is None:
        return None, None, to_login(request, place_url(key))
    answer = await request.form()
    if not csrf_ok(request, field(answer, "csrf")):
        return (
            None,
            None,
            redirect(request, place_url(key), _("This form expired; please try again."), "error"),
        )
    if not location_service.may(caller.scope, LocationAction.VIEW):
        return None, None, forbidden(request, caller)
    return caller, answer, None


async def _save(
    request: Request,
    caller: Caller,
    key: str,
    change: Any,
    *,
    said: str,
    fields: dict[str, str],
    typed: dict[str, Any],
    hours: HoursForm | None = None,
    goto: str | None = None,
) -> Response:
    """Run `change(session)` in a transaction; on a refusal the page again, the mistake beside its field."""
    container = container_of(request)

    def run() -> None:
        with transaction(container.sessions) as session:
            change(session)

    try:
        await run_in_threadpool(run)
    except NotFound as exc:
        if exc.extra.get("field"):
            errors = {fields.get(str(exc.extra["field"]), "form"): _problem(exc)}
            return await run_in_threadpool(
                lambda: _place_page(request, caller, key, errors=errors, typed=typed, hours=hours, status=422)
            )
        return redirect(request, PAGE, _("There is no place with that key any more."), "error")
    except Forbidden as exc:
        errors = {"form": _("Not allowed: %(why)s", why=str(exc))}
        return await run_in_threadpool(
            lambda: _place_page(request, caller, key, errors=errors, typed=typed, hours=hours, status=403)
        )
    except UserError as exc:
        name = fields.get(str(exc.extra.get("field", "")), "form")
        errors = {name: _problem(exc)}
        return await run_in_threadpool(
            lambda: _place_page(request, caller, key, errors=errors, typed=typed, hours=hours, status=422)
        )
    return redirect(request, goto or place_url(key), said)


@router.post(PAGE + "/{key}/name", response_model=None)
async def rename(request: Request, key: str) -> Response:
    caller, answer, stop = await _posted(request, key)
    if stop is not None or caller is None or answer is None:
        return stop or redirect(request, PAGE)
    name = field(answer, "name")
    return await _save(
        request,
        caller,
        key,
        lambda session: location_service.rename(session, caller.scope, key, name, via="web"),
        said=_("The name is saved."),
        fields={"name": "name"},
        typed={"name": name},
    )


@router.post(PAGE + "/{key}/hours", response_model=None)
async def set_hours(request: Request, key: str) -> Response:
    """The place's time zone and which named schedule it uses."""
    caller, answer, stop = await _posted(request, key)
    if stop is not None or caller is None or answer is None:
        return stop or redirect(request, PAGE)
    zone, schedule = field(answer, "timezone"), field(answer, "schedule")
    return await _save(
        request,
        caller,
        key,
        lambda session: location_service.set_hours(
            session, caller.scope, key, timezone=zone, schedule=schedule, via="web"
        ),
        said=_("The time zone and hours are saved."),
        fields={"timezone": "timezone", "business_hours": "schedule"},
        typed={"timezone": zone, "schedule": schedule},
    )


@router.post(PAGE + "/{key}/schedule", response_model=None)
async def edit_schedule(request: Request, key: str) -> Response:
    """Days, times and holidays: for every place using the schedule, or as a new one for this place."""
    caller, answer, stop = await _posted(request, key)
    if stop is not None or caller is None or answer is None:
        return stop or redirect(request, PAGE)
    form, weekly, holidays, problems = from_answer(lambda n: field(answer, n))
    mode = field(answer, "mode")
    typed = {
        "mode": mode,
        "schedule_name": field(answer, "schedule_name"),
        "new_key": field(answer, "new_key"),
        "new_name": field(answer, "new_name"),
    }
    if problems:
        return await run_in_threadpool(
            lambda: _place_page(request, caller, key, errors=problems, typed=typed, hours=form, status=422)
        )
    if mode == "new":

        def change(session: Any) -> None:
            location_service.new_schedule(
                session, caller.scope, key, typed["new_key"], typed["new_name"], weekly, holidays, via="web"
            )

        said = _("The new schedule %(name)s is saved and this place uses it.", name=typed["new_name"])
        fields = {"key": "new_key", "name": "new_name", "weekly": "always", "holidays": "holidays"}
    else:
        shared = field(answer, "schedule_key")

        def change(session: Any) -> None:
            location_service.edit_schedule(
                session, caller.scope, shared, typed["schedule_name"], weekly, holidays, via="web"
            )

        said = _("The schedule is saved for every place that uses it.")
        fields = {"name": "schedule_name", "weekly": "always", "holidays": "holidays"}
    return await _save(request, caller, key, change, said=said, fields=fields, typed=typed, hours=form)


@router.post(PAGE + "/{key}/add", response_model=None)
async def add_child(request: Request, key: str) -> Response:
    caller, answer, stop = await _posted(request, key)
    if stop is not None or caller is None or answer is None:
        return stop or redirect(request, PAGE)
    typed = {name: field(answer, f"add_{name}") for name in ("kind", "key", "name", "timezone")}
    return await _save(
        request,
        caller,
        key,
        lambda session: location_service.add(
            session,
            caller.scope,
            key,
            typed["kind"],
            typed["key"],
            typed["name"],
            typed["timezone"] or None,
            via="web",
        ),
        said=_("%(name)s is added.", name=typed["name"]),
        fields={"kind": "add_kind", "key": "add_key", "name": "add_name", "timezone": "add_timezone"},
        typed={f"add_{k}": v for k, v in typed.items()},
        goto=place_url(typed["key"]) if typed["key"] else None,
    )


@router.post(PAGE + "/{key}/delete", response_model=None)
async def delete(request: Request, key: str) -> Response:
    caller, answer, stop = await _posted(request, key)
    if stop is not None or caller is None or answer is None:
        return stop or redirect(request, PAGE)
    parent = field(answer, "parent")
    return await _save(
        request,
        caller,
        key,
        lambda session: location_service.delete(session, caller.scope, key, via="web"),
        said=_("%(key)s is deleted.", key=key),
        fields={"delete": "delete"},
        typed={},
        goto=place_url(parent) if parent else PAGE,
    )
