"""The server answers as its OpenAPI document says: schemathesis fuzzes every operation.

Bounded (a fixed number of examples per operation, derandomized so CI is repeatable) and run on
both databases. It fails on any 5xx, an undocumented status, a body that does not match the
documented schema, a wrong content type, or a 405 without a complete `Allow` header.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks

from relaydesk.app import create_app

from .conftest import login

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


def test_every_operation_answers_as_documented(container: Any) -> None:
    app = create_app(container.settings, container)
    with TestClient(app) as client:
        headers = login(client, "admin@test.example")
    api_schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    tested = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()

        # A hypothesis test per operation, run at once (schemathesis' pytest plugin lags pytest).
        @given(case=operation.as_strategy())
        @settings(
            max_examples=12,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        tested += 1
        try:
            check()
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")
    assert tested > 50
    assert not failures, "\n\n".join(failures)


def test_a_wrong_method_names_every_allowed_one(app_client: TestClient) -> None:
    response = app_client.delete("/api/v1/config")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, PUT"
    response = app_client.patch("/webhooks/meta")
    assert response.headers["allow"] == "GET, POST"


def test_errors_are_documented_with_the_shape_the_server_sends(app_client: TestClient) -> None:
    spec = app_client.get("/openapi.json").json()
    operation = spec["paths"]["/api/v1/conversations/{conversation_id}"]["get"]
    for status in ("401", "403", "404", "409", "413", "422", "429", "503"):
        assert status in operation["responses"], status
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    bad = app_client.get("/api/v1/conversations/abc", headers=login(app_client, "admin@test.example"))
    assert bad.status_code == 422
    assert isinstance(bad.json()["detail"], str)
    assert bad.json()["errors"][0]["field"] == "path.conversation_id"
