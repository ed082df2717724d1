"""The whole organisation as YAML through the API: export, validate, apply."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from ruamel.yaml import YAML

from relaydesk.audit.service import act_as
from relaydesk.config.loader import load_config_text
from relaydesk.config.service import (
    ConfigApplyError,
    IdentityTaken,
    apply_config,
    export_config,
    organization_key,
)
from relaydesk.core.errors import Refused
from relaydesk.db import transaction
from relaydesk.deps import ContainerDep, ScopeDep
from relaydesk.web.limits import read_body

router = APIRouter(prefix="/api/v1/config", tags=["config"])


@router.get("")
def get_config(container: ContainerDep, scope: ScopeDep) -> dict[str, Any]:
    """The organisation as the YAML document that would recreate it (secrets redacted)."""
    scope.require_configure()
    with container.sessions() as session:
        org_key = organization_key(session, scope.org_id)
        assert org_key is not None
        return export_config(session, org_key)


async def _problems(request: Request, container: ContainerDep) -> tuple[Any, list[dict[str, Any]]]:
    body = await read_body(request, container.settings.max_body_bytes)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(status_code=400, detail="body: not UTF-8 text") from exc
    result = load_config_text(text, "request-body.yaml")
    problems = [
        {
            "line": p.line,
            "column": p.column,
            "field": p.field,
            "message": p.message,
            "severity": p.severity,
            "text": str(p),
        }
        for p in result.problems
    ]
    return result, problems


@router.post("/validate")
async def validate(request: Request, container: ContainerDep, scope: ScopeDep) -> dict[str, Any]:
    """Send the YAML as the request body; every problem comes back with its line and field."""
    scope.require_configure()
    _result, problems = await _problems(request, container)
    return {"valid": not any(p["severity"] == "error" for p in problems), "problems": problems}


@router.put("")
async def apply(request: Request, container: ContainerDep, scope: ScopeDep) -> dict[str, Any]:
    """Apply a YAML document (idempotent: applying it twice changes nothing the second time)."""
    scope.require_configure()
    result, problems = await _problems(request, container)
    errors = [p for p in problems if p["severity"] == "error"]
    if errors or result.config is None:
        # The shape of every 422 (`detail` in words, `errors` by field), plus each problem's line.
        listed = errors or problems
        raise Refused(
            "; ".join(p["text"] for p in listed[:10]) or "the configuration is not valid",
            errors=[{"field": p["field"] or f"line {p['line']}", "message": p["message"]} for p in listed],
            problems=problems,
        )
    with container.sessions() as session:
        org_key = organization_key(session, scope.org_id)
        assert org_key is not None
        if result.config.organization.key != org_key:
            raise HTTPException(
                status_code=403,
                detail=f"organization.key: this token belongs to '{org_key}', not '{result.config.organization.key}'",
            )
    try:
        with transaction(container.sessions) as session:
            act_as(session, scope, "api")
            summary = apply_config(session, result.config, container.box)
    except IdentityTaken as exc:
        # The file is valid; what it claims belongs to someone else.
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    except ConfigApplyError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    container.triage.invalidate(scope.org_id)
    return {"applied": True, "summary": _summary_dict(summary), "problems": problems}


def _summary_dict(summary: Any) -> dict[str, Any]:
    return dict(summary.as_dict())


def dump_yaml(data: dict[str, Any]) -> str:
    import io

    yaml = YAML()
    yaml.default_flow_style = False
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()
