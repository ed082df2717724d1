"""What every section's check shares: the document being checked, where its problems go, the
wording of a bad reference or a duplicate, and pydantic's errors said in the format's terms."""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from relaydesk.config.problems import Issue, Path_, Severity
from relaydesk.config.schemas import all_field_names

_SECRET_FIELDS = ("credentials", "password")


class Checker:
    """The raw document (plain Python) and the issues found in it so far, in the order found."""

    def __init__(self, raw: dict[str, Any], env: Mapping[str, str], allow_plain_passwords: bool) -> None:
        self.raw = raw
        self.env = env
        self.allow_plain_passwords = allow_plain_passwords
        self.issues: list[Issue] = []

    def problem(self, path: Path_, message: str, severity: Severity = "error") -> None:
        self.issues.append(Issue(path, message, severity))

    def warn(self, path: Path_, message: str) -> None:
        self.problem(path, message, "warning")

    def duplicates(
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

    def raw_keys(self, section: str, field_name: str = "key") -> set[str]:
        return raw_keys(self.raw.get(section), field_name)


def known(names: Iterable[str]) -> str:
    listed = sorted(set(names))
    shown = ", ".join(listed[:15]) + (", ..." if len(listed) > 15 else "")
    return f"known: {shown}" if listed else "none declared"


def unknown(kind: str, value: str, names: Iterable[str]) -> str:
    listed = sorted(set(names))
    close = difflib.get_close_matches(value, listed, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown {kind} {value!r} ({hint}{known(listed)})"


def raw_keys(section: Any, field_name: str = "key") -> set[str]:
    """Keys named in a raw section, valid items or not: a typo elsewhere in an item must not
    make every reference to it look unknown too."""
    keys: set[str] = set()
    if isinstance(section, list):
        for item in section:
            if isinstance(item, Mapping) and isinstance(item.get(field_name), str):
                keys.add(item[field_name].strip())
                if field_name == "key":
                    keys |= raw_keys(item.get("children"), field_name)
    return keys


def not_in_vocabulary(name: str) -> str:
    return (
        f"intent {name!r} is not one of this organisation's intents, so triage never answers it: "
        "an organisation that teaches intents by example has exactly the intents it lists "
        "(list a built-in one by name to keep it)"
    )


def split_path(dotted: str) -> Path_:
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


# --------------------------------------------------------------------------- pydantic's errors


def clean_loc(loc: Sequence[str | int]) -> Path_:
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


def pydantic_issues(exc: ValidationError, prefix: Path_) -> list[Issue]:
    names = all_field_names()
    issues: list[Issue] = []
    seen: set[tuple[Path_, str]] = set()
    for error in exc.errors():
        loc = error["loc"]
        path = (*prefix, *clean_loc(loc))
        kind = error["type"]
        secret = any(isinstance(p, str) and p in _SECRET_FIELDS for p in path)
        at_key = False
        if kind == "missing":
            message = "required field is missing"
        elif kind == "extra_forbidden":
            at_key = True
            unknown_name = str(path[-1]) if path else ""
            close = difflib.get_close_matches(unknown_name, sorted(names), n=1)
            message = f"unknown field {unknown_name!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
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
        issues.append(Issue(path, message, "error", at_key))
    return issues


def salvage(model: type[BaseModel], value: Any, error: ValidationError) -> Any:
    """The item with its faulty optional fields left out, so the checks across sections can still
    run on the rest of it (an agent with a bad time zone still gets its departments checked).
    Only ever used for reporting: a file with errors yields no config."""
    if not isinstance(value, dict):
        return None
    candidate = copy.deepcopy(value)
    for _attempt in range(5):
        removed = False
        for found in error.errors():
            removed = _drop_field(candidate, clean_loc(found["loc"])) or removed
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
