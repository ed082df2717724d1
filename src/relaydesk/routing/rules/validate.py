"""The two entry points for saved rules: list their problems, or compile them."""

from __future__ import annotations

from relaydesk.routing.rules.compiler import Compiler
from relaydesk.routing.rules.problems import RuleError, RuleProblem
from relaydesk.routing.rules.rule import Rule


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
    compiler = Compiler(departments, agencies, handles, intents)
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
    compiler = Compiler(known_departments, agencies, handles, intents)
    rules = compiler.rules(raw)
    if compiler.problems:
        first = compiler.problems[0]
        raise RuleError(first.path, first.message, compiler.problems)
    return rules
