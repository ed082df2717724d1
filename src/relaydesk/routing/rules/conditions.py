"""Compiled conditions: each check answers for one message and says why, line by line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from relaydesk.routing.rules.keywords import Keyword
from relaydesk.routing.rules.records import RouteInput
from relaydesk.routing.rules.vocabulary import DAYS, FAIL, OK, URGENCY_ORDER, mark, show, show_list
from relaydesk.triage.base import SIGNAL_INTENTS
from relaydesk.triage.normalize import fold


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    lines: list[str]
    facts: list[str]  # short phrases for "because ..." when the check passed


class Context:
    """Per-message values computed once and shared by every rule."""

    def __init__(self, inp: RouteInput) -> None:
        self.inp = inp
        self._text: str | None = None
        self._joined: str | None = None
        self._local: tuple[datetime, str] | None = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = fold(self.inp.text or "")
        return self._text

    @property
    def joined_text(self) -> str:
        """The text with ZWNJ removed instead of spaced (see `Keyword`)."""
        if self._joined is None:
            raw = self.inp.text or ""
            self._joined = fold(raw, join_zwnj=True) if "\u200c" in raw else self.text
        return self._joined

    @property
    def local(self) -> tuple[datetime, str]:
        if self._local is None:
            at = self.inp.at if self.inp.at.tzinfo is not None else self.inp.at.replace(tzinfo=UTC)
            try:
                zone = ZoneInfo(self.inp.timezone)
                label = self.inp.timezone
            except (ZoneInfoNotFoundError, ValueError):
                # A bad zone on one location must not stop routing; the trace says what happened.
                zone, label = ZoneInfo("UTC"), f"UTC (unknown zone {self.inp.timezone!r})"
            self._local = (at.astimezone(zone), label)
        return self._local


class Check(Protocol):
    def check(self, ctx: Context) -> CheckResult: ...

    def describe(self) -> str: ...


_CONTACT_COUNTERS = {
    "followers_at_least": "followers",
    "open_conversations_at_least": "open_conversations",
    "purchases_at_least": "purchases",
}


_INPUT_FIELD = {
    "channel": "channel",
    "account": "account_key",
    "language": "language",
    "intent": "intent",
    "sentiment": "sentiment",
    "stage": "stage",
    "urgency": "urgency",
}


def _language_in(value: str | None, allowed: Sequence[str | None]) -> bool:
    if not value:
        return False
    code = value.lower()
    # A rule for "pt" covers "pt-br"; a rule for "pt-br" does not cover plain "pt".
    return code in allowed or code.split("-")[0] in allowed


@dataclass(frozen=True)
class MemberCheck:
    """`<field>: [values]`: the conversation's value is one of the listed values."""

    field: str
    allowed: tuple[str | None, ...]

    def check(self, ctx: Context) -> CheckResult:
        raw = getattr(ctx.inp, _INPUT_FIELD[self.field])
        value = None if raw is None else str(raw)
        if self.field == "language":
            ok = _language_in(value, self.allowed)
        else:
            ok = value in self.allowed
        if not ok and self.field == "intent":
            # `intent: spam` / `intent: crisis` also mean the signal: an organisation's own
            # intents never include them, and its rules written for the built-ins keep working.
            signal = next((s for s in SIGNAL_INTENTS if s in self.allowed and getattr(ctx.inp, s)), None)
            if signal is not None:
                line = f"intent={show(value)}, {signal} signal ∈ {show_list(self.allowed)} {OK}"
                return CheckResult(True, [line], [f"{signal} signal"])
        sign = "∈" if ok else "∉"
        line = f"{self.field}={show(value)} {sign} {show_list(self.allowed)} {mark(ok)}"
        return CheckResult(ok, [line], [f"{self.field}={show(value)}"])

    def describe(self) -> str:
        return f"{self.field} ∈ {show_list(self.allowed)}"


@dataclass(frozen=True)
class SignalCheck:
    """`spam: true` / `crisis: false` / ...: one of triage's signals is (not) raised."""

    signal: str
    wanted: bool

    def check(self, ctx: Context) -> CheckResult:
        have = bool(getattr(ctx.inp, self.signal))
        ok = have == self.wanted
        shown = "true" if have else "false"
        return CheckResult(ok, [f"{self.signal}={shown} {mark(ok)}"], [f"{self.signal}={shown}"])

    def describe(self) -> str:
        return f"{self.signal}={'true' if self.wanted else 'false'}"


@dataclass(frozen=True)
class LocationCheck:
    """Matches when the conversation's location or any ancestor has one of the keys."""

    keys: tuple[str, ...]

    def check(self, ctx: Context) -> CheckResult:
        have = list(ctx.inp.location_keys or [])
        hits = [k for k in have if k in self.keys]
        ok = bool(hits)
        shown = show_list(hits) if hits else "∅"
        line = f"location {show_list(have)} ∩ {show_list(self.keys)} = {shown} {mark(ok)}"
        return CheckResult(ok, [line], [f"location={hits[0]}"] if hits else [])

    def describe(self) -> str:
        return f"location ∈ {show_list(self.keys)}"


@dataclass(frozen=True)
class UrgencyAtLeastCheck:
    level: str

    def check(self, ctx: Context) -> CheckResult:
        value = str(ctx.inp.urgency) if ctx.inp.urgency is not None else None
        rank = URGENCY_ORDER.index(value) if value in URGENCY_ORDER else -1
        ok = rank >= URGENCY_ORDER.index(self.level)
        sign = "≥" if ok else "<"
        line = f"urgency={show(value)} {sign} {self.level} {mark(ok)}"
        return CheckResult(ok, [line], [f"urgency={show(value)}"])

    def describe(self) -> str:
        return f"urgency ≥ {self.level}"


@dataclass(frozen=True)
class KeywordsCheck:
    keywords: tuple[Keyword, ...]

    def check(self, ctx: Context) -> CheckResult:
        text = ctx.text
        found = next((k for k in self.keywords if k.found_in(text, ctx.joined_text)), None)
        listed = show_list([k.raw for k in self.keywords])
        # The line names the keyword, never the customer's text: traces end up in logs and UIs.
        if found is None:
            return CheckResult(False, [f"keywords {listed}: none found {FAIL}"], [])
        return CheckResult(True, [f"keywords {listed}: found '{found.raw}' {OK}"], [f"keyword '{found.raw}'"])

    def describe(self) -> str:
        return f"keywords {show_list([k.raw for k in self.keywords])}"


def _contact(ctx: Context) -> Mapping[str, Any]:
    contact = ctx.inp.contact
    return contact if isinstance(contact, Mapping) else {}


def _as_count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(value)


@dataclass(frozen=True)
class ContactVipCheck:
    vip: bool

    def check(self, ctx: Context) -> CheckResult:
        value = bool(_contact(ctx).get("vip", False))
        ok = value == self.vip
        fact = "contact is VIP" if value else "contact is not VIP"
        return CheckResult(ok, [f"contact.vip={value}, need {self.vip} {mark(ok)}"], [fact])

    def describe(self) -> str:
        return f"contact.vip = {self.vip}"


@dataclass(frozen=True)
class ContactAtLeastCheck:
    condition: str  # e.g. "followers_at_least"
    minimum: int

    def check(self, ctx: Context) -> CheckResult:
        key = _CONTACT_COUNTERS[self.condition]
        value = _as_count(_contact(ctx).get(key))
        ok = value >= self.minimum
        sign = "≥" if ok else "<"
        return CheckResult(
            ok, [f"contact.{key}={value} {sign} {self.minimum} {mark(ok)}"], [f"contact.{key}={value}"]
        )

    def describe(self) -> str:
        return f"contact.{_CONTACT_COUNTERS[self.condition]} ≥ {self.minimum}"


def _attribute_equal(have: object, want: object) -> bool:
    if isinstance(have, bool) or isinstance(want, bool):
        return isinstance(have, bool) and isinstance(want, bool) and have == want
    if isinstance(have, str) and isinstance(want, str):
        return have.casefold() == want.casefold()
    return have == want


@dataclass(frozen=True)
class ContactAttributeCheck:
    key: str
    allowed: tuple[object, ...]

    def check(self, ctx: Context) -> CheckResult:
        attributes = _contact(ctx).get("attributes")
        have = attributes.get(self.key) if isinstance(attributes, Mapping) else None
        ok = have is not None and any(_attribute_equal(have, want) for want in self.allowed)
        sign = "∈" if ok else "∉"
        line = f"contact.attributes.{self.key}={have!r} {sign} {show_list(self.allowed)} {mark(ok)}"
        return CheckResult(ok, [line], [f"contact.{self.key}={have!r}"])

    def describe(self) -> str:
        return f"contact.attributes.{self.key} ∈ {show_list(self.allowed)}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class TimeCheck:
    """Local time of the message in the location's zone.

    A window whose end is not after its start spans midnight; its early-morning part belongs
    to the day it started, so `{days: [fri], between: ["18:00", "08:00"]}` covers Friday
    18:00 until Saturday 08:00 (a night shift, as a team lead would read it).
    """

    days: frozenset[int] | None  # 0 = Monday
    window: tuple[int, int] | None  # minutes since midnight; end may be 1440

    def check(self, ctx: Context) -> CheckResult:
        local, zone = ctx.local
        minute = local.hour * 60 + local.minute
        day = local.weekday()
        stamp = f"{DAYS[day].capitalize()} {local:%H:%M}"
        lines: list[str] = []
        ok = True
        if self.window is not None:
            start, end = self.window
            if start < end:
                inside = start <= minute < end
            elif minute >= start:
                inside = True
            else:
                inside = minute < end
                if inside:
                    day = (day - 1) % 7  # the early-morning part belongs to the window opened yesterday
            ok = inside
            span = f"{_hhmm(start)}–{_hhmm(end)}"
            lines.append(
                f"local time {stamp} ({zone}) {'within' if inside else 'outside'} {span} {mark(inside)}"
            )
        if self.days is not None:
            day_ok = day in self.days
            ok = ok and day_ok
            allowed = show_list([DAYS[d] for d in sorted(self.days)])
            note = "" if day == local.weekday() else " (the window opened that day)"
            lines.append(f"day {DAYS[day]}{note} {'∈' if day_ok else '∉'} {allowed} {mark(day_ok)}")
            if self.window is None:
                lines[-1] = f"local time {stamp} ({zone}): " + lines[-1]
        return CheckResult(ok, lines, [f"local time {stamp} ({zone})"])

    def describe(self) -> str:
        parts = []
        if self.days is not None:
            parts.append("days " + show_list([DAYS[d] for d in sorted(self.days)]))
        if self.window is not None:
            parts.append(f"between {_hhmm(self.window[0])}–{_hhmm(self.window[1])}")
        return "time " + " ".join(parts)


@dataclass(frozen=True)
class Condition:
    """All of its checks must pass; no checks means it matches every message."""

    checks: tuple[Check, ...] = ()

    def check(self, ctx: Context) -> CheckResult:
        if not self.checks:
            return CheckResult(True, ["(no conditions: matches every message)"], [])
        # Every check runs (no short-circuit) so the trace explains all of a near miss.
        results = [c.check(ctx) for c in self.checks]
        ok = all(r.ok for r in results)
        lines = [line for r in results for line in r.lines]
        facts = [fact for r in results if r.ok for fact in r.facts]
        return CheckResult(ok, lines, facts)

    def describe(self) -> str:
        return " and ".join(c.describe() for c in self.checks) or "anything"


@dataclass(frozen=True)
class NotCheck:
    inner: Condition

    def check(self, ctx: Context) -> CheckResult:
        result = self.inner.check(ctx)
        ok = not result.ok
        head = f"not ({self.inner.describe()}): inner {'did not match' if ok else 'matched'} {mark(ok)}"
        return CheckResult(
            ok, [head] + ["  " + line for line in result.lines], [f"not ({self.inner.describe()})"]
        )

    def describe(self) -> str:
        return f"not ({self.inner.describe()})"


@dataclass(frozen=True)
class AnyCheck:
    branches: tuple[Condition, ...]

    def check(self, ctx: Context) -> CheckResult:
        results = [b.check(ctx) for b in self.branches]
        winner = next((i for i, r in enumerate(results) if r.ok), None)
        ok = winner is not None
        n = len(self.branches)
        if winner is None:
            head = f"any: none of {n} branches matched {FAIL}"
        else:
            head = f"any: branch {winner + 1} of {n} matched {OK}"
        lines = [head]
        for i, r in enumerate(results, start=1):
            lines.extend(f"  [{i}] {line}" for line in r.lines)
        facts = results[winner].facts if winner is not None else []
        return CheckResult(ok, lines, facts)

    def describe(self) -> str:
        return "any of (" + " | ".join(b.describe() for b in self.branches) + ")"
