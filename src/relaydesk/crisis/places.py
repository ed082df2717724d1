"""Places as the crisis watch sees them (pure): a location or the whole organisation (id 0), its
time zone, and how two places relate in the tree (materialised paths like "/3/17/204/")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from relaydesk.core.timeutil import as_utc
from relaydesk.crisis import detector

ORG_WIDE = 0


@dataclass(frozen=True)
class Place:
    id: int  # 0: the whole organisation
    path: str | None
    zone: ZoneInfo
    name: str


def zone_named(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def minute_of(at: datetime) -> datetime:
    return as_utc(at).replace(second=0, microsecond=0)


def ancestors(path: str) -> list[int]:
    return [int(part) for part in path.split("/") if part.isdigit()]


def describe_surge(series: str, place: str, reading: detector.Reading) -> str:
    what = {"all": "messages", "negative": "negative messages", "public": "public posts and comments"}[series]
    return f"{what} at {place}: {reading.observed} in the last {reading.minutes} min, {reading.expected:.1f} expected"


def brand_of(place: Place) -> int | None:
    """The top of the place's branch (its brand); None for the whole organisation."""
    above = ancestors(place.path) if place.path else []
    return above[0] if above else None


def is_above(upper: Place, lower: Place) -> bool:
    """Whether `upper` is a strict ancestor of `lower` (the whole organisation is above every place)."""
    if upper.id == lower.id:
        return False
    if upper.id == ORG_WIDE:
        return True
    return bool(upper.path and lower.path and lower.path.startswith(upper.path))


def subtree(place: Place, places: dict[int, Place]) -> list[int]:
    return [p.id for p in places.values() if p.path and place.path and p.path.startswith(place.path)]


def related(alert_place: int | None, place: Place, places: dict[int, Place]) -> bool:
    """Whether an alert at `alert_place` covers `place`: the same place, above it or below it."""
    if alert_place is None or place.id == ORG_WIDE:
        return True
    other = places.get(alert_place)
    if other is None or other.path is None or place.path is None:
        return False
    return place.path.startswith(other.path) or other.path.startswith(place.path)
