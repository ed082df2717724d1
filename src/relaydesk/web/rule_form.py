"""A routing rule as the settings form shows it, and the form's answer back as a rule.

The form has a control for each condition people use every day; what it has none for (`any`,
`not`, `contact`, `time`) stays in an "advanced" box as YAML, so a rule written as code is never
flattened by a save in the browser.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

LIST_CONDITIONS = ("channel", "account", "location", "language", "intent", "sentiment", "stage", "urgency")
SIGNAL_CONDITIONS = ("spam", "crisis", "complaint")
FORM_CONDITIONS = frozenset({*LIST_CONDITIONS, *SIGNAL_CONDITIONS, "urgency_at_least", "keywords"})
LIST_ACTIONS = ("tags", "approvers", "notify")
FORM_ACTIONS = frozenset({"department", "priority", "assignee", "team", "require_approval", *LIST_ACTIONS})


@dataclass
class RuleForm:
    """What each control shows: lists for the multi-choice ones, text for the others."""

    name: str = ""
    lists: dict[str, list[str]] = field(default_factory=dict)
    signals: dict[str, str] = field(default_factory=dict)  # "" (either), "yes", "no"
    urgency_at_least: str = ""
    keywords: str = ""  # one per line
    department: str = ""
    priority: str = ""
    assignee: str = ""
    team: str = ""
    require_approval: bool = False
    tags: str = ""  # comma-separated
    approvers: list[str] = field(default_factory=list)
    notify: str = ""  # comma-separated
    advanced: str = ""  # YAML of the conditions the form has no control for
    stop: bool = False
    enabled: bool = True


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v is not None]
    return [str(value)]


def _dump(value: Mapping[str, Any]) -> str:
    if not value:
        return ""
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    out = io.StringIO()
    yaml.dump(dict(value), out)
    return out.getvalue()


def to_form(
    name: str, when: Mapping[str, Any], then: Mapping[str, Any], stop: bool, enabled: bool
) -> RuleForm:
    form = RuleForm(name=name, stop=stop, enabled=enabled)
    form.lists = {key: _as_list(when.get(key)) for key in LIST_CONDITIONS}
    form.signals = {
        key: ("" if key not in when else ("yes" if when[key] is True else "no")) for key in SIGNAL_CONDITIONS
    }
    form.urgency_at_least = str(when.get("urgency_at_least") or "")
    form.keywords = "\n".join(_as_list(when.get("keywords")))
    form.advanced = _dump({k: v for k, v in when.items() if k not in FORM_CONDITIONS})
    form.department = str(then.get("department") or "")
    form.priority = str(then.get("priority") or "")
    form.assignee = str(then.get("assignee") or "").lstrip("@")
    form.team = str(then.get("team") or "")
    form.require_approval = bool(then.get("require_approval"))
    form.tags = ", ".join(_as_list(then.get("tags")))
    form.approvers = _as_list(then.get("approvers"))
    form.notify = ", ".join(_as_list(then.get("notify")))
    return form


def _split(text: str, separators: str = ",") -> list[str]:
    for separator in separators[1:]:
        text = text.replace(separator, separators[0])
    return [part.strip() for part in text.split(separators[0]) if part.strip()]


def _advanced(text: str, when: dict[str, Any], problems: list[str]) -> None:
    """Adds the advanced box's conditions to `when`; what is wrong with it goes to `problems`."""
    if not text.strip():
        return
    try:
        extra = YAML(typ="safe", pure=True).load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problems.append(f"advanced conditions: not valid YAML{where}")
        return
    if not isinstance(extra, dict):
        problems.append("advanced conditions: expected 'name: value' lines")
        return
    for key, value in extra.items():
        if key in when:
            problems.append(f"advanced conditions: {key} is already set by the form above")
        else:
            when[str(key)] = value


def _conditions(
    form: RuleForm, one: Callable[[str], str], many: Callable[[str], list[str]]
) -> dict[str, Any]:
    when: dict[str, Any] = {}
    for key in LIST_CONDITIONS:
        values = [v.strip() for v in many(key) if v.strip()]
        if key == "language":
            values += _split(one("language_other").lower(), ", ")
        form.lists[key] = values
        if values:
            when[key] = list(dict.fromkeys(values))
    for key in SIGNAL_CONDITIONS:
        choice = one(key)
        form.signals[key] = choice if choice in ("yes", "no") else ""
        if form.signals[key]:
            when[key] = form.signals[key] == "yes"
    form.urgency_at_least = one("urgency_at_least").strip()
    if form.urgency_at_least:
        when["urgency_at_least"] = form.urgency_at_least
    form.keywords = one("keywords")
    keywords = _split(form.keywords, "\n\r")
    if keywords:
        when["keywords"] = keywords
    return when


def _actions(form: RuleForm, one: Callable[[str], str], many: Callable[[str], list[str]]) -> dict[str, Any]:
    then: dict[str, Any] = {}
    for key in ("department", "priority", "assignee", "team"):
        value = one(key).strip()
        setattr(form, key, value)
        if value:
            then[key] = value
    form.require_approval = one("require_approval") == "1"
    form.approvers = [a for a in many("approvers") if a.strip()]
    form.tags = one("tags")
    form.notify = one("notify")
    for key, text in (("tags", form.tags), ("notify", form.notify)):
        values = _split(text, ",،")  # the Arabic-script comma too
        if values:
            then[key] = values
    if form.approvers:
        then["approvers"] = form.approvers
        form.require_approval = True
    if form.require_approval:
        then["require_approval"] = True
    return then


def from_answer(
    one: Callable[[str], str], many: Callable[[str], list[str]]
) -> tuple[RuleForm, dict[str, Any], dict[str, Any], list[str]]:
    """The submitted form, the rule it says (when, then) and the problems only the form can have.

    `one(name)` is a field's text ("" when absent), `many(name)` every value of a multi-choice.
    """
    form = RuleForm(name=one("name").strip())
    problems: list[str] = []
    when = _conditions(form, one, many)
    form.advanced = one("advanced")
    _advanced(form.advanced, when, problems)
    then = _actions(form, one, many)
    form.stop = one("stop") == "1"
    form.enabled = one("enabled") == "1"
    return form, when, then, problems
