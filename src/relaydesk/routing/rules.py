"""Ordered, declarative routing rules: validated when an org saves them, evaluated per message.

A rule is ``{"name": "leads", "when": {...}, "then": {...}, "stop": false}``. Every key of
``when`` must match (a list value means any-of; a missing key means no constraint). Rules run
in order: the first matching rule that sets a department / assignee / team wins, priority
becomes the highest asked for, tags / notify / approvers accumulate, require_approval is ORed
(naming ``approvers`` — roles such as ``manager`` or people such as ``@hannah`` — implies it), and a
matching rule with ``stop: true`` ends evaluation. With no department from any rule, the
intent's department applies, then the purchase stage's, then the org's default.

`intent` is one of the organisation's intents (the built-in ones when it defines none); triage's
signals are conditions of their own (`spam: true`, `crisis: true`, `complaint: true`), and
`intent: spam` / `intent: crisis` match the signal too, so rules written for the built-in
intents keep working for an organisation with its own vocabulary. Spam (either way) is tagged
and kept out of assignment unless a rule routes it.

Every decision carries human reasons and a per-rule trace, because a routing decision a
team lead cannot explain is a decision they cannot fix.

Keywords are matched in the shared matching form of every slice (`triage.normalize.fold`: letter
variants, digits of every script, diacritics). Only the rule's own
keywords, passed through `re.escape`, ever become a regex; customer text never does.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from relaydesk.core.enums import (
    APPROVER_ROLES,
    PRIORITY_ORDER,
    SPAM,
    Network,
    Priority,
    Sentiment,
    Stage,
    Urgency,
)
from relaydesk.triage.base import SIGNAL_INTENTS, SIGNALS
from relaydesk.triage.normalize import fold

RULE_FIELDS = frozenset({"name", "when", "then", "stop", "enabled", "description"})
WHEN_FIELDS = frozenset(
    {
        "channel",
        "account",
        "location",
        "language",
        "intent",
        "sentiment",
        "stage",
        "urgency",
        "urgency_at_least",
        "keywords",
        "contact",
        "time",
        "not",
        "any",
        *SIGNALS,  # spam / crisis / complaint: true|false
    }
)
THEN_FIELDS = frozenset(
    {"department", "priority", "tags", "assignee", "team", "require_approval", "approvers", "notify"}
)
CONTACT_FIELDS = frozenset(
    {"vip", "followers_at_least", "open_conversations_at_least", "purchases_at_least", "attributes"}
)
TIME_FIELDS = frozenset({"days", "between"})
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
URGENCY_ORDER: tuple[str, ...] = (Urgency.LOW, Urgency.NORMAL, Urgency.HIGH, Urgency.CRITICAL)
PRIORITY_RANK: dict[str, int] = {p.value: i for i, p in enumerate(PRIORITY_ORDER)}

# `contact.<x>_at_least` condition -> the key of RouteInput.contact it reads.
_CONTACT_COUNTERS = {
    "followers_at_least": "followers",
    "open_conversations_at_least": "open_conversations",
    "purchases_at_least": "purchases",
}
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_OK, _FAIL = "✓", "✗"


# --------------------------------------------------------------------------- keywords

# A Latin-script keyword is a whole word: not next to another Latin letter or digit. Thai, Arabic
# or Hebrew letters around it are a word boundary ("refundค่ะ", "خطای404"), as Thai writes
# without spaces and glues digits and English words to its own.
_LATIN_WORD = r"0-9a-z_\u00c0-\u024f\u1e00-\u1eff"


def _is_latin_script(keyword: str) -> bool:
    return all(not ch.isalpha() or unicodedata.name(ch, "").startswith("LATIN") for ch in keyword)


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


@dataclass(frozen=True)
class Keyword:
    """One rule keyword in the shared matching form (`triage.normalize.fold`), prepared once.

    Latin-script keywords match whole words only; other scripts match anywhere (Thai has no
    spaces and Arabic/Persian/Hebrew attach clitics). `joined` is the keyword with ZWNJ removed
    rather than spaced, so "میخواهم" and "می‌خواهم" find each other.
    """

    raw: str
    normalized: str
    pattern: re.Pattern[str] | None
    joined: str = ""

    @classmethod
    def parse(cls, raw: str) -> Keyword:
        norm = fold(raw)
        pattern = None
        if norm and _is_latin_script(norm):
            # Boundaries only where the keyword itself starts/ends with a word character,
            # so "c++" or "!!!" still match next to letters.
            head = f"(?<![{_LATIN_WORD}])" if _is_word_char(norm[0]) else ""
            tail = f"(?![{_LATIN_WORD}])" if _is_word_char(norm[-1]) else ""
            pattern = re.compile(head + re.escape(norm) + tail)
        return cls(raw, norm, pattern, fold(raw, join_zwnj=True))

    def found_in(self, normalized_text: str, joined_text: str | None = None) -> bool:
        """`normalized_text` is `fold(text)`; `joined_text` is `fold(text, join_zwnj=True)`."""
        if self.pattern is not None:
            return self.pattern.search(normalized_text) is not None
        # Thai has no spaces and Arabic/Persian/Hebrew attach clitics: substring is the right unit.
        if self.normalized in normalized_text:
            return True
        return joined_text is not None and bool(self.joined) and self.joined in joined_text


# --------------------------------------------------------------------------- inputs and outputs


@dataclass
class RouteInput:
    """Everything routing may look at for one conversation, already triaged.

    `location_keys` holds the conversation's location and all its ancestors (brand, region...).
    `contact` keys read by rules: ``vip`` (bool), ``followers``, ``open_conversations``,
    ``purchases`` (ints) and ``attributes`` (a mapping); missing keys count as false / 0.
    `at` is UTC (a naive value is taken as UTC); `timezone` is the location's IANA zone.
    """

    channel: str
    account_key: str | None
    location_keys: list[str]
    language: str | None
    intent: str | None
    intent_department: str | None
    sentiment: str
    stage: str
    urgency: str
    text: str
    contact: dict[str, Any]
    at: datetime
    timezone: str
    default_department: str
    priority: str = "normal"
    # The purchase stage's department (see routing.stage); tried after the intent's.
    stage_department: str | None = None
    # Triage's signals, whatever the organisation's intents (see triage.base.SIGNALS).
    spam: bool = False
    crisis: bool = False
    complaint: bool = False


@dataclass
class RuleTrace:
    rule: str
    matched: bool
    checks: list[str]
    effects: list[str] = field(default_factory=list)


@dataclass
class RouteDecision:
    department: str
    priority: str = Priority.NORMAL.value
    tags: list[str] = field(default_factory=list)
    assignee: str | None = None
    team: str | None = None
    require_approval: bool = False
    # Who may approve held replies: roles ("manager") and "@handles"; empty = the managers.
    approvers: list[str] = field(default_factory=list)
    notify: list[str] = field(default_factory=list)
    matched_rules: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    trace: list[RuleTrace] = field(default_factory=list)
    # "rule:<name>", "intent", "stage" or "default": lets reports count how routing happened.
    department_source: str = "default"
    stopped_by: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "department": self.department,
            "priority": self.priority,
            "tags": list(self.tags),
            "assignee": self.assignee,
            "team": self.team,
            "require_approval": self.require_approval,
            "approvers": list(self.approvers),
            "notify": list(self.notify),
            "matched_rules": list(self.matched_rules),
            "reasons": list(self.reasons),
            "department_source": self.department_source,
            "stopped_by": self.stopped_by,
            "trace": [
                {"rule": t.rule, "matched": t.matched, "checks": list(t.checks), "effects": list(t.effects)}
                for t in self.trace
            ],
        }


# --------------------------------------------------------------------------- compiled conditions


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    lines: list[str]
    facts: list[str]  # short phrases for "because ..." when the check passed


class _Context:
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
    def check(self, ctx: _Context) -> CheckResult: ...

    def describe(self) -> str: ...


def _show(value: object) -> str:
    return "null" if value is None else str(value)


def _show_list(values: Sequence[object]) -> str:
    return "[" + ", ".join(_show(v) for v in values) + "]"


def _mark(ok: bool) -> str:
    return _OK if ok else _FAIL


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

    def check(self, ctx: _Context) -> CheckResult:
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
                line = f"intent={_show(value)}, {signal} signal ∈ {_show_list(self.allowed)} {_OK}"
                return CheckResult(True, [line], [f"{signal} signal"])
        sign = "∈" if ok else "∉"
        line = f"{self.field}={_show(value)} {sign} {_show_list(self.allowed)} {_mark(ok)}"
        return CheckResult(ok, [line], [f"{self.field}={_show(value)}"])

    def describe(self) -> str:
        return f"{self.field} ∈ {_show_list(self.allowed)}"


@dataclass(frozen=True)
class SignalCheck:
    """`spam: true` / `crisis: false` / ...: one of triage's signals is (not) raised."""

    signal: str
    wanted: bool

    def check(self, ctx: _Context) -> CheckResult:
        have = bool(getattr(ctx.inp, self.signal))
        ok = have == self.wanted
        shown = "true" if have else "false"
        return CheckResult(ok, [f"{self.signal}={shown} {_mark(ok)}"], [f"{self.signal}={shown}"])

    def describe(self) -> str:
        return f"{self.signal}={'true' if self.wanted else 'false'}"


@dataclass(frozen=True)
class LocationCheck:
    """Matches when the conversation's location or any ancestor has one of the keys."""

    keys: tuple[str, ...]

    def check(self, ctx: _Context) -> CheckResult:
        have = list(ctx.inp.location_keys or [])
        hits = [k for k in have if k in self.keys]
        ok = bool(hits)
        shown = _show_list(hits) if hits else "∅"
        line = f"location {_show_list(have)} ∩ {_show_list(self.keys)} = {shown} {_mark(ok)}"
        return CheckResult(ok, [line], [f"location={hits[0]}"] if hits else [])

    def describe(self) -> str:
        return f"location ∈ {_show_list(self.keys)}"


@dataclass(frozen=True)
class UrgencyAtLeastCheck:
    level: str

    def check(self, ctx: _Context) -> CheckResult:
        value = str(ctx.inp.urgency) if ctx.inp.urgency is not None else None
        rank = URGENCY_ORDER.index(value) if value in URGENCY_ORDER else -1
        ok = rank >= URGENCY_ORDER.index(self.level)
        sign = "≥" if ok else "<"
        line = f"urgency={_show(value)} {sign} {self.level} {_mark(ok)}"
        return CheckResult(ok, [line], [f"urgency={_show(value)}"])

    def describe(self) -> str:
        return f"urgency ≥ {self.level}"


@dataclass(frozen=True)
class KeywordsCheck:
    keywords: tuple[Keyword, ...]

    def check(self, ctx: _Context) -> CheckResult:
        text = ctx.text
        found = next((k for k in self.keywords if k.found_in(text, ctx.joined_text)), None)
        listed = _show_list([k.raw for k in self.keywords])
        # The line names the keyword, never the customer's text: traces end up in logs and UIs.
        if found is None:
            return CheckResult(False, [f"keywords {listed}: none found {_FAIL}"], [])
        return CheckResult(
            True, [f"keywords {listed}: found '{found.raw}' {_OK}"], [f"keyword '{found.raw}'"]
        )

    def describe(self) -> str:
        return f"keywords {_show_list([k.raw for k in self.keywords])}"


def _contact(ctx: _Context) -> Mapping[str, Any]:
    contact = ctx.inp.contact
    return contact if isinstance(contact, Mapping) else {}


def _as_count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(value)


@dataclass(frozen=True)
class ContactVipCheck:
    vip: bool

    def check(self, ctx: _Context) -> CheckResult:
        value = bool(_contact(ctx).get("vip", False))
        ok = value == self.vip
        fact = "contact is VIP" if value else "contact is not VIP"
        return CheckResult(ok, [f"contact.vip={value}, need {self.vip} {_mark(ok)}"], [fact])

    def describe(self) -> str:
        return f"contact.vip = {self.vip}"


@dataclass(frozen=True)
class ContactAtLeastCheck:
    condition: str  # e.g. "followers_at_least"
    minimum: int

    def check(self, ctx: _Context) -> CheckResult:
        key = _CONTACT_COUNTERS[self.condition]
        value = _as_count(_contact(ctx).get(key))
        ok = value >= self.minimum
        sign = "≥" if ok else "<"
        return CheckResult(
            ok, [f"contact.{key}={value} {sign} {self.minimum} {_mark(ok)}"], [f"contact.{key}={value}"]
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

    def check(self, ctx: _Context) -> CheckResult:
        attributes = _contact(ctx).get("attributes")
        have = attributes.get(self.key) if isinstance(attributes, Mapping) else None
        ok = have is not None and any(_attribute_equal(have, want) for want in self.allowed)
        sign = "∈" if ok else "∉"
        line = f"contact.attributes.{self.key}={have!r} {sign} {_show_list(self.allowed)} {_mark(ok)}"
        return CheckResult(ok, [line], [f"contact.{self.key}={have!r}"])

    def describe(self) -> str:
        return f"contact.attributes.{self.key} ∈ {_show_list(self.allowed)}"


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

    def check(self, ctx: _Context) -> CheckResult:
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
                f"local time {stamp} ({zone}) {'within' if inside else 'outside'} {span} {_mark(inside)}"
            )
        if self.days is not None:
            day_ok = day in self.days
            ok = ok and day_ok
            allowed = _show_list([DAYS[d] for d in sorted(self.days)])
            note = "" if day == local.weekday() else " (the window opened that day)"
            lines.append(f"day {DAYS[day]}{note} {'∈' if day_ok else '∉'} {allowed} {_mark(day_ok)}")
            if self.window is None:
                lines[-1] = f"local time {stamp} ({zone}): " + lines[-1]
        return CheckResult(ok, lines, [f"local time {stamp} ({zone})"])

    def describe(self) -> str:
        parts = []
        if self.days is not None:
            parts.append("days " + _show_list([DAYS[d] for d in sorted(self.days)]))
        if self.window is not None:
            parts.append(f"between {_hhmm(self.window[0])}–{_hhmm(self.window[1])}")
        return "time " + " ".join(parts)


@dataclass(frozen=True)
class Condition:
    """All of its checks must pass; no checks means it matches every message."""

    checks: tuple[Check, ...] = ()

    def check(self, ctx: _Context) -> CheckResult:
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

    def check(self, ctx: _Context) -> CheckResult:
        result = self.inner.check(ctx)
        ok = not result.ok
        head = f"not ({self.inner.describe()}): inner {'did not match' if ok else 'matched'} {_mark(ok)}"
        return CheckResult(
            ok, [head] + ["  " + line for line in result.lines], [f"not ({self.inner.describe()})"]
        )

    def describe(self) -> str:
        return f"not ({self.inner.describe()})"


@dataclass(frozen=True)
class AnyCheck:
    branches: tuple[Condition, ...]

    def check(self, ctx: _Context) -> CheckResult:
        results = [b.check(ctx) for b in self.branches]
        winner = next((i for i, r in enumerate(results) if r.ok), None)
        ok = winner is not None
        n = len(self.branches)
        if winner is None:
            head = f"any: none of {n} branches matched {_FAIL}"
        else:
            head = f"any: branch {winner + 1} of {n} matched {_OK}"
        lines = [head]
        for i, r in enumerate(results, start=1):
            lines.extend(f"  [{i}] {line}" for line in r.lines)
        facts = results[winner].facts if winner is not None else []
        return CheckResult(ok, lines, facts)

    def describe(self) -> str:
        return "any of (" + " | ".join(b.describe() for b in self.branches) + ")"


@dataclass(frozen=True)
class Actions:
    department: str | None = None
    priority: str | None = None
    tags: tuple[str, ...] = ()
    assignee: str | None = None
    team: str | None = None
    require_approval: bool = False
    approvers: tuple[str, ...] = ()
    notify: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    name: str
    when: Condition
    then: Actions
    stop: bool = False
    enabled: bool = True


# --------------------------------------------------------------------------- validation / compile


@dataclass(frozen=True)
class RuleProblem:
    index: int  # position in the submitted list; -1 for the list itself
    name: str
    field: str  # dotted path inside the rule, e.g. "when.any[1].intent"
    message: str

    @property
    def path(self) -> str:
        return f"rules[{self.index}].{self.field}" if self.field else f"rules[{self.index}]"

    def __str__(self) -> str:
        who = f"rule #{self.index + 1}" + (f" '{self.name}'" if self.name else "")
        return f"{who}: {self.field or 'rule'}: {self.message}"


class RuleError(ValueError):
    """Rules rejected at save; `problems` lists every reason, not only the first."""

    def __init__(self, path: str, message: str, problems: Sequence[RuleProblem] = ()) -> None:
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        super().__init__(f"{path}: {message}{more}")
        self.path = path
        self.message = message
        self.problems = list(problems)


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def _unknown(kind: str, name: object, known: Sequence[str] | frozenset[str] | set[str]) -> str:
    message = f"unknown {kind} {name!r}"
    close = difflib.get_close_matches(str(name), sorted(known), n=1) if isinstance(name, str) else []
    if close:
        return f"{message}; did you mean {close[0]!r}?"
    listed = sorted(known)
    shown = ", ".join(listed[:12]) + (", ..." if len(listed) > 12 else "")
    return f"{message}; expected one of: {shown}" if listed else message


def _parse_clock(value: object, *, is_end: bool) -> int | str:
    """Minutes since midnight, or an error message."""
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 18:00 as the sexagesimal number 1080.
        return 'write times as quoted text, e.g. "18:00"'
    if not isinstance(value, str):
        return f'expected a time like "18:00", got {_type_name(value)}'
    match = _CLOCK.fullmatch(value.strip())
    if not match:
        return f"bad time {value!r}; expected HH:MM"
    hours, minutes = int(match.group(1)), int(match.group(2))
    total = hours * 60 + minutes
    if minutes > 59 or total > 24 * 60 or (total == 24 * 60 and not is_end):
        return f"bad time {value!r}; expected 00:00–23:59 (24:00 only as an end)"
    return total


class _Compiler:
    def __init__(
        self,
        departments: set[str] | frozenset[str],
        agencies: set[str] | frozenset[str] | None,
        handles: set[str] | frozenset[str] | None,
        intents: set[str] | frozenset[str] | None,
    ) -> None:
        self.departments = departments
        self.agencies = agencies
        self.handles = {h.lstrip("@") for h in handles} if handles is not None else None
        self.intents = intents
        self.problems: list[RuleProblem] = []
        self._index = -1
        self._name = ""

    def problem(self, path: str, message: str) -> None:
        self.problems.append(RuleProblem(self._index, self._name, path, message))

    def rules(self, raw: object) -> list[Rule]:
        if not isinstance(raw, list | tuple):
            self.problem("", f"rules must be a list, got {_type_name(raw)}")
            return []
        seen: dict[str, int] = {}
        compiled: list[Rule] = []
        for index, item in enumerate(raw):
            self._index = index
            self._name = str(item.get("name", "")) if isinstance(item, Mapping) else ""
            rule = self.rule(item)
            if rule is None:
                continue
            if rule.name in seen:
                self.problem("name", f"duplicate rule name {rule.name!r} (also rule #{seen[rule.name] + 1})")
            seen.setdefault(rule.name, index)
            compiled.append(rule)
        return compiled

    def rule(self, raw: object) -> Rule | None:
        if not isinstance(raw, Mapping):
            self.problem("", f"a rule must be a mapping, got {_type_name(raw)}")
            return None
        for key in raw:
            if key not in RULE_FIELDS:
                self.problem(str(key), _unknown("rule field", key, RULE_FIELDS))
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            self.problem("name", "a rule needs a non-empty name")
            name = f"#{self._index + 1}"
        when_raw = raw.get("when") or {}
        then_raw = raw.get("then") or {}
        when = self.condition("when", when_raw)
        then = self.actions(then_raw)
        stop = self.flag("stop", raw.get("stop", False))
        enabled = self.flag("enabled", raw.get("enabled", True))
        if raw.get("description") is not None and not isinstance(raw.get("description"), str):
            self.problem("description", f"expected text, got {_type_name(raw.get('description'))}")
        return Rule(name.strip(), when, then, stop, enabled)

    def flag(self, path: str, value: object) -> bool:
        if not isinstance(value, bool):
            self.problem(path, f"expected true or false, got {_type_name(value)}")
            return False
        return value

    def texts(self, path: str, value: object, *, allow_null: bool = False) -> list[str | None]:
        items = list(value) if isinstance(value, list | tuple) else [value]
        if not items:
            self.problem(path, "an empty list can never match; remove the condition instead")
        out: list[str | None] = []
        for i, item in enumerate(items):
            where = f"{path}[{i}]" if isinstance(value, list | tuple) else path
            if item is None and allow_null:
                out.append(None)
            elif isinstance(item, str) and item.strip():
                out.append(item.strip())
            else:
                self.problem(where, f"expected non-empty text, got {_type_name(item)}")
        return out

    def choices(self, path: str, value: object, allowed: Sequence[str], kind: str) -> list[str]:
        out: list[str] = []
        for item in self.texts(path, value):
            if item is None:
                continue
            if item.lower() in allowed:
                out.append(item.lower())
            else:
                self.problem(path, _unknown(kind, item, list(allowed)))
        return out

    def condition(self, path: str, raw: object) -> Condition:
        if not isinstance(raw, Mapping):
            self.problem(path, f"conditions must be a mapping, got {_type_name(raw)}")
            return Condition()
        checks: list[Check] = []
        for key, value in raw.items():
            where = f"{path}.{key}"
            if key not in WHEN_FIELDS:
                self.problem(where, _unknown("condition", key, WHEN_FIELDS))
                continue
            check = self.one_condition(where, str(key), value)
            if check is not None:
                checks.append(check)
        return Condition(tuple(checks))

    def one_condition(self, where: str, key: str, value: object) -> Check | None:
        if key == "channel":
            return MemberCheck(key, tuple(self.choices(where, value, [n.value for n in Network], "channel")))
        if key == "sentiment":
            return MemberCheck(
                key, tuple(self.choices(where, value, [s.value for s in Sentiment], "sentiment"))
            )
        if key == "stage":
            return MemberCheck(key, tuple(self.choices(where, value, [s.value for s in Stage], "stage")))
        if key == "urgency":
            return MemberCheck(key, tuple(self.choices(where, value, list(URGENCY_ORDER), "urgency")))
        if key == "urgency_at_least":
            if isinstance(value, list | tuple):
                self.problem(where, "expected one urgency level, not a list")
                return None
            levels = self.choices(where, value, list(URGENCY_ORDER), "urgency")
            return UrgencyAtLeastCheck(levels[0]) if levels else None
        if key == "account":
            return MemberCheck(key, tuple(self.texts(where, value)))
        if key == "location":
            return LocationCheck(tuple(t for t in self.texts(where, value) if t is not None))
        if key == "language":
            codes: list[str | None] = []
            for code in self.texts(where, value):
                if code is None:
                    continue
                if code.lower() == "und" or _LANGUAGE_CODE.fullmatch(code.lower()):
                    codes.append(code.lower())
                else:
                    self.problem(where, f"bad language code {code!r}; expected an ISO 639 code such as 'fa'")
            return MemberCheck(key, tuple(codes))
        if key == "intent":
            names = self.texts(where, value, allow_null=True)
            if self.intents is not None:
                known = self.intents | SIGNAL_INTENTS
                for name in names:
                    if name is not None and name not in known:
                        self.problem(where, _unknown("intent", name, known))
            return MemberCheck(key, tuple(names))
        if key in SIGNALS:
            return SignalCheck(key, self.flag(where, value))
        if key == "keywords":
            keywords = []
            for word in self.texts(where, value):
                if word is None:
                    continue
                parsed = Keyword.parse(word)
                if parsed.normalized:
                    keywords.append(parsed)
                else:
                    self.problem(where, f"keyword {word!r} is empty once normalised")
            return KeywordsCheck(tuple(keywords))
        if key == "contact":
            return self.contact(where, value)
        if key == "time":
            return self.time(where, value)
        if key == "not":
            return NotCheck(self.condition(where, value))
        # key == "any"
        if not isinstance(value, list | tuple) or not value:
            self.problem(where, f"expected a non-empty list of condition mappings, got {_type_name(value)}")
            return None
        return AnyCheck(tuple(self.condition(f"{where}[{i}]", branch) for i, branch in enumerate(value)))

    def contact(self, where: str, value: object) -> Check | None:
        if not isinstance(value, Mapping) or not value:
            self.problem(where, f"expected a non-empty mapping, got {_type_name(value)}")
            return None
        checks: list[Check] = []
        for key, item in value.items():
            sub = f"{where}.{key}"
            if key not in CONTACT_FIELDS:
                self.problem(sub, _unknown("contact condition", key, CONTACT_FIELDS))
            elif key == "vip":
                if isinstance(item, bool):
                    checks.append(ContactVipCheck(item))
                else:
                    self.problem(sub, f"expected true or false, got {_type_name(item)}")
            elif key == "attributes":
                if not isinstance(item, Mapping) or not item:
                    self.problem(
                        sub, f"expected a non-empty mapping of attribute: value, got {_type_name(item)}"
                    )
                    continue
                for attr, want in item.items():
                    wants = list(want) if isinstance(want, list | tuple) else [want]
                    bad = [w for w in wants if not isinstance(w, str | int | float | bool)]
                    if not wants or bad:
                        self.problem(
                            f"{sub}.{attr}", "expected a value (text, number, true/false) or a list of them"
                        )
                        continue
                    checks.append(ContactAttributeCheck(str(attr), tuple(wants)))
            elif isinstance(item, int) and not isinstance(item, bool) and item >= 0:
                checks.append(ContactAtLeastCheck(str(key), item))
            else:
                self.problem(sub, f"expected a whole number ≥ 0, got {_type_name(item)}")
        return Condition(tuple(checks)) if checks else None

    def time(self, where: str, value: object) -> Check | None:
        if not isinstance(value, Mapping) or not value:
            self.problem(where, f"expected a mapping with days and/or between, got {_type_name(value)}")
            return None
        for key in value:
            if key not in TIME_FIELDS:
                self.problem(f"{where}.{key}", _unknown("time condition", key, TIME_FIELDS))
        days: frozenset[int] | None = None
        if "days" in value:
            names = self.choices(f"{where}.days", value["days"], list(DAYS), "day")
            days = frozenset(DAYS.index(d) for d in names)
        window: tuple[int, int] | None = None
        if "between" in value:
            between = value["between"]
            if not isinstance(between, list | tuple) or len(between) != 2:
                self.problem(f"{where}.between", 'expected two times, e.g. ["18:00", "08:00"]')
            else:
                start = _parse_clock(between[0], is_end=False)
                end = _parse_clock(between[1], is_end=True)
                for i, parsed in enumerate((start, end)):
                    if isinstance(parsed, str):
                        self.problem(f"{where}.between[{i}]", parsed)
                if isinstance(start, int) and isinstance(end, int):
                    if start == end % (24 * 60):
                        self.problem(
                            f"{where}.between", "the window covers the whole day; leave out 'between'"
                        )
                    else:
                        window = (start, end)
        if days is None and window is None:
            return None
        return TimeCheck(days, window)

    def actions(self, raw: object) -> Actions:
        if not isinstance(raw, Mapping):
            self.problem("then", f"actions must be a mapping, got {_type_name(raw)}")
            return Actions()
        for key in raw:
            if key not in THEN_FIELDS:
                self.problem(f"then.{key}", _unknown("action", key, THEN_FIELDS))
        department = self.single("then.department", raw.get("department"))
        if department is not None and department not in self.departments:
            self.problem("then.department", _unknown("department", department, self.departments))
        priority = self.single("then.priority", raw.get("priority"))
        if priority is not None:
            if priority.lower() in PRIORITY_RANK:
                priority = priority.lower()
            else:
                self.problem("then.priority", _unknown("priority", priority, list(PRIORITY_RANK)))
        assignee = self.single("then.assignee", raw.get("assignee"))
        if assignee is not None:
            assignee = assignee.lstrip("@")
            if self.handles is not None and assignee not in self.handles:
                self.problem("then.assignee", _unknown("agent handle", assignee, self.handles))
        team = self.single("then.team", raw.get("team"))
        if team is not None and self.agencies is not None and team not in self.agencies:
            self.problem("then.team", _unknown("team (agency)", team, self.agencies))
        tags = self.texts("then.tags", raw["tags"]) if "tags" in raw else []
        notify = (
            [self.notify_target(t) for t in self.texts("then.notify", raw["notify"])]
            if "notify" in raw
            else []
        )
        approval = self.flag("then.require_approval", raw.get("require_approval", False))
        approvers = (
            [
                self.approver(f"then.approvers[{i}]", a)
                for i, a in enumerate(self.texts("then.approvers", raw["approvers"]))
            ]
            if "approvers" in raw
            else []
        )
        if "approvers" in raw and raw.get("require_approval") is False:
            self.problem("then.approvers", "approvers are named but require_approval is false")
        return Actions(
            department=department,
            priority=priority,
            tags=tuple(dict.fromkeys(t for t in tags if t is not None)),
            assignee=assignee,
            team=team,
            require_approval=approval or any(a is not None for a in approvers),
            approvers=tuple(dict.fromkeys(a for a in approvers if a is not None)),
            notify=tuple(dict.fromkeys(n for n in notify if n is not None)),
        )

    def approver(self, path: str, value: str | None) -> str | None:
        """A role that approves (``manager``, ``admin``, ``owner``) or a person's ``@handle``."""
        if value is None:
            return None
        text = value.strip()
        if text.startswith("@"):
            handle = text[1:].lower()
            if not handle:
                self.problem(path, "'@' needs a handle after it, e.g. '@hannah'")
                return None
            if self.handles is not None and handle not in self.handles:
                self.problem(path, _unknown("agent handle", handle, self.handles))
                return None
            return f"@{handle}"
        if text.lower() in APPROVER_ROLES:
            return text.lower()
        self.problem(
            path,
            f"{value!r} is not an approver: use a role ({', '.join(APPROVER_ROLES)}) "
            "or a person's @handle, e.g. '@hannah'",
        )
        return None

    def single(self, path: str, value: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(path, f"expected non-empty text, got {_type_name(value)}")
            return None
        return value.strip()

    def notify_target(self, target: str | None) -> str | None:
        if target is None:
            return None
        if target.startswith("webhook:"):
            if not target[len("webhook:") :].strip():
                self.problem("then.notify", "'webhook:' needs a webhook name, e.g. 'webhook:pagerduty'")
                return None
            return target
        if "@" in target.lstrip("@"):
            if not _EMAIL.fullmatch(target):
                self.problem("then.notify", f"bad e-mail address {target!r}")
                return None
            return target
        handle = target.lstrip("@")
        if self.handles is not None and handle not in self.handles:
            self.problem("then.notify", _unknown("agent handle", handle, self.handles))
            return None
        return handle


def validate_rules(
    raw: object,
    departments: set[str] | frozenset[str],
    agencies: set[str] | frozenset[str] | None = None,
    handles: set[str] | frozenset[str] | None = None,
    intents: set[str] | frozenset[str] | None = None,
) -> list[RuleProblem]:
    """Every reason the rules would be rejected at save; empty when they are fine.

    `agencies`, `handles` and `intents` are checked only when given (None = not checked).
    """
    compiler = _Compiler(departments, agencies, handles, intents)
    compiler.rules(raw)
    return compiler.problems


def compile_rules(
    raw: object,
    known_departments: set[str] | frozenset[str],
    agencies: set[str] | frozenset[str] | None = None,
    handles: set[str] | frozenset[str] | None = None,
    intents: set[str] | frozenset[str] | None = None,
) -> list[Rule]:
    """Validated, ready-to-evaluate rules; raises RuleError (with every problem) when invalid."""
    compiler = _Compiler(known_departments, agencies, handles, intents)
    rules = compiler.rules(raw)
    if compiler.problems:
        first = compiler.problems[0]
        raise RuleError(first.path, first.message, compiler.problems)
    return rules


# --------------------------------------------------------------------------- evaluation


def _because(facts: list[str], rule: str) -> str:
    if not facts:
        return f"by rule '{rule}' (it matches every message)"
    return f"because {' and '.join(dict.fromkeys(facts))}, rule '{rule}'"


def _priority_rank(value: str | None) -> int:
    normal = PRIORITY_RANK[Priority.NORMAL]
    return PRIORITY_RANK.get(str(value).lower(), normal) if value else normal


def evaluate(rules: Sequence[Rule], inp: RouteInput) -> RouteDecision:
    """Run the rules in order over one triaged conversation; never raises on odd input."""
    ctx = _Context(inp)
    decision = RouteDecision(department="", priority=PRIORITY_ORDER[_priority_rank(inp.priority)].value)
    department_rule: str | None = None
    assignee_rule: str | None = None
    team_rule: str | None = None

    for rule in rules:
        if decision.stopped_by is not None:
            note = f"not evaluated: rule '{decision.stopped_by}' stopped evaluation"
            decision.trace.append(RuleTrace(rule.name, False, [note]))
            continue
        if not rule.enabled:
            decision.trace.append(RuleTrace(rule.name, False, ["disabled"]))
            continue
        result = rule.when.check(ctx)
        trace = RuleTrace(rule.name, result.ok, result.lines)
        decision.trace.append(trace)
        if not result.ok:
            continue
        decision.matched_rules.append(rule.name)
        because = _because(result.facts, rule.name)
        then = rule.then

        if then.department is not None:
            if department_rule is None:
                department_rule = rule.name
                decision.department = then.department
                decision.department_source = f"rule:{rule.name}"
                decision.reasons.append(f"routed to {then.department} {because}")
                trace.effects.append(f"department → {then.department}")
            else:
                trace.effects.append(
                    f"department {then.department} ignored: rule '{department_rule}' already chose "
                    f"{decision.department}"
                )
        if then.priority is not None:
            if _priority_rank(then.priority) > _priority_rank(decision.priority):
                decision.priority = then.priority
                decision.reasons.append(f"priority raised to {then.priority} {because}")
                trace.effects.append(f"priority → {then.priority}")
            else:
                trace.effects.append(
                    f"priority {then.priority} kept at {decision.priority} (already as high)"
                )
        new_tags = [t for t in then.tags if t not in decision.tags]
        if new_tags:
            decision.tags.extend(new_tags)
            decision.reasons.append(f"tagged {', '.join(new_tags)} {because}")
            trace.effects.append("tags + " + ", ".join(new_tags))
        if then.assignee is not None:
            if assignee_rule is None:
                assignee_rule = rule.name
                decision.assignee = then.assignee
                decision.reasons.append(f"assigned to @{then.assignee} {because}")
                trace.effects.append(f"assignee → @{then.assignee}")
            else:
                trace.effects.append(
                    f"assignee @{then.assignee} ignored: rule '{assignee_rule}' already chose one"
                )
        if then.team is not None:
            if team_rule is None:
                team_rule = rule.name
                decision.team = then.team
                decision.reasons.append(f"handed to team {then.team} {because}")
                trace.effects.append(f"team → {then.team}")
            else:
                trace.effects.append(f"team {then.team} ignored: rule '{team_rule}' already chose one")
        if then.require_approval:
            if not decision.require_approval:
                decision.reasons.append(f"replies need approval {because}")
            decision.require_approval = True
            new_approvers = [a for a in then.approvers if a not in decision.approvers]
            decision.approvers.extend(new_approvers)
            trace.effects.append(
                "require approval" + (f" by {', '.join(new_approvers)}" if new_approvers else "")
            )
        new_notify = [n for n in then.notify if n not in decision.notify]
        if new_notify:
            decision.notify.extend(new_notify)
            decision.reasons.append(f"notify {', '.join(new_notify)} {because}")
            trace.effects.append("notify + " + ", ".join(new_notify))
        if rule.stop:
            decision.stopped_by = rule.name
            decision.reasons.append(f"rule '{rule.name}' stops evaluation; later rules were not checked")
            trace.effects.append("stop")

    if (inp.spam or inp.intent == SPAM) and department_rule is None and assignee_rule is None:
        # Likely spam would otherwise take an agent's place and run an SLA clock nobody should
        # meet. It stays visible in the default queue, tagged, so a person can overrule the model
        # (correcting the intent puts it back into assignment and the clocks).
        if SPAM not in decision.tags:
            decision.tags.append(SPAM)
        if decision.priority == inp.priority == Priority.NORMAL.value:
            decision.priority = Priority.LOW.value
        decision.reasons.append(
            f"{'intent=spam' if inp.intent == SPAM else 'spam signal'}: tagged spam, kept out of"
            " automatic assignment and SLA clocks (correct the intent if it is not spam)"
        )
    if department_rule is None:
        if inp.intent_department:
            decision.department = inp.intent_department
            decision.department_source = "intent"
            decision.reasons.insert(
                0,
                f"routed to {inp.intent_department} because intent={inp.intent} maps to department "
                f"{inp.intent_department}",
            )
        elif inp.stage_department:
            decision.department = inp.stage_department
            decision.department_source = "stage"
            decision.reasons.insert(
                0,
                f"routed to {inp.stage_department} because stage={inp.stage} maps to department "
                f"{inp.stage_department}",
            )
        else:
            decision.department = inp.default_department
            decision.department_source = "default"
            why = "no rule matched" if not decision.matched_rules else "no matching rule set a department"
            decision.reasons.insert(0, f"routed to {inp.default_department}: {why}; default department")
    return decision


def explain(decision: RouteDecision) -> str:
    """A multi-line account of a decision for `relaydesk route --explain` and the audit view."""
    lines = [f"Department: {decision.department}  (from {decision.department_source})"]
    lines.append(f"Priority:   {decision.priority}")
    if decision.assignee:
        lines.append(f"Assignee:   @{decision.assignee}")
    if decision.team:
        lines.append(f"Team:       {decision.team}")
    if decision.tags:
        lines.append(f"Tags:       {', '.join(decision.tags)}")
    if decision.notify:
        lines.append(f"Notify:     {', '.join(decision.notify)}")
    approval = "not required"
    if decision.require_approval:
        approval = "required" + (f" (by {', '.join(decision.approvers)})" if decision.approvers else "")
    lines.append(f"Approval:   {approval}")
    lines.append("Why:")
    lines.extend(f"  - {reason}" for reason in decision.reasons)
    if decision.trace:
        lines.append("Rules, in order:")
    for trace in decision.trace:
        lines.append(f"  {_mark(trace.matched)} {trace.rule}")
        lines.extend(f"      {check}" for check in trace.checks)
        lines.extend(f"      => {effect}" for effect in trace.effects)
    return "\n".join(lines)


__all__ = [
    "Actions",
    "Condition",
    "Keyword",
    "RouteDecision",
    "RouteInput",
    "Rule",
    "RuleError",
    "RuleProblem",
    "RuleTrace",
    "compile_rules",
    "evaluate",
    "explain",
    "validate_rules",
]
