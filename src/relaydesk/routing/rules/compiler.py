"""Raw rules (YAML / JSON) to compiled rules, collecting every problem rather than the first."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from relaydesk.core.enums import (
    APPROVER_ROLES,
    Network,
    Sentiment,
    Stage,
)
from relaydesk.routing.rules.conditions import (
    AnyCheck,
    Check,
    Condition,
    ContactAtLeastCheck,
    ContactAttributeCheck,
    ContactVipCheck,
    KeywordsCheck,
    LocationCheck,
    MemberCheck,
    NotCheck,
    SignalCheck,
    TimeCheck,
    UrgencyAtLeastCheck,
)
from relaydesk.routing.rules.keywords import Keyword
from relaydesk.routing.rules.problems import RuleProblem, type_name, unknown
from relaydesk.routing.rules.rule import Actions, Rule
from relaydesk.routing.rules.vocabulary import (
    CONTACT_FIELDS,
    DAYS,
    PRIORITY_RANK,
    RULE_FIELDS,
    THEN_FIELDS,
    TIME_FIELDS,
    URGENCY_ORDER,
    WHEN_FIELDS,
)
from relaydesk.triage.base import SIGNAL_INTENTS, SIGNALS

_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
OK, FAIL = "✓", "✗"


def _parse_clock(value: object, *, is_end: bool) -> int | str:
    """Minutes since midnight, or an error message."""
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 18:00 as the sexagesimal number 1080.
        return 'write times as quoted text, e.g. "18:00"'
    if not isinstance(value, str):
        return f'expected a time like "18:00", got {type_name(value)}'
    match = _CLOCK.fullmatch(value.strip())
    if not match:
        return f"bad time {value!r}; expected HH:MM"
    hours, minutes = int(match.group(1)), int(match.group(2))
    total = hours * 60 + minutes
    if minutes > 59 or total > 24 * 60 or (total == 24 * 60 and not is_end):
        return f"bad time {value!r}; expected 00:00–23:59 (24:00 only as an end)"
    return total


class Compiler:
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
            self.problem("", f"rules must be a list, got {type_name(raw)}")
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
            self.problem("", f"a rule must be a mapping, got {type_name(raw)}")
            return None
        for key in raw:
            if key not in RULE_FIELDS:
                self.problem(str(key), unknown("rule field", key, RULE_FIELDS))
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
            self.problem("description", f"expected text, got {type_name(raw.get('description'))}")
        return Rule(name.strip(), when, then, stop, enabled)

    def flag(self, path: str, value: object) -> bool:
        if not isinstance(value, bool):
            self.problem(path, f"expected true or false, got {type_name(value)}")
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
                self.problem(where, f"expected non-empty text, got {type_name(item)}")
        return out

    def choices(self, path: str, value: object, allowed: Sequence[str], kind: str) -> list[str]:
        out: list[str] = []
        for item in self.texts(path, value):
            if item is None:
                continue
            if item.lower() in allowed:
                out.append(item.lower())
            else:
                self.problem(path, unknown(kind, item, list(allowed)))
        return out

    def condition(self, path: str, raw: object) -> Condition:
        if not isinstance(raw, Mapping):
            self.problem(path, f"conditions must be a mapping, got {type_name(raw)}")
            return Condition()
        checks: list[Check] = []
        for key, value in raw.items():
            where = f"{path}.{key}"
            if key not in WHEN_FIELDS:
                self.problem(where, unknown("condition", key, WHEN_FIELDS))
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
                        self.problem(where, unknown("intent", name, known))
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
            self.problem(where, f"expected a non-empty list of condition mappings, got {type_name(value)}")
            return None
        return AnyCheck(tuple(self.condition(f"{where}[{i}]", branch) for i, branch in enumerate(value)))

    def contact(self, where: str, value: object) -> Check | None:
        if not isinstance(value, Mapping) or not value:
            self.problem(where, f"expected a non-empty mapping, got {type_name(value)}")
            return None
        checks: list[Check] = []
        for key, item in value.items():
            sub = f"{where}.{key}"
            if key not in CONTACT_FIELDS:
                self.problem(sub, unknown("contact condition", key, CONTACT_FIELDS))
            elif key == "vip":
                if isinstance(item, bool):
                    checks.append(ContactVipCheck(item))
                else:
                    self.problem(sub, f"expected true or false, got {type_name(item)}")
            elif key == "attributes":
                if not isinstance(item, Mapping) or not item:
                    self.problem(
                        sub, f"expected a non-empty mapping of attribute: value, got {type_name(item)}"
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
                self.problem(sub, f"expected a whole number ≥ 0, got {type_name(item)}")
        return Condition(tuple(checks)) if checks else None

    def time(self, where: str, value: object) -> Check | None:
        if not isinstance(value, Mapping) or not value:
            self.problem(where, f"expected a mapping with days and/or between, got {type_name(value)}")
            return None
        for key in value:
            if key not in TIME_FIELDS:
                self.problem(f"{where}.{key}", unknown("time condition", key, TIME_FIELDS))
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
            self.problem("then", f"actions must be a mapping, got {type_name(raw)}")
            return Actions()
        for key in raw:
            if key not in THEN_FIELDS:
                self.problem(f"then.{key}", unknown("action", key, THEN_FIELDS))
        department = self.single("then.department", raw.get("department"))
        if department is not None and department not in self.departments:
            self.problem("then.department", unknown("department", department, self.departments))
        priority = self.single("then.priority", raw.get("priority"))
        if priority is not None:
            if priority.lower() in PRIORITY_RANK:
                priority = priority.lower()
            else:
                self.problem("then.priority", unknown("priority", priority, list(PRIORITY_RANK)))
        assignee = self.single("then.assignee", raw.get("assignee"))
        if assignee is not None:
            assignee = assignee.lstrip("@")
            if self.handles is not None and assignee not in self.handles:
                self.problem("then.assignee", unknown("agent handle", assignee, self.handles))
        team = self.single("then.team", raw.get("team"))
        if team is not None and self.agencies is not None and team not in self.agencies:
            self.problem("then.team", unknown("team (agency)", team, self.agencies))
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
                self.problem(path, unknown("agent handle", handle, self.handles))
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
            self.problem(path, f"expected non-empty text, got {type_name(value)}")
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
            self.problem("then.notify", unknown("agent handle", handle, self.handles))
            return None
        return handle
