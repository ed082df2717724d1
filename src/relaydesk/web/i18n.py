"""The pages' languages: which one a person reads, its direction, and its message catalogue.

Catalogues are the gettext `.po` files in `web/locale/`, read with Babel and compiled in memory
when first used: no build step and nothing downloaded, so an air-gapped install has every
language. The language a request renders in lives in a context variable, set once per request
(`use`), so templates, flash messages and error pages all speak the same language.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from gettext import NullTranslations
from pathlib import Path

from babel.core import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT = "en"
COOKIE = "relaydesk_lang"
# How the language is shown in its switcher: in itself, so a reader finds their own.
NAMES: dict[str, str] = {
    "en": "English",
    "fa": "فارسی",
    "ar": "العربية",
    "he": "עברית",
    "th": "ไทย",
}
LOCALES: tuple[str, ...] = tuple(NAMES)
RIGHT_TO_LEFT = frozenset({"fa", "ar", "he"})
CALENDARS = ("local", "gregorian")


@dataclass(frozen=True)
class Reading:
    """How one person reads the pages: language and the local date convention or Gregorian."""

    locale: str = DEFAULT
    calendar: str = "local"

    @property
    def direction(self) -> str:
        return "rtl" if self.locale in RIGHT_TO_LEFT else "ltr"


_ENGLISH = Reading()
_current: ContextVar[Reading | None] = ContextVar("relaydesk_reading", default=None)


def use(reading: Reading) -> None:
    """The language of everything this request renders from here on."""
    _current.set(reading)


def current() -> Reading:
    return _current.get() or _ENGLISH


def supported(code: str | None) -> str | None:
    """`code` if we have its pages ("fa", "fa-IR" -> "fa"), else None."""
    if not code:
        return None
    base = code.strip().replace("_", "-").split("-")[0].lower()
    return base if base in NAMES else None


def from_accept_language(header: str | None) -> str | None:
    """The best of our languages in an Accept-Language header (RFC 9110 q-values), or None."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                continue
        code = supported(tag)
        if code is not None and weight > 0:
            ranked.append((-weight, position, code))
    return min(ranked)[2] if ranked else None


def choose(preference: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The person's stored choice, else the one picked on this browser, else the browser's."""
    return supported(preference) or supported(cookie) or from_accept_language(accept_language) or DEFAULT


@cache
def catalogue(locale: str) -> NullTranslations:
    path = LOCALE_DIR / f"{locale}.po"
    if locale == DEFAULT or not path.exists():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    compiled = io.BytesIO()
    # Fuzzy entries are guesses nobody reviewed: they show in English rather than wrong.
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled)


def gettext(message: str) -> str:
    return catalogue(current().locale).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return catalogue(current().locale).ngettext(singular, plural, n)


def _(message: str, **values: object) -> str:
    """A message in the current language, with `%(name)s` placeholders filled in."""
    text = gettext(message)
    return text % values if values else text


def language_choices(codes: tuple[str, ...]) -> list[tuple[str, str]]:
    """Customer languages for a filter: each in itself, and in the reader's language beside it."""
    reader = current().locale
    out = []
    for code in codes:
        native = NAMES.get(code, code)
        if code == reader:
            out.append((code, native))
            continue
        try:
            translated = Locale.parse(code).get_display_name(reader) or code
        except (ValueError, UnknownLocaleError):
            translated = code
        out.append((code, f"{native} · {translated}"))
    return out


def language_name(code: str | None) -> str:
    """A customer's language named in the reader's language ("Persian", «فارسی»...), or the code."""
    if not code or code == "und":
        return gettext("unknown language")
    try:
        return Locale.parse(code).get_display_name(current().locale) or code
    except (ValueError, UnknownLocaleError):
        return code
