"""A hostile organisation document through the API costs a bounded effort and gets a clear 4xx:
nesting past 64 levels, aliases that expand past a million values, and bodies past the limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from relaydesk.config.loader import MAX_YAML_DEPTH, MAX_YAML_VALUES, expanded_size, load_config_text
from tests.api.conftest import login

ORG_YAML = (Path(__file__).resolve().parents[1] / "fixtures" / "org.yaml").read_text()


def alias_bomb(width: int = 9, levels: int = 9) -> str:
    """Nine aliases of nine aliases of ...: 9**9 values for whatever walks the document."""
    text = "l0: &l0 [" + ", ".join(["x"] * width) + "]\n"
    for level in range(1, levels):
        text += f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]\n"
    return text


NESTED_FLOW = "organization: " + "[" * 100_000 + "]" * 100_000 + "\n"
NESTED_BLOCK = "".join("  " * level + "a:\n" for level in range(MAX_YAML_DEPTH + 5)) + "  " * 69 + "b: 1\n"
BOMB = ORG_YAML.replace("intents:\n", "intents: *l8\n_unused_intents:\n", 1)
BOMB = "_anchors:\n" + "".join(f"  {line}\n" for line in alias_bomb().splitlines()) + BOMB


@pytest.mark.parametrize("route", ["PUT /api/v1/config", "POST /api/v1/config/validate"])
@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (NESTED_FLOW, f"the document nests deeper than {MAX_YAML_DEPTH} levels"),
        (NESTED_BLOCK, f"the document nests deeper than {MAX_YAML_DEPTH} levels"),
        (BOMB, f"the document expands to more than {MAX_YAML_VALUES:,} values through its aliases"),
    ],
    ids=["nested-flow", "nested-block", "alias-bomb"],
)
def test_hostile_yaml_is_refused_with_the_reason(
    app_client: TestClient, route: str, document: str, expected: str
) -> None:
    method, path = route.split(" ")
    admin = login(app_client, "admin@test.example")
    response = app_client.request(method, path, content=document.encode(), headers=admin)
    if method == "PUT":
        assert response.status_code == 422, response.text
        problems = response.json()["detail"]["problems"]
    else:
        assert response.status_code == 200, response.text
        assert response.json()["valid"] is False
        problems = response.json()["problems"]
    assert [p["message"] for p in problems if p["message"].startswith(expected)], problems


def test_a_config_body_past_the_limit_is_413(app_client: TestClient) -> None:
    admin = login(app_client, "admin@test.example")
    huge = ORG_YAML + "# " + "x" * (1024 * 1024) + "\n"
    response = app_client.put("/api/v1/config", content=huge.encode(), headers=admin)
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]


def test_the_bounds_leave_a_real_document_alone() -> None:
    result = load_config_text(ORG_YAML, allow_plain_passwords=True)
    assert result.config is not None, result.problems
    # Anchors reused a little (27 values) are an ordinary document: only the unknown section is wrong.
    shared = "_anchors:\n" + "".join(f"  {line}\n" for line in alias_bomb(3, 3).splitlines())
    problems = load_config_text(shared + ORG_YAML, allow_plain_passwords=True).problems
    assert [p.message for p in problems if p.severity == "error"] == ["unknown section '_anchors'"]


def test_expanded_size_counts_every_alias_and_stops_past_the_limit() -> None:
    leaf = ["x", "y"]
    twice = [leaf, leaf]
    assert expanded_size({"a": twice}, 100) == 1 + 1 + (1 + 2 * 3)
    assert expanded_size([twice] * 1000, 50) <= 50 + 8
