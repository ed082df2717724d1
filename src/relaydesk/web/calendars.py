"""Dates and digits the way each reader expects them (pure: no I/O).

"local" follows the language's own convention: Persian readers get the Solar Hijri calendar
(the one on Iranian calendars and documents) with Persian digits, Thai readers the Buddhist era
(Gregorian year + 543), Arabic readers Arabic-Indic digits (CLDR's default numbering for
Arabic). "gregorian" keeps the Gregorian calendar and Latin digits in every language, for people
who work with partners abroad. Month names come from CLDR through Babel.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

import jdatetime
from babel.dates import get_month_names

# The numbering systems our languages use by default (CLDR names).
_DIGITS = {
    "arab": "٠١٢٣٤٥٦٧٨٩",
    "arabext": "۰۱۲۳۴۵۶۷۸۹",
}
_NATIVE_NUMBERING = {"fa": "arabext", "ar": "arab"}
# Solar Hijri month names as Iranians write them.
_SOLAR_HIJRI_MONTHS = (
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)
BUDDHIST_ERA_OFFSET = 543


def native_digits(text: str, locale: str, calendar: str) -> str:
    """`text` with 0-9 written in the language's own digits when it uses its local convention."""
    system = _NATIVE_NUMBERING.get(locale) if calendar == "local" else None
    if system is None:
        return text
    return text.translate(str.maketrans("0123456789", _DIGITS[system]))


@cache
def _months(locale: str) -> dict[int, str]:
    return dict(get_month_names("abbreviated", locale=locale))


def day_month_year(moment: datetime, locale: str, calendar: str) -> tuple[int, str, int]:
    """(day, month name, year) of a local moment in the reader's calendar."""
    if calendar == "local" and locale == "fa":
        solar = jdatetime.date.fromgregorian(date=moment.date())
        return solar.day, _SOLAR_HIJRI_MONTHS[solar.month - 1], solar.year
    year = moment.year + (BUDDHIST_ERA_OFFSET if calendar == "local" and locale == "th" else 0)
    return moment.day, _months(locale)[moment.month], year


def date_text(moment: datetime, locale: str, calendar: str, *, with_year: bool) -> str:
    day, month, year = day_month_year(moment, locale, calendar)
    text = f"{day} {month} {year}" if with_year else f"{day} {month}"
    return native_digits(text, locale, calendar)


def same_year(a: datetime, b: datetime, locale: str, calendar: str) -> bool:
    """Whether two local moments fall in the same year of the reader's calendar."""
    return day_month_year(a, locale, calendar)[2] == day_month_year(b, locale, calendar)[2]
