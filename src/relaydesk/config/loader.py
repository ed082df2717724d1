"""Read `relaydesk.yaml`, and report every problem in it with the file, line and field.

Validation runs item by item, so one broken agent does not hide the problems of the others:
each section's items are checked against their model, then the valid ones are checked across
sections (references, duplicates, environment variables) by each section's `check`. Line numbers
come from ruamel.yaml's round-trip loader, which keeps the position of every node.

Clear-text `password:` on an agent is accepted but warned about, except in the packaged demo file
(or with `allow_plain_passwords=True`): a real organisation should use `password_env:`.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel, ValidationError

from relaydesk.config.check import Checker, pydantic_issues, salvage
from relaydesk.config.problems import ConfigProblem, Issue, LoadResult, Path_, Severity
from relaydesk.config.schemas import SECTION_MODELS, LocationNode, OrganizationConfig, OrgConfig
from relaydesk.config.sections import (
    accounts,
    agencies,
    agents,
    business_hours,
    canned_responses,
    departments,
    destinations,
    faq,
    guidelines,
    intents,
    listening,
    locations,
    organization,
    routing_rules,
    sla_policies,
)
from relaydesk.config.source import (
    DEMO_CONFIG_PATH,
    MAX_YAML_DEPTH,
    MAX_YAML_VALUES,
    expanded_size,
    format_path,
    is_demo,
    located,
    parse,
    plain,
    read_text,
)
from relaydesk.core.enums import BUILTIN_INTENTS

__all__ = [
    "DEMO_CONFIG_PATH",
    "MAX_YAML_DEPTH",
    "MAX_YAML_VALUES",
    "ConfigProblem",
    "LoadResult",
    "Severity",
    "expanded_size",
    "format_path",
    "load_config",
    "load_config_text",
    "load_demo_config",
]


def load_config(
    path: Path,
    *,
    env: Mapping[str, str] | None = None,
    allow_plain_passwords: bool | None = None,
) -> LoadResult:
    """Validate a config file; `env` (default: os.environ) is where `${NAME}` is looked up."""
    text = read_text(path)
    if isinstance(text, ConfigProblem):
        return LoadResult(None, [text])
    if allow_plain_passwords is None:
        allow_plain_passwords = is_demo(Path(path))
    return load_config_text(text, str(path), env=env, allow_plain_passwords=allow_plain_passwords)


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
    document = parse(text, filename)
    if isinstance(document, ConfigProblem):
        return LoadResult(None, [document])
    checker = Checker(plain(document), env if env is not None else os.environ, allow_plain_passwords)
    config = _check(checker)
    problems = sorted(
        (located(filename, document, issue) for issue in checker.issues),
        key=lambda p: (p.line, p.column, p.severity != "error", p.field),
    )
    has_errors = any(p.severity == "error" for p in problems)
    return LoadResult(None if has_errors else config, problems)


def _check(c: Checker) -> OrgConfig | None:
    allowed = {"version", "organization", *SECTION_MODELS}
    for key in c.raw:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            c.issues.append(Issue((key,), f"unknown section {key!r}{hint}", "error", at_key=True))
    if c.raw.get("version", 1) != 1:
        c.problem(("version",), f"unsupported format version {c.raw.get('version')!r} (expected 1)")
    org = _validate_one(c, ("organization",), OrganizationConfig, c.raw.get("organization"))
    items = {section: _validate_section(c, section, model) for section, model in SECTION_MODELS.items()}
    _cross_check(c, org, items)
    if any(i.severity == "error" for i in c.issues) or org is None:
        return None
    return OrgConfig(
        organization=org,
        # Only the sections the file has: an apply leaves a section it does not mention alone.
        **{section: [item for _, item in items[section]] for section in SECTION_MODELS if section in c.raw},
    )


def _validate_one(c: Checker, path: Path_, model: type[BaseModel], value: Any) -> Any:
    if value is None and path == ("organization",):
        c.problem(path, "required section is missing: organization: {key: ..., name: ...}")
        return None
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        c.issues.extend(pydantic_issues(exc, path))
        return salvage(model, value, exc)


def _validate_section(c: Checker, section: str, model: type[BaseModel]) -> list[tuple[int, Any]]:
    value = c.raw.get(section)
    if value is None:
        return []
    if not isinstance(value, list):
        c.problem((section,), f"{section} must be a list (items start with '- ')")
        return []
    valid: list[tuple[int, Any]] = []
    for index, item in enumerate(value):
        parsed = _validate_one(c, (section, index), model, item)
        if parsed is not None:
            valid.append((index, parsed))
    return valid


def _cross_check(c: Checker, org: OrganizationConfig | None, items: dict[str, list[tuple[int, Any]]]) -> None:
    # References are checked against every key the file names, valid item or not (see raw_keys).
    known_hours = c.raw_keys("business_hours")
    known_agencies = c.raw_keys("agencies")
    known_departments = c.raw_keys("departments")
    known_locations = c.raw_keys("locations")
    known_intents = set(BUILTIN_INTENTS) | c.raw_keys("intents", "name")
    vocabulary = intents.vocabulary(items["intents"])
    # The order of the checks is the order of same-line problems in the report.
    business_hours.check(c, items["business_hours"])
    locations.check(c, [(index, cast(LocationNode, node)) for index, node in items["locations"]], known_hours)
    agencies.check(c, items["agencies"], known_intents, vocabulary)
    departments.check(c, items["departments"], known_agencies)
    organization.check(c, org, known_departments)
    known_accounts = c.raw_keys("accounts") if "accounts" in c.raw else None
    handles = agents.check(
        c, items["agents"], known_departments, known_agencies, known_locations, known_accounts
    )
    accounts.check(c, items["accounts"], known_locations)
    intents.check(c, items["intents"], known_departments)
    routing_rules.check(
        c, items["routing_rules"], known_departments, known_agencies, handles, known_intents, vocabulary
    )
    routing_rules.check_approvers(c, items["routing_rules"], items["agents"])
    sla_policies.check(c, items["sla_policies"], known_departments, known_hours)
    guidelines.check(c, items["guidelines"], known_locations)
    faq.check(c, items["faq"], known_locations)
    canned_responses.check(c, items["canned_responses"], known_departments)
    listening.check(c, items["listening"], known_locations)
    destinations.check(c, items["notification_destinations"])
    locations.check_declared(c, org)
