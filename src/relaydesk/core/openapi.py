"""The OpenAPI document as the server really answers: our error shapes and every error status.

FastAPI documents only the success status and its own 422 shape (`detail` as a list of pydantic
errors), while RelayDesk answers every error as `{"detail": "<plain words>"}` and a validation
error with `errors: [{field, message}]` beside it (app.py). Clients generated from the document
must be able to parse what they receive, so the document is rewritten once, here (pure: a dict
in, a dict out).
"""

from __future__ import annotations

import copy
from typing import Any

ERROR_SCHEMA = "Error"
VALIDATION_SCHEMA = "ValidationErrorResponse"

_ERROR: dict[str, Any] = {
    "title": ERROR_SCHEMA,
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "string", "description": "What is wrong, in plain words."}},
}
_VALIDATION: dict[str, Any] = {
    "title": VALIDATION_SCHEMA,
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "description": "Every problem, joined: `field: message; ...`."},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": "string", "description": "Where: `body.text`, `query.limit`."},
                    "message": {"type": "string"},
                },
            },
        },
    },
}

# Why each status can come back; every operation may answer the ones in ALWAYS.
_REASONS: dict[str, str] = {
    "400": "The request cannot be used as sent (bad JSON, a value the product refuses).",
    "401": "Not signed in: no valid session, API token or webhook signature.",
    "403": "Signed in, but the caller's role or scope does not allow this.",
    "404": "Not found, or not visible to the caller.",
    "409": "Conflicts with the current state (already resolved, a name or identity in use).",
    "413": "The body is larger than the server's limit (`RELAYDESK_MAX_BODY_BYTES`).",
    "422": "A field is missing or invalid; `errors` says which and why.",
    "429": "Too many requests; retry after the number of seconds in `Retry-After`.",
    "503": "The database, bus or a secret is unavailable; nothing was stored, retry later.",
}
ALWAYS = ("400", "401", "403", "404", "409", "413", "422", "429", "503")
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _error_response(status: str) -> dict[str, Any]:
    schema = VALIDATION_SCHEMA if status == "422" else ERROR_SCHEMA
    response: dict[str, Any] = {
        "description": _REASONS[status],
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }
    if status in ("429", "503"):
        response["headers"] = copy.deepcopy(_RETRY_AFTER)
    return response


def document_errors(spec: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of `spec` whose error responses match what the app answers."""
    spec = copy.deepcopy(spec)
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas[ERROR_SCHEMA] = copy.deepcopy(_ERROR)
    schemas[VALIDATION_SCHEMA] = copy.deepcopy(_VALIDATION)
    for path_item in spec.get("paths", {}).values():
        for method in _METHODS:
            operation = path_item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in ALWAYS:
                documented = responses.get(status)
                if documented is None or _is_fastapi_validation(documented):
                    keep = documented.get("description") if documented and status != "422" else None
                    responses[status] = _error_response(status)
                    if keep:
                        responses[status]["description"] = keep
    return spec


def _is_fastapi_validation(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref", "").endswith("/HTTPValidationError"))
