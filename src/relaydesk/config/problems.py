"""What can be wrong with a config: problems found while checking a file, errors raised applying one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from relaydesk.config.schemas import OrgConfig

Severity = Literal["error", "warning"]
Path_ = tuple[str | int, ...]


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
class Issue:
    """A problem found in the parsed document, placed on a line only once the checks are done."""

    path: Path_
    message: str
    severity: Severity = "error"
    at_key: bool = False  # point at the key (unknown field) rather than its value


class ConfigApplyError(ValueError):
    """The config cannot be applied as it stands (e.g. an environment variable went missing)."""


class IdentityTaken(ConfigApplyError):
    """An account claims a network identity (page id, bot id...) another organisation holds.

    Webhooks are routed by that identity, so a second holder would take the first one's traffic.
    The message names the identity, never the organisation holding it.
    """


class UnknownOrganization(LookupError):
    pass
