"""How the pages show names, customer text and times (pure: no I/O).

Names: a customer picks their own display name, so it may carry Unicode bidi controls: a name
`RTL \u202egnp.exe` shows as "RTL exe.png" and, unisolated, reorders the text around it. Names
lose the explicit embedding/override/isolate controls and are shown isolated (`<bdi>`).

Text: messages and notes keep every character, but sit in an isolating element with
`dir="auto"`. Mentions, links and `#12` references inside them are split out (`segments`) and
isolated left to right: then `@reza` at the start of a Persian note neither decides the note's
direction (dir="auto" skips isolated children) nor shows as "reza@", and `#9` never turns "9#".

Times: one formatter, in the viewer's time zone, for every time on every page.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from relaydesk.core.timeutil import as_utc
from relaydesk.web.calendars import date_text, native_digits, same_year

# LRE RLE PDF LRO RLO, LRI RLI FSI PDI: the explicit embedding, override and isolate controls.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_STRIP_CONTROLS = str.maketrans(dict.fromkeys(BIDI_CONTROLS))
FSI, PDI = "\u2068", "\u2069"
UTC = ZoneInfo("UTC")

# Left-to-right islands in free text: @mentions, links, #123 references, ISO-8601 times.
_ISLAND = re.compile(
    r"(?P<time>\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?(?![\d:]))"
    r"|(?P<ltr>(?<![\w@])@[A-Za-z0-9_][A-Za-z0-9_.-]*[A-Za-z0-9_]|(?<![\w@])@[A-Za-z0-9_]"
    r"|\bhttps?://[^\s<>\"]+[^\s<>\".,;:!?)\]]"
    r"|(?<![\w#&])#\d+\b)"
)


def clean_name(value: object) -> str:
    """A display name or handle without bidi embedding/override/isolate controls."""
    if value is None:
        return ""
    return str(value).translate(_STRIP_CONTROLS)


def initials(value: object) -> str:
    """Up to two letters for a person's avatar: the first letter of the first two words of the
    name ("Lee Wong" -> "LW", "مینا رضایی" -> "مر", "สมชาย ใจดี" -> "สจ"), a handle's first letter
    ("@dan" -> "D"), or "?" when there is no letter. A letter keeps the marks written on it."""
    words = [w for w in clean_name(value).replace("@", " ").split() if any(ch.isalpha() for ch in w)]
    out = []
    for word in words[:2]:
        start = next(i for i, ch in enumerate(word) if ch.isalpha())
        # A Thai vowel written before its consonant (เ แ โ ใ ไ) is not what the name starts with.
        if "\u0e40" <= word[start] <= "\u0e44" and start + 1 < len(word):
            start += 1
        end = start + 1
        while end < len(word) and unicodedata.category(word[end]).startswith("M"):
            end += 1
        out.append(word[start:end].upper())
    return "".join(out) or "?"


def isolated(value: object) -> str:
    """A name for places that hold only text (<option>, <title>): cleaned and wrapped in FSI…PDI."""
    cleaned = clean_name(value)
    return f"{FSI}{cleaned}{PDI}" if cleaned else ""


def segments(text: object) -> list[tuple[str, str | datetime]]:
    """Free text split into ("text", str), ("ltr", str) and ("time", datetime) parts, in order.

    The template isolates "ltr" parts and formats "time" parts like every other time; joining
    the parts gives the text back unchanged (times as written).
    """
    if text is None:
        return []
    source = str(text)
    parts: list[tuple[str, str | datetime]] = []
    position = 0
    for found in _ISLAND.finditer(source):
        if found.start() > position:
            parts.append(("text", source[position : found.start()]))
        if found.group("time"):
            moment = _parse_time(found.group("time"))
            parts.append(("time", moment) if moment is not None else ("text", found.group(0)))
        else:
            parts.append(("ltr", found.group(0)))
        position = found.end()
    if position < len(source):
        parts.append(("text", source[position:]))
    return parts


def _parse_time(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    # Stored times are UTC; one written without an offset is UTC too.
    return as_utc(moment)


def zone_named(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def viewer_zone(user_zone: str | None, location_zone: str | None, org_zone: str | None) -> ZoneInfo:
    """The zone a person reads times in: their own, else their location's, else the org's, else UTC.

    People are stored with "UTC" when nobody set their zone (the column's default), so a person's
    "UTC" defers to their location's or organisation's zone when that one is set.
    """
    for name in (user_zone, location_zone, org_zone):
        zone = zone_named(name)
        if zone is not None and name != "UTC":
            return zone
    return UTC


def format_time(
    value: datetime | None,
    zone: ZoneInfo,
    now: datetime,
    *,
    full: bool = False,
    locale: str = "en",
    calendar: str = "local",
) -> str:
    """The one way the pages show a moment: "14:05" today, "3 Mar 14:05" this year, else with the year.

    `full` always includes the date, the year and the zone (for tooltips and flash messages).
    Day, month and year are in the reader's calendar and digits (`calendars`).
    """
    moment = as_utc(value)
    if moment is None:
        return "—"
    local = moment.astimezone(zone)
    today = as_utc(now).astimezone(zone)  # type: ignore[union-attr]
    clock = native_digits(f"{local:%H:%M}", locale, calendar)
    if full:
        return f"{date_text(local, locale, calendar, with_year=True)} {clock} ({zone.key})"
    if local.date() == today.date():
        return clock
    with_year = not same_year(local, today, locale, calendar)
    return f"{date_text(local, locale, calendar, with_year=with_year)} {clock}"
