"""`business_hours:`: named weekly opening hours and holidays, used by locations and SLA policies."""

from __future__ import annotations

from datetime import date
from typing import Any

from relaydesk.config.check import Checker
from relaydesk.config.schemas import BusinessHoursConfig
from relaydesk.config.upsert import Upserter
from relaydesk.models import BusinessHours
from relaydesk.sla.clock import parse_weekly


def check(c: Checker, hours: list[tuple[int, BusinessHoursConfig]]) -> None:
    c.duplicates("business_hours", [(i, h.key) for i, h in hours], "business hours key")
    for index, item in hours:
        try:
            parse_weekly({day: [list(iv) for iv in spans] for day, spans in item.weekly.items()})
        except (ValueError, TypeError) as exc:
            c.problem(("business_hours", index, "weekly"), str(exc))
        seen: set[date] = set()
        for j, holiday in enumerate(item.holidays):
            if holiday in seen:
                c.warn(("business_hours", index, "holidays", j), f"holiday {holiday} is listed twice")
            seen.add(holiday)
        if item.weekly and all(not spans for spans in item.weekly.values()):
            c.warn(("business_hours", index, "weekly"), "every listed day is empty: never open")


def apply(u: Upserter) -> dict[str, BusinessHours]:
    existing = u.rows(BusinessHours, "key")
    if not u.mentions("business_hours"):
        return existing
    kept: dict[str, BusinessHours] = {}
    for spec in u.config.business_hours:
        values = spec.model_dump(mode="json")
        kept[spec.key] = u.upsert("business_hours", existing.get(spec.key), BusinessHours, values)
    u.session.flush()
    return kept


def delete_leftovers(u: Upserter, kept: dict[str, BusinessHours]) -> None:
    # Last, once no location declared in the file points at them any more.
    if not u.mentions("business_hours"):
        return
    for key, row in u.rows(BusinessHours, "key").items():
        if key not in kept:
            u.remove("business_hours", row)


def export(hours: list[BusinessHours]) -> list[dict[str, Any]]:
    return [
        {"key": h.key, "name": h.name, "weekly": dict(h.weekly or {}), "holidays": list(h.holidays or [])}
        for h in hours
    ]
