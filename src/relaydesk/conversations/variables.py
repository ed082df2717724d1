"""Saved replies' variables (`{customer.first_name}`...) and which language variant to use.

Pure: the config checks texts with `unknown_variables` when the file is loaded, the conversation
page and the API fill them with `fill` for one conversation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# What a saved reply may name; each `*.first_name` is derived from the matching `*.name`.
VARIABLES: tuple[str, ...] = (
    "customer.first_name",
    "customer.name",
    "agent.first_name",
    "agent.name",
    "location.name",
)
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
# Arabic (and Persian) names such as "عبد الله" or "أبو بكر" are one given name in two words.
_JOINED_PREFIXES = frozenset({"عبد", "ابو", "أبو", "abd", "abdul", "abu"})


@dataclass(frozen=True)
class UnknownVariable:
    name: str
    offset: int  # where its `{` sits in the text, counted in characters


def unknown_variables(text: str) -> list[UnknownVariable]:
    """Every `{...}` of the text that is not one of VARIABLES, in order."""
    return [
        UnknownVariable(m.group(1), m.start())
        for m in _PLACEHOLDER.finditer(text)
        if m.group(1).strip() not in VARIABLES
    ]


def first_name(name: str | None) -> str:
    """The first word of a display name ("مریم احمدی" -> "مریم"), keeping "عبد الله" together."""
    words = (name or "").split()
    if len(words) > 1 and words[0].lower() in _JOINED_PREFIXES:
        return f"{words[0]} {words[1]}"
    return words[0] if words else ""


def fill(text: str, values: Mapping[str, str | None]) -> str:
    """The text with its variables replaced; `values` names `customer.name`, `agent.name`,
    `location.name` (first names come from them). What is missing becomes "", never `{...}`."""
    known: dict[str, str] = {name: values.get(name) or "" for name in VARIABLES}
    for who in ("customer", "agent"):
        if not values.get(f"{who}.first_name"):
            known[f"{who}.first_name"] = first_name(values.get(f"{who}.name"))

    def replace(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        return known[name] if name in known else match.group(0)

    return _PLACEHOLDER.sub(replace, text)


def _base(language: str | None) -> str:
    return (language or "").strip().lower().split("-")[0]


def choose(
    texts: Mapping[str, str], conversation_language: str | None, agent_languages: Iterable[str]
) -> tuple[str, str] | None:
    """(language, text): the conversation's language, else the agent's first language, else
    English, else the first text. None when there is no text at all."""
    by_base = {_base(code): (code, text) for code, text in reversed(list(texts.items()))}
    agent_first = next(iter(agent_languages), None)
    for wanted in (conversation_language, agent_first, "en"):
        if wanted and (texts.get(wanted) is not None):
            return wanted, texts[wanted]
        if wanted and _base(wanted) in by_base:
            return by_base[_base(wanted)]
    first = next(iter(texts.items()), None)
    return first
