"""The shape of `relaydesk.yaml`: one organisation declared as code.

Every model forbids unknown fields, so a typo (`emial:`) is reported instead of silently ignored.
Checks that need more than one field or section (references, duplicates, environment variables)
live in `relaydesk.config.sections` (run by `relaydesk.config.loader`); these models only judge
each value on its own.

Conventions of the format:

* keys (`key:` of locations, departments, ...) are slugs: lowercase letters, digits, `-`, `_`, `.`;
* times are quoted `"HH:MM"` strings; `"24:00"` is allowed as the end of an interval or shift;
* days are `mon`..`sun`; dates are ISO `YYYY-MM-DD`;
* a location's `timezone` and `business_hours` are inherited from its parent when left out,
  and the top of the tree inherits the organisation's time zone;
* credential values may contain `${NAME}`, read from the environment when the file is applied;
  a whole `credentials: "***"` (or a single value `"***"`) keeps what is stored, so the redacted
  output of `export_config` can be applied back without wiping secrets.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    model_validator,
)

from relaydesk.core.enums import Network, Priority, Role

REDACTED = "***"
DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LOCATION_KINDS: tuple[str, ...] = ("brand", "region", "location")
ASSIGNMENT_STRATEGIES: tuple[str, ...] = ("least_loaded", "round_robin", "manual")

_KEY = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_SHORTCUT = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_INTENT = re.compile(r"[a-z][a-z0-9_]{0,63}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _key(value: str) -> str:
    if not _KEY.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid key: use lowercase letters, digits, '-', '_' or '.' "
            "(at most 64 characters), e.g. 'tehran-vanak'"
        )
    return value


def _shortcut(value: str) -> str:
    if not _SHORTCUT.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid shortcut key: use lowercase letters, digits, '-' or '_' "
            "(at most 64 characters), e.g. 'refund'"
        )
    return value


def _intent_name(value: str) -> str:
    if not _INTENT.fullmatch(value):
        raise ValueError(f"{value!r} is not a valid intent name: use snake_case, e.g. 'refund_request'")
    return value


def _language(value: str) -> str:
    lowered = value.strip().lower()
    if not _LANGUAGE.fullmatch(lowered):
        raise ValueError(f"{value!r} is not a language code: use ISO 639-1, e.g. 'fa', 'ar', 'he', 'th'")
    return lowered


def _email(value: str) -> str:
    lowered = value.strip().lower()
    if not _EMAIL.fullmatch(lowered):
        raise ValueError(f"{value!r} is not an email address")
    return lowered


def _handle(value: str) -> str:
    lowered = value.strip().lstrip("@").lower()
    if not _KEY.fullmatch(lowered):
        raise ValueError(f"{value!r} is not a valid handle: use lowercase letters, digits, '-', '_' or '.'")
    return lowered


@lru_cache(maxsize=1)
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        close = difflib.get_close_matches(value, _zone_names(), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else " (use an IANA name such as 'Asia/Tehran')"
        raise ValueError(f"unknown time zone {value!r}{hint}") from exc
    return value


def _clock(value: object, *, end: bool) -> str:
    # YAML 1.1 parsers turn an unquoted 09:00 into the number 540; ruamel reads 1.2, but say why.
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError('write times as quoted text, e.g. "09:00"')
    if not isinstance(value, str):
        raise ValueError('expected a time like "09:00"')
    match = _CLOCK.fullmatch(value.strip())
    if not match:
        raise ValueError(f'{value!r} is not a time: expected "HH:MM"')
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not end)):
        raise ValueError(f'{value!r} is not a time of day: expected 00:00-23:59 ("24:00" only as an end)')
    return f"{hours:02d}:{minutes:02d}"


def _start_clock(value: object) -> str:
    return _clock(value, end=False)


def _end_clock(value: object) -> str:
    return _clock(value, end=True)


def _credential(value: str) -> str:
    for match in re.finditer(r"\$\{([^}]*)\}", value):
        if not _ENV_NAME.fullmatch(match.group(1)):
            raise ValueError(f"'${{{match.group(1)}}}' is not an environment variable name")
    if "${" in re.sub(r"\$\{[^}]*\}", "", value):
        raise ValueError("unterminated '${' in a credential value")
    return value


def env_references(value: str) -> list[str]:
    """The environment variable names a credential value refers to, in order."""
    return re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", value)


Key = Annotated[str, AfterValidator(_key)]
ShortcutKey = Annotated[str, AfterValidator(_shortcut)]
IntentName = Annotated[str, AfterValidator(_intent_name)]
Language = Annotated[str, AfterValidator(_language)]
TimeZone = Annotated[str, AfterValidator(_timezone)]
StartTime = Annotated[str, BeforeValidator(_start_clock)]
EndTime = Annotated[str, BeforeValidator(_end_clock)]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Minutes = Annotated[int, Field(ge=1, le=60 * 24 * 365)]
CredentialValue = Annotated[str, AfterValidator(_credential)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OrganizationConfig(Strict):
    key: Key
    name: Name
    timezone: TimeZone = "UTC"
    reopen_window_hours: int = Field(default=72, ge=0, le=24 * 365)
    # Purchase stage -> department when no rule or intent chose one, laid over the defaults
    # (pre_purchase and purchase -> sales, post_purchase -> service, post_purchase:technical_issue
    # -> support); a key may be "<stage>:<intent>"; null removes a default. See routing/stage.py.
    stage_departments: dict[str, Key | None] = Field(default_factory=dict)


class BusinessHoursConfig(Strict):
    key: Key
    name: Name
    # An empty mapping is open 24/7; a day left out is closed (see relaydesk.sla.clock).
    weekly: dict[Day, list[tuple[StartTime, EndTime]]] = Field(default_factory=dict)
    holidays: list[date] = Field(default_factory=list)


class LocationNode(Strict):
    key: Key
    kind: Literal["brand", "region", "location"]
    name: Name
    timezone: TimeZone | None = None
    business_hours: Key | None = None
    children: list[LocationNode] = Field(default_factory=list)


class AgencyContract(Strict):
    """What the brand bought from the agency: its clock, the intents and languages it answers."""

    first_response_minutes: Minutes | None = None
    resolution_minutes: Minutes | None = None
    around_the_clock: bool = False
    intents: list[IntentName] = Field(default_factory=list)  # empty = every intent
    # Its people are only given conversations in these; others go in-house. Empty = every language.
    languages: list[Language] = Field(default_factory=list)
    # Every reply by the agency's people waits for a brand manager's approval (never the agency's own).
    replies_need_approval: bool = False


class AgencyConfig(Strict):
    key: Key
    name: Name
    contract: AgencyContract = Field(default_factory=AgencyContract)


class DepartmentConfig(Strict):
    key: Key
    name: Name
    default: bool = False
    assignment: Literal["least_loaded", "round_robin", "manual"] = "least_loaded"
    agency: Key | None = None
    # Its members speak for the brand: they approve FAQ entries.
    spokesperson: bool = False


class ShiftConfig(Strict):
    days: list[Day] = Field(min_length=1)
    start: StartTime
    end: EndTime  # at or before start: the shift runs past midnight


class AgentConfig(Strict):
    email: Annotated[str, AfterValidator(_email)]
    name: Name
    # For @mentions; derived from the email's local part when left out.
    handle: Annotated[str, AfterValidator(_handle)] = ""
    role: Role = Role.AGENT
    departments: list[Key] = Field(default_factory=list)
    languages: list[Language] = Field(default_factory=list)
    skills: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list)
    timezone: TimeZone | None = None  # None = the organisation's
    shifts: list[ShiftConfig] = Field(default_factory=list)  # empty = always on shift
    # Personal days off, local to the agent's zone: never assigned work on them (orgs/shifts.py).
    time_off: list[date] = Field(default_factory=list)
    max_concurrent: int = Field(default=8, ge=0, le=1000)
    agency: Key | None = None
    location: Key | None = None  # restricts what the person sees to this subtree
    # Limits the person to these channel accounts (empty: every account the rest allows).
    accounts: list[Key] = Field(default_factory=list)
    password_env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None = None
    # Clear-text initial password: meant for the demo file only (the loader warns elsewhere).
    password: SecretStr | None = None
    active: bool = True

    @model_validator(mode="after")
    def _default_handle(self) -> AgentConfig:
        if not self.handle:
            local = re.sub(r"[^a-z0-9._-]+", "-", self.email.split("@", 1)[0]).strip("-._")
            self.handle = (local or "agent")[:64]
        return self


class AccountConfig(Strict):
    # Network ids are often written unquoted (a page id is a long number).
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True)

    key: Key
    network: Network
    handle: Annotated[str, Field(min_length=1, max_length=200)]
    external_id: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    name: Annotated[str, Field(max_length=200)] = ""
    location: Key | None = None  # None = the first top-level location
    credentials: dict[str, CredentialValue] | Literal["***"] = Field(default_factory=dict, repr=False)
    settings: dict[str, Any] = Field(default_factory=dict)
    active: bool = True


class IntentConfig(Strict):
    name: IntentName
    department: Key | None = None
    examples: list[Annotated[str, Field(min_length=1, max_length=2000)]] = Field(default_factory=list)


class RoutingRuleConfig(Strict):
    """`when` / `then` are judged by `relaydesk.routing.rules.validate_rules`."""

    name: Annotated[str, Field(min_length=1, max_length=128)]
    when: dict[str, Any] = Field(default_factory=dict)
    then: dict[str, Any] = Field(default_factory=dict)
    stop: bool = False
    enabled: bool = True


class SlaPolicyConfig(Strict):
    """The most specific policy matching (department, priority, channel) applies; None = any."""

    name: Annotated[str, Field(min_length=1, max_length=128)]
    first_response_minutes: Minutes
    next_response_minutes: Minutes | None = None
    resolution_minutes: Minutes | None = None
    department: Key | None = None
    priority: Priority | None = None
    channel: Network | None = None
    business_hours: Key | None = None  # None = the hours of the conversation's location
    around_the_clock: bool = False
    # The assignee (else the department's managers) is told this long before a response is due; 0 = never.
    warn_before_minutes: int = Field(default=15, ge=0, le=60 * 24 * 7)


class GuidelineConfig(Strict):
    """A check every reply gets; `location` makes it one brand's (or region's, location's), with
    everything under it, instead of the whole organisation's."""

    name: Annotated[str, Field(min_length=1, max_length=128)]
    kind: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
    params: dict[str, Any] = Field(default_factory=dict)
    message: str = ""
    location: Key | None = None
    # block stops the reply, warn asks to look again, suggest hints; none: the kind's default.
    severity: Literal["block", "warn", "suggest"] | None = None


FaqStatus = Literal["draft", "approved", "retired"]


class FaqConfig(Strict):
    """An FAQ entry: `question`/`answer` in the primary `language`, `answers` in others.

    `approved: true/false` is the older spelling of `status: approved/draft`; an entry with
    neither is approved, as it was before the workflow existed.
    """

    key: Key
    question: Annotated[str, Field(min_length=1)]
    answer: Annotated[str, Field(min_length=1)]
    language: Language = "en"
    status: FaqStatus | None = None
    approved: bool | None = None
    variants: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    answers: dict[Language, Annotated[str, Field(min_length=1)]] = Field(default_factory=dict)
    valid_from: date | None = None
    valid_until: date | None = None
    # A brand's (region's, location's) own entry, offered at its places only; none: everywhere.
    location: Key | None = None

    def resolved_status(self) -> FaqStatus:
        if self.status is not None:
            return self.status
        return "draft" if self.approved is False else "approved"

    def all_answers(self) -> dict[str, str]:
        return {**self.answers, self.language: self.answer}


class MacroActionsConfig(Strict):
    """What sending a saved reply also does (a macro): each part is optional."""

    status: Literal["pending", "resolved"] | None = None
    tags: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=20
    )
    priority: Priority | None = None
    transfer: Key | None = None


class CannedResponseConfig(Strict):
    """A saved reply: `/key` in the reply box inserts it, in the conversation's language."""

    key: ShortcutKey
    title: Name
    texts: Annotated[
        dict[Language, Annotated[str, Field(min_length=1, max_length=20000)]], Field(min_length=1)
    ]
    departments: list[Key] = Field(default_factory=list)
    actions: MacroActionsConfig = Field(default_factory=MacroActionsConfig)


class ListeningConfig(Strict):
    """A listening query: public posts with any keyword and no exclusion, on its networks, in its
    languages (none listed: all), for a brand or location (none: the whole organisation)."""

    name: Annotated[str, Field(min_length=1, max_length=128)]
    keywords: Annotated[list[str], Field(min_length=1, max_length=100)]
    exclude: list[str] = Field(default_factory=list, max_length=100)
    languages: list[str] = Field(default_factory=list, max_length=50)
    networks: list[str] = Field(default_factory=list, max_length=20)
    location: Key | None = None
    active: bool = True


class NotificationDestinationConfig(Strict):
    """A named webhook rules and alerts post to; `url` is `${VARIABLE}`, an address, or "***"
    (from an export: keep the stored one)."""

    name: Annotated[str, Field(min_length=1, max_length=64)]
    url: Annotated[str, Field(min_length=1, max_length=2000)]
    active: bool = True


class OrgConfig(Strict):
    version: Literal[1] = 1
    organization: OrganizationConfig
    business_hours: list[BusinessHoursConfig] = Field(default_factory=list)
    locations: list[LocationNode] = Field(default_factory=list)
    agencies: list[AgencyConfig] = Field(default_factory=list)
    departments: list[DepartmentConfig] = Field(default_factory=list)
    agents: list[AgentConfig] = Field(default_factory=list)
    accounts: list[AccountConfig] = Field(default_factory=list)
    intents: list[IntentConfig] = Field(default_factory=list)
    routing_rules: list[RoutingRuleConfig] = Field(default_factory=list)
    sla_policies: list[SlaPolicyConfig] = Field(default_factory=list)
    guidelines: list[GuidelineConfig] = Field(default_factory=list)
    faq: list[FaqConfig] = Field(default_factory=list)
    canned_responses: list[CannedResponseConfig] = Field(default_factory=list)
    listening: list[ListeningConfig] = Field(default_factory=list)
    notification_destinations: list[NotificationDestinationConfig] = Field(default_factory=list)

    def walk_locations(self) -> Iterator[LocatedNode]:
        yield from walk_location_tree(self.locations)

    def default_department(self) -> DepartmentConfig | None:
        """The department flagged `default`, else the first one."""
        for department in self.departments:
            if department.default:
                return department
        return self.departments[0] if self.departments else None


# Section name -> the model of one of its items (top-level lists of the file).
SECTION_MODELS: dict[str, type[Strict]] = {
    "business_hours": BusinessHoursConfig,
    "locations": LocationNode,
    "agencies": AgencyConfig,
    "departments": DepartmentConfig,
    "agents": AgentConfig,
    "accounts": AccountConfig,
    "intents": IntentConfig,
    "routing_rules": RoutingRuleConfig,
    "sla_policies": SlaPolicyConfig,
    "guidelines": GuidelineConfig,
    "faq": FaqConfig,
    "canned_responses": CannedResponseConfig,
    "listening": ListeningConfig,
    "notification_destinations": NotificationDestinationConfig,
}


@dataclass(frozen=True)
class LocatedNode:
    """One node of the location tree with where it sits: `path` indexes into the file."""

    node: LocationNode
    parent: LocationNode | None
    path: tuple[str | int, ...]  # e.g. ("locations", 0, "children", 1)
    depth: int


def walk_location_tree(
    roots: list[LocationNode], prefix: tuple[str | int, ...] = ("locations",)
) -> Iterator[LocatedNode]:
    """Parents before children (pre-order), so a parent's id exists when its children need it."""
    stack: list[tuple[LocationNode, LocationNode | None, tuple[str | int, ...], int]] = [
        (root, None, (*prefix, index), 0) for index, root in reversed(list(enumerate(roots)))
    ]
    while stack:
        node, parent, path, depth = stack.pop()
        yield LocatedNode(node, parent, path, depth)
        for index in reversed(range(len(node.children))):
            stack.append((node.children[index], node, (*path, "children", index), depth + 1))


def all_field_names() -> frozenset[str]:
    """Every field name of the format, for 'did you mean' hints on unknown fields."""
    models: list[type[BaseModel]] = [
        OrgConfig,
        OrganizationConfig,
        AgencyContract,
        ShiftConfig,
        *SECTION_MODELS.values(),
    ]
    return frozenset(name for model in models for name in model.model_fields)
