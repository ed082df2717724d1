"""No test may depend on the machine's speed: no hypothesis test runs with a deadline."""

from __future__ import annotations

import ast
from pathlib import Path

from hypothesis import settings

TESTS = Path(__file__).resolve().parent


def test_the_default_profile_has_no_deadline() -> None:
    # tests/conftest.py loads it before any test module is imported.
    assert settings.default.deadline is None


def test_no_hypothesis_settings_in_the_tests_sets_a_deadline() -> None:
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "settings"):
                continue
            for keyword in node.keywords:
                if keyword.arg == "deadline" and not (
                    isinstance(keyword.value, ast.Constant) and keyword.value.value is None
                ):
                    offenders.append(f"{path.relative_to(TESTS)}:{node.lineno}")
    assert offenders == []
