"""Why rules are rejected at save: every problem with its path, in words a team lead can act on."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


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


def type_name(value: object) -> str:
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


def unknown(kind: str, name: object, known: Sequence[str] | frozenset[str] | set[str]) -> str:
    message = f"unknown {kind} {name!r}"
    close = difflib.get_close_matches(str(name), sorted(known), n=1) if isinstance(name, str) else []
    if close:
        return f"{message}; did you mean {close[0]!r}?"
    listed = sorted(known)
    shown = ", ".join(listed[:12]) + (", ..." if len(listed) > 12 else "")
    return f"{message}; expected one of: {shown}" if listed else message
