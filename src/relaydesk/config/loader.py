"""Read `relaydesk.yaml`, and report every problem in it with the file, line and field.

Validation runs item by item, so one broken agent does not hide the problems of the others:
each section's items are checked against their model, then the valid ones are checked across
sections (references, duplicates, environment variables). Line numbers come from ruamel.yaml's
round-trip loader, which keeps the position of every node.

Clear-text `password:` on an agent is accepted but warned about, except in the packaged demo file
(or with `allow_plain_passwords=True`): a real organisation should use `password_env:`.
"""

from __future__ import annotations

import copy
import difflib
import importlib
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, cast

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import MaxDepthExceededError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from relaydesk.config.schemas import (
    SECTION_MODELS,
    AccountConfig,
    AgencyConfig,
    AgentConfig,
    BusinessHoursConfig,
    DepartmentConfig,
    FaqConfig,
    GuidelineConfig,
    IntentConfig,
    LocatedNode,
    LocationNode,
    OrganizationConfig,
    OrgConfig,
    RoutingRuleConfig,
    SlaPolicyConfig,
    all_field_names,
    env_references,
    walk_location_tree,
)
from relaydesk.core.enums import BUILTIN_INTENTS, ORG_WIDE_ROLES, Priority, Role
from relaydesk.routing.stage import validate_stage_mapping

DEMO_CONFIG_PATH = Path(__file__).with_name("demo.yaml")
# A real organisation nests a dozen levels; these bound what a hostile document costs to load.
MAX_YAML_DEPTH = 64
MAX_YAML_VALUES = 1_000_000
Severity = Literal["error", "warning"]
Path_ = tuple[str | int, ...]

KIND_RANK = {"brand": 0, "region": 1, "location": 2}
# Kinds the guidelines checker is known to understand; another kind is a warning, not an error,
# so a newer checker can add kinds without this file rejecting them.
KNOWN_GUIDELINE_KINDS = frozenset({"banned_phrase", "max_length", "require_greeting", "pii", "language"})
_SECRET_FIELDS = ("credentials", "password")


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    line: int  # 1-based; 0 when the problem is about the whole file
    column: int  # 1-based
    field: str  # e.g. "agents[0].departments[1]"; "" for syntax errors
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}:" if self.line else f"{self.file}:"
        what = f" {self.field}:" if self.field else ""
        level = " warning:" if self.severity == "warning" else ""
        return f"{where}{what}{level} {self.message}"


@dataclass
class LoadResult:
    config: OrgConfig | None  # None when there is any error
    problems: list[ConfigProblem] = field(default_factory=list)

    @property
    def errors(self) -> list[ConfigProblem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[ConfigProblem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return self.config is not None


@dataclass(frozen=True)
class _Issue:
    path: Path_
    message: str
    severity: Severity = "error"
    at_key: bool = False  # point at the key (unknown field) rather than its value


def load_config(
    path: Path,
    *,
    env: Mapping[str, str] | None = None,
    allow_plain_passwords: bool | None = None,
) -> LoadResult:
    """Validate a config file; `env` (default: os.environ) is where `${NAME}` is looked up."""
    filename = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return LoadResult(None, [ConfigProblem(filename, 0, 0, "", f"cannot read the file: {exc}")])
    if allow_plain_passwords is None:
        allow_plain_passwords = _is_demo(Path(path))
    return load_config_text(text, filename, env=env, allow_plain_passwords=allow_plain_passwords)


def load_demo_config() -> LoadResult:
    """The packaged demo organisation (`relaydesk/config/demo.yaml`)."""
    return load_config(DEMO_CONFIG_PATH, allow_plain_passwords=True)


def load_config_text(
    text: str,
    filename: str = "relaydesk.yaml",
    *,
    env: Mapping[str, str] | None = None,
    allow_plain_passwords: bool = False,
) -> LoadResult:
    """Validate config text (e.g. an upload to the API); never raises for bad input."""
    yaml = YAML(typ="rt")
    # Composing recurses once per level: a document of nested brackets would exhaust the stack.
    yaml.max_depth = MAX_YAML_DEPTH
    try:
        document = yaml.load(text)
    except MaxDepthExceededError as exc:
        mark = exc.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        message = f"the document nests deeper than {MAX_YAML_DEPTH} levels"
        return LoadResult(None, [ConfigProblem(filename, line, column, "", message)])
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        message = " ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
        return LoadResult(None, [ConfigProblem(filename, line, column, "", f"YAML syntax error: {message}")])
    except YAMLError as exc:
        return LoadResult(None, [ConfigProblem(filename, 1, 1, "", f"YAML error: {exc}")])
    if document is None:
        return LoadResult(None, [ConfigProblem(filename, 1, 1, "", "the file is empty")])
    if expanded_size(document, MAX_YAML_VALUES) > MAX_YAML_VALUES:
        message = (
            f"the document expands to more than {MAX_YAML_VALUES:,} values through its aliases "
            "(*name): write the repeated parts out, or repeat them less"
        )
        return LoadResult(None, [ConfigProblem(filename, 1, 1, "", message)])
    if not isinstance(document, CommentedMap):
        return LoadResult(
            None, [ConfigProblem(filename, 1, 1, "", "the file must be a mapping with an 'organization' key")]
        )
    validator = _Validator(document, env if env is not None else os.environ, allow_plain_passwords)
    config, issues = validator.run()
    problems = sorted(
        (_problem(filename, document, issue) for issue in issues),
        key=lambda p: (p.line, p.column, p.severity != "error", p.field),
    )
    has_errors = any(p.severity == "error" for p in problems)
    return LoadResult(None if has_errors else config, problems)


def expanded_size(value: Any, limit: int) -> int:
    """How many values `value` holds once every alias is expanded, counting up to just past `limit`.

    An alias shares its anchor's object, so nine aliases of nine aliases of ... are a few lines of
    YAML but billions of values for whatever walks them; each shared object is sized once here.
    """
    sizes: dict[int, int] = {}

    def size(node: Any) -> int:
        if isinstance(node, dict):
            children: Iterable[Any] = [*node.keys(), *node.values()]
        elif isinstance(node, list):
            children = node
        else:
            return 1
        known = sizes.get(id(node))
        if known is None:
            total = 1
            for child in children:
                total += size(child)
                if total > limit:
                    break
            known = sizes[id(node)] = total
        return known

    return size(value)


def _is_demo(path: Path) -> bool:
    try:
        return path.resolve() == DEMO_CONFIG_PATH.resolve()
    except OSError:
        return False


# --------------------------------------------------------------------------- positions


def _problem(filename: str, document: CommentedMap, issue: _Issue) -> ConfigProblem:
    line, column = _position(document, issue.path, issue.at_key)
    return ConfigProblem(filename, line, column, format_path(issue.path), issue.message, issue.severity)


def format_path(path: Iterable[str | int]) -> str:
    out = ""
    for elem in path:
        if isinstance(elem, int):
            out += f"[{elem}]"
        else:
            out += f".{elem}" if out else str(elem)
    return out


def _position(document: CommentedMap, path: Path_, at_key: bool) -> tuple[int, int]:
    """1-based line and column of the deepest node of `path` present in the document."""
    node: Any = document
    line, column = 0, 0
    for index, elem in enumerate(path):
        last = index == len(path) - 1
        if isinstance(node, CommentedMap) and elem in node:
            line, column = node.lc.key(elem) if (last and at_key) else node.lc.value(elem)
            node = node[elem]
        elif isinstance(node, CommentedSeq) and isinstance(elem, int) and 0 <= elem < len(node):
            line, column = node.lc.item(elem)
            node = node[elem]
        else:
            break
    return line + 1, column + 1


def _clean_loc(loc: Sequence[str | int]) -> Path_:
    """Pydantic's error location without its type tags (`function-after[...]`, `literal['***']`)."""
    out: list[str | int] = []
    for elem in loc:
        if isinstance(elem, str) and ("[" in elem or "(" in elem):
            continue
        out.append(elem)
    return tuple(out)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"text {_shown(value)}"
    return _shown(value)


def _pydantic_issues(exc: ValidationError, prefix: Path_) -> list[_Issue]:
    names = all_field_names()
    issues: list[_Issue] = []
    seen: set[tuple[Path_, str]] = set()
    for error in exc.errors():
        loc = error["loc"]
        path = (*prefix, *_clean_loc(loc))
        kind = error["type"]
        secret = any(isinstance(p, str) and p in _SECRET_FIELDS for p in path)
        at_key = False
        if kind == "missing":
            message = "required field is missing"
        elif kind == "extra_forbidden":
            at_key = True
            unknown = str(path[-1]) if path else ""
            close = difflib.get_close_matches(unknown, sorted(names), n=1)
            message = f"unknown field {unknown!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
        elif kind in ("value_error", "assertion_error"):
            message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        elif kind in ("enum", "literal_error") and not secret:
            message = f"{error['msg']}, got {_shown(error['input'])}"
        elif secret:
            message = str(error["msg"])
        elif kind.endswith("_type"):
            message = f"{error['msg']}, got {_type_name(error['input'])}"
        else:
            message = f"{error['msg']} (got {_shown(error['input'])})"
        if kind == "literal_error" and "'***'" in str(error.get("msg", "")):
            continue  # the other half of `credentials: dict | "***"`; the dict error says enough
        if "[key]" in loc:
            path = tuple(p for p in path if p != "[key]")
            at_key = True
        if (path, message) in seen:
            continue
        seen.add((path, message))
        issues.append(_Issue(path, message, "error", at_key))
    return issues


# --------------------------------------------------------------------------- validation


def _optional_function(module: str, name: str) -> Callable[..., Any] | None:
    """A checker written in another slice, used when present (kept optional so config loads alone)."""
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    return cast(Callable[..., Any], found) if callable(found) else None


def _known(names: Iterable[str]) -> str:
    listed = sorted(set(names))
    shown = ", ".join(listed[:15]) + (", ..." if len(listed) > 15 else "")
    return f"known: {shown}" if listed else "none declared"


def _unknown(kind: str, value: str, known: Iterable[str]) -> str:
    known = sorted(set(known))
    close = difflib.get_close_matches(value, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown {kind} {value!r} ({hint}{_known(known)})"


def _raw_keys(section: Any, field_name: str = "key") -> set[str]:
    """Keys named in a raw section, valid items or not: a typo elsewhere in an item must not
    make every reference to it look unknown too."""
    keys: set[str] = set()
    if isinstance(section, list):
        for item in section:
            if isinstance(item, Mapping) and isinstance(item.get(field_name), str):
                keys.add(item[field_name].strip())
                if field_name == "key":
                    keys |= _raw_keys(item.get("children"), field_name)
    return keys


def _plain(node: Any) -> Any:
    """ruamel's annotated containers and scalars as plain Python (they go into JSON columns)."""
    if isinstance(node, Mapping):
        return {str(k) if not isinstance(k, str) else k: _plain(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, datetime | date):
        return node.isoformat()
    if isinstance(node, str):
        return str(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


class _Validator:
    def __init__(self, document: CommentedMap, env: Mapping[str, str], allow_plain_passwords: bool) -> None:
        self.raw: dict[str, Any] = _plain(document)
        self.env = env
        self.allow_plain_passwords = allow_plain_passwords
        self.issues: list[_Issue] = []
        self.items: dict[str, list[tuple[int, Any]]] = {}

    def problem(self, path: Path_, message: str, severity: Severity = "error") -> None:
        self.issues.append(_Issue(path, message, severity))

    def warn(self, path: Path_, message: str) -> None:
        self.problem(path, message, "warning")

    # ----- per item

    def run(self) -> tuple[OrgConfig | None, list[_Issue]]:
        allowed = {"version", "organization", *SECTION_MODELS}
        for key in self.raw:
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.issues.append(_Issue((key,), f"unknown section {key!r}{hint}", "error", at_key=True))
        if self.raw.get("version", 1) != 1:
            self.problem(("version",), f"unsupported format version {self.raw.get('version')!r} (expected 1)")
        organization = self._validate_one(("organization",), OrganizationConfig, self.raw.get("organization"))
        for section, model in SECTION_MODELS.items():
            self.items[section] = self._validate_section(section, model)
        self._cross_check(organization)
        if any(i.severity == "error" for i in self.issues) or organization is None:
            return None, self.issues
        config = OrgConfig(
            organization=organization,
            **{section: [item for _, item in self.items[section]] for section in SECTION_MODELS},
        )
        return config, self.issues

    def _validate_one(self, path: Path_, model: type[BaseModel], value: Any) -> Any:
        if value is None and path == ("organization",):
            self.problem(path, "required section is missing: organization: {key: ..., name: ...}")
            return None
        try:
            return model.model_validate(value)
        except ValidationError as exc:
            self.issues.extend(_pydantic_issues(exc, path))
            return _salvage(model, value, exc)

    def _validate_section(self, section: str, model: type[BaseModel]) -> list[tuple[int, Any]]:
        value = self.raw.get(section)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem((section,), f"{section} must be a list (items start with '- ')")
            return []
        valid: list[tuple[int, Any]] = []
        for index, item in enumerate(value):
            parsed = self._validate_one((section, index), model, item)
            if parsed is not None:
                valid.append((index, parsed))
        return valid

    # ----- across sections

    def _cross_check(self, organization: OrganizationConfig | None) -> None:
        hours = cast(list[tuple[int, BusinessHoursConfig]], self.items["business_hours"])
        agencies = cast(list[tuple[int, AgencyConfig]], self.items["agencies"])
        departments = cast(list[tuple[int, DepartmentConfig]], self.items["departments"])
        agents = cast(list[tuple[int, AgentConfig]], self.items["agents"])
        accounts = cast(list[tuple[int, AccountConfig]], self.items["accounts"])
        intents = cast(list[tuple[int, IntentConfig]], self.items["intents"])
        rules = cast(list[tuple[int, RoutingRuleConfig]], self.items["routing_rules"])
        policies = cast(list[tuple[int, SlaPolicyConfig]], self.items["sla_policies"])
        guidelines = cast(list[tuple[int, GuidelineConfig]], self.items["guidelines"])
        faq = cast(list[tuple[int, FaqConfig]], self.items["faq"])
        roots = [(index, cast(LocationNode, node)) for index, node in self.items["locations"]]

        known_hours = _raw_keys(self.raw.get("business_hours"))
        known_agencies = _raw_keys(self.raw.get("agencies"))
        known_departments = _raw_keys(self.raw.get("departments"))
        known_locations = _raw_keys(self.raw.get("locations"))
        known_intents = set(BUILTIN_INTENTS) | _raw_keys(self.raw.get("intents"), "name")

        self._duplicates("business_hours", [(i, h.key) for i, h in hours], "business hours key")
        self._check_business_hours(hours)
        nodes = self._renumber_roots(roots)
        self._check_locations(nodes, known_hours)
        self._duplicates("agencies", [(i, a.key) for i, a in agencies], "agency key")
        for index, agency in agencies:
            for j, intent in enumerate(agency.contract.intents):
                if intent not in known_intents:
                    self.problem(
                        ("agencies", index, "contract", "intents", j),
                        _unknown("intent", intent, known_intents),
                    )
        self._check_departments(departments, known_agencies)
        if organization is not None:
            for stage_key, department in organization.stage_departments.items():
                for problem in validate_stage_mapping({stage_key: department}, known_departments):
                    self.problem(("organization", "stage_departments", stage_key), problem)
        handles = self._check_agents(agents, known_departments, known_agencies, known_locations)
        self._check_accounts(accounts, known_locations)
        self._check_intents(intents, known_departments)
        self._check_rules(rules, known_departments, known_agencies, handles, known_intents)
        self._check_approvers(rules, agents)
        self._check_policies(policies, known_departments, known_hours)
        self._check_guidelines(guidelines)
        self._duplicates("faq", [(i, f.key) for i, f in faq], "FAQ key")
        if organization is not None and not self.raw.get("locations"):
            self.warn(("locations",), "no locations declared: accounts need a location to belong to")

    def _renumber_roots(self, roots: list[tuple[int, LocationNode]]) -> list[LocatedNode]:
        # Invalid roots were dropped, so number each valid root by its index in the file.
        out: list[LocatedNode] = []
        for index, root in roots:
            for located in walk_location_tree([root]):
                path = ("locations", index, *located.path[2:])
                out.append(LocatedNode(located.node, located.parent, path, located.depth))
        return out

    def _duplicates(
        self, section: str, keyed: list[tuple[int, str]], what: str, field_name: str = "key"
    ) -> None:
        first: dict[str, int] = {}
        for index, key in keyed:
            folded = key.lower()
            if folded in first:
                self.problem(
                    (section, index, field_name),
                    f"duplicate {what} {key!r} (first used by {section}[{first[folded]}])",
                )
            else:
                first[folded] = index

    def _check_business_hours(self, hours: list[tuple[int, BusinessHoursConfig]]) -> None:
        parse_weekly = _optional_function("relaydesk.sla.clock", "parse_weekly")
        for index, item in hours:
            if parse_weekly is not None:
                try:
                    parse_weekly({day: [list(iv) for iv in spans] for day, spans in item.weekly.items()})
                except (ValueError, TypeError) as exc:
                    self.problem(("business_hours", index, "weekly"), str(exc))
            seen: set[date] = set()
            for j, holiday in enumerate(item.holidays):
                if holiday in seen:
                    self.warn(("business_hours", index, "holidays", j), f"holiday {holiday} is listed twice")
                seen.add(holiday)
            if item.weekly and all(not spans for spans in item.weekly.values()):
                self.warn(("business_hours", index, "weekly"), "every listed day is empty: never open")

    def _check_locations(self, nodes: list[LocatedNode], known_hours: set[str]) -> None:
        first: dict[str, Path_] = {}
        for located in nodes:
            node, path = located.node, located.path
            if node.key in first:
                self.problem(
                    (*path, "key"),
                    f"duplicate location key {node.key!r} (first at {format_path(first[node.key])})",
                )
            else:
                first[node.key] = path
            if node.business_hours is not None and node.business_hours not in known_hours:
                self.problem(
                    (*path, "business_hours"), _unknown("business hours", node.business_hours, known_hours)
                )
            parent = located.parent
            if parent is not None and KIND_RANK[node.kind] < KIND_RANK[parent.kind]:
                self.problem(
                    (*path, "kind"), f"a {node.kind} cannot sit inside a {parent.kind} ({parent.key!r})"
                )

    def _check_departments(
        self, departments: list[tuple[int, DepartmentConfig]], known_agencies: set[str]
    ) -> None:
        self._duplicates("departments", [(i, d.key) for i, d in departments], "department key")
        for index, department in departments:
            if department.agency is not None and department.agency not in known_agencies:
                self.problem(
                    ("departments", index, "agency"), _unknown("agency", department.agency, known_agencies)
                )
        defaults = [(index, d) for index, d in departments if d.default]
        if len(defaults) > 1:
            first_key = defaults[0][1].key
            for index, _department in defaults[1:]:
                self.problem(
                    ("departments", index, "default"),
                    f"only one department can be the default ({first_key!r} already is)",
                )
        raw_departments = self.raw.get("departments")
        if departments and not defaults and raw_departments:
            self.warn(
                ("departments",),
                f"no department has 'default: true': {departments[0][1].key!r}, the first, becomes it",
            )
        if not raw_departments:
            self.warn(("departments",), "no departments declared: nothing can be routed")

    def _check_agents(
        self,
        agents: list[tuple[int, AgentConfig]],
        known_departments: set[str],
        known_agencies: set[str],
        known_locations: set[str],
    ) -> set[str]:
        self._duplicates("agents", [(i, a.email) for i, a in agents], "email", "email")
        self._duplicates("agents", [(i, a.handle) for i, a in agents], "handle", "handle")
        validate_shifts = _optional_function("relaydesk.orgs.shifts", "validate_shifts")
        plain: list[int] = []
        for index, agent in agents:
            base: Path_ = ("agents", index)
            for j, key in enumerate(agent.departments):
                if key not in known_departments:
                    self.problem((*base, "departments", j), _unknown("department", key, known_departments))
            for repeated, count in Counter(agent.departments).items():
                if count > 1:
                    self.warn((*base, "departments"), f"department {repeated!r} is listed {count} times")
            if agent.agency is not None and agent.agency not in known_agencies:
                self.problem((*base, "agency"), _unknown("agency", agent.agency, known_agencies))
            if agent.location is not None and agent.location not in known_locations:
                self.problem((*base, "location"), _unknown("location", agent.location, known_locations))
            if validate_shifts is not None and agent.shifts:
                shifts = [s.model_dump(mode="json") for s in agent.shifts]
                for message in validate_shifts(shifts):
                    self.problem(self._shift_path(base, str(message)), str(message))
            if agent.password is not None and agent.password_env is not None:
                self.problem((*base, "password"), "give either 'password' or 'password_env', not both")
            elif agent.password is not None and not self.allow_plain_passwords:
                plain.append(index)
            elif agent.password_env is not None and agent.password_env not in self.env:
                self.warn(
                    (*base, "password_env"),
                    f"environment variable {agent.password_env} is not set: "
                    "the agent will be created without a password",
                )
            if agent.role == Role.AGENT and not agent.departments and agent.active:
                self.warn((*base, "departments"), "agent belongs to no department: no queue will reach them")
        if plain:
            # One warning, at the first one: the demo file alone would otherwise print a screenful.
            others = f" (and {len(plain) - 1} more agents)" if len(plain) > 1 else ""
            self.warn(
                ("agents", plain[0], "password"),
                f"clear-text password in the file{others}: use 'password_env: NAME' outside the demo",
            )
        if agents and not any(a.role in ORG_WIDE_ROLES and a.active for _, a in agents):
            self.warn(("agents",), "no active owner or admin: nobody can administer the organisation")
        return {agent.handle for _, agent in agents}

    @staticmethod
    def _shift_path(base: Path_, message: str) -> Path_:
        match = re.match(r"shift (\d+)\b", message)
        if match:
            return (*base, "shifts", int(match.group(1)) - 1)
        return (*base, "shifts")

    def _check_accounts(self, accounts: list[tuple[int, AccountConfig]], known_locations: set[str]) -> None:
        self._duplicates("accounts", [(i, a.key) for i, a in accounts], "account key")
        by_ref: dict[tuple[str, str], int] = {}
        has_location = bool(_raw_keys(self.raw.get("locations")))
        for index, account in accounts:
            base: Path_ = ("accounts", index)
            if account.location is None:
                if not has_location:
                    self.problem((*base, "location"), "no location given and no locations declared")
            elif account.location not in known_locations:
                self.problem((*base, "location"), _unknown("location", account.location, known_locations))
            if account.external_id is not None:
                ref = (account.network.value, account.external_id)
                if ref in by_ref:
                    self.problem(
                        (*base, "external_id"),
                        f"accounts[{by_ref[ref]}] already uses {ref[0]} id {ref[1]!r}",
                    )
                else:
                    by_ref[ref] = index
            if isinstance(account.credentials, dict):
                for name, value in account.credentials.items():
                    for variable in env_references(value):
                        if variable not in self.env:
                            self.problem(
                                (*base, "credentials", name),
                                f"environment variable {variable} is not set",
                            )

    def _check_intents(self, intents: list[tuple[int, IntentConfig]], known_departments: set[str]) -> None:
        self._duplicates("intents", [(i, t.name) for i, t in intents], "intent name", "name")
        for index, intent in intents:
            base: Path_ = ("intents", index)
            if intent.department is not None and intent.department not in known_departments:
                self.problem(
                    (*base, "department"), _unknown("department", intent.department, known_departments)
                )
            # A built-in intent may be listed only to send it to a department; a new one must be
            # taught by example, or triage can never predict it.
            if not intent.examples and intent.name not in BUILTIN_INTENTS:
                self.problem((*base, "examples"), f"intent {intent.name!r} needs at least one example phrase")
            for example, count in Counter(e.casefold() for e in intent.examples).items():
                if count > 1:
                    self.warn((*base, "examples"), f"example {example!r} is listed {count} times")

    def _check_rules(
        self,
        rules: list[tuple[int, RoutingRuleConfig]],
        known_departments: set[str],
        known_agencies: set[str],
        handles: set[str],
        known_intents: set[str],
    ) -> None:
        self._duplicates("routing_rules", [(i, r.name) for i, r in rules], "rule name", "name")
        validate_rules = _optional_function("relaydesk.routing.rules", "validate_rules")
        if validate_rules is None:
            self._check_rules_minimal(rules, known_departments)
            return
        raw = [rule.model_dump(mode="json") for _, rule in rules]
        for found in validate_rules(
            raw,
            frozenset(known_departments),
            agencies=frozenset(known_agencies),
            handles=frozenset(handles),
            intents=frozenset(known_intents),
        ):
            position = int(getattr(found, "index", -1))
            if not 0 <= position < len(rules):
                self.problem(("routing_rules",), str(getattr(found, "message", found)))
                continue
            message = str(found.message)
            if message.startswith("duplicate rule name"):
                continue  # already reported with the file's own numbering
            sub = _split_path(str(found.field))
            self.problem(("routing_rules", rules[position][0], *sub), message)

    def _check_approvers(
        self, rules: list[tuple[int, RoutingRuleConfig]], agents: list[tuple[int, AgentConfig]]
    ) -> None:
        """A person named to approve who cannot see the rule's conversations could never approve."""
        people = {agent.handle: agent for _, agent in agents}
        for index, rule in rules:
            department = rule.then.get("department")
            approvers = rule.then.get("approvers")
            if not isinstance(department, str) or not isinstance(approvers, list):
                continue
            for j, approver in enumerate(approvers):
                if not isinstance(approver, str) or not approver.startswith("@"):
                    continue
                person = people.get(approver[1:].lower())
                if person is None or person.role in ORG_WIDE_ROLES or department in person.departments:
                    continue
                self.warn(
                    ("routing_rules", index, "then", "approvers", j),
                    f"{approver} is not in department {department!r} (nor an owner or admin): "
                    "they will not see the replies this rule holds",
                )

    def _check_rules_minimal(
        self, rules: list[tuple[int, RoutingRuleConfig]], known_departments: set[str]
    ) -> None:
        priorities = {p.value for p in Priority}
        for index, rule in rules:
            department = rule.then.get("department")
            if department is not None and department not in known_departments:
                self.problem(
                    ("routing_rules", index, "then", "department"),
                    _unknown("department", str(department), known_departments),
                )
            priority = rule.then.get("priority")
            if priority is not None and priority not in priorities:
                self.problem(
                    ("routing_rules", index, "then", "priority"),
                    _unknown("priority", str(priority), priorities),
                )

    def _check_policies(
        self, policies: list[tuple[int, SlaPolicyConfig]], known_departments: set[str], known_hours: set[str]
    ) -> None:
        self._duplicates("sla_policies", [(i, p.name) for i, p in policies], "policy name", "name")
        scopes: dict[tuple[str | None, str | None, str | None], str] = {}
        for index, policy in policies:
            base: Path_ = ("sla_policies", index)
            if policy.department is not None and policy.department not in known_departments:
                self.problem(
                    (*base, "department"), _unknown("department", policy.department, known_departments)
                )
            if policy.business_hours is not None and policy.business_hours not in known_hours:
                self.problem(
                    (*base, "business_hours"), _unknown("business hours", policy.business_hours, known_hours)
                )
            if policy.business_hours is not None and policy.around_the_clock:
                self.warn((*base, "business_hours"), "ignored: the policy runs around the clock")
            for later, earlier in (
                ("next_response_minutes", "first_response_minutes"),
                ("resolution_minutes", "first_response_minutes"),
            ):
                value = getattr(policy, later)
                if value is not None and value < getattr(policy, earlier):
                    self.warn((*base, later), f"shorter than {earlier}")
            scope = (
                policy.department,
                policy.priority.value if policy.priority else None,
                policy.channel.value if policy.channel else None,
            )
            if scope in scopes:
                self.problem(
                    (*base, "name"),
                    f"policy {scopes[scope]!r} already covers the same department, priority and channel",
                )
            else:
                scopes[scope] = policy.name
        if policies and (None, None, None) not in scopes:
            self.warn(
                ("sla_policies",),
                "no catch-all policy (no department, priority or channel): "
                "some conversations will have no SLA",
            )

    def _check_guidelines(self, guidelines: list[tuple[int, GuidelineConfig]]) -> None:
        self._duplicates("guidelines", [(i, g.name) for i, g in guidelines], "guideline name", "name")
        for index, guideline in guidelines:
            base: Path_ = ("guidelines", index)
            if guideline.kind not in KNOWN_GUIDELINE_KINDS:
                self.warn((*base, "kind"), _unknown("guideline kind", guideline.kind, KNOWN_GUIDELINE_KINDS))
            if guideline.kind == "banned_phrase":
                phrases = guideline.params.get("phrases")
                if (
                    not isinstance(phrases, list)
                    or not phrases
                    or not all(isinstance(p, str) and p.strip() for p in phrases)
                ):
                    self.problem(
                        (*base, "params", "phrases"), "banned_phrase needs a non-empty list of phrases"
                    )


def _salvage(model: type[BaseModel], value: Any, error: ValidationError) -> Any:
    """The item with its faulty optional fields left out, so the checks across sections can still
    run on the rest of it (an agent with a bad time zone still gets its departments checked).
    Only ever used for reporting: a file with errors yields no config."""
    if not isinstance(value, dict):
        return None
    candidate = copy.deepcopy(value)
    for _attempt in range(5):
        removed = False
        for found in error.errors():
            removed = _drop_field(candidate, _clean_loc(found["loc"])) or removed
        if not removed:
            return None
        try:
            return model.model_validate(candidate)
        except ValidationError as exc:
            error = exc
    return None


def _drop_field(document: dict[str, Any], loc: Path_) -> bool:
    """Delete the innermost mapping key on `loc`; False when there is none to delete."""
    node: Any = document
    target: tuple[dict[str, Any], str] | None = None
    for elem in loc:
        if isinstance(node, dict) and isinstance(elem, str) and elem in node:
            target = (node, elem)
            node = node[elem]
        elif isinstance(node, list) and isinstance(elem, int) and 0 <= elem < len(node):
            node = node[elem]
        else:
            break
    if target is None:
        return False
    del target[0][target[1]]
    return True


def _split_path(dotted: str) -> Path_:
    """`when.any[1].intent` -> ("when", "any", 1, "intent")."""
    out: list[str | int] = []
    for part in dotted.split("."):
        if not part:
            continue
        name, *indexes = re.split(r"\[(\d+)\]", part)
        if name:
            out.append(name)
        out.extend(int(i) for i in indexes if i)
    return tuple(out)
