"""FAQ entries over the API: proposed as drafts, approved by PR, retired, tried on a question.

Owners, admins and the members of a spokesperson department approve, retire and delete; other
managers and agents create and edit drafts; viewers nothing (guidelines/faq_access.py).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from relaydesk.core.errors import Refused
from relaydesk.db import reading, transaction
from relaydesk.deps import ContainerDep, ScopeDep
from relaydesk.guidelines.faq_access import FaqAction
from relaydesk.guidelines.faq_service import faq_service
from relaydesk.guidelines.schemas import FaqImportOut, FaqIn, FaqOut, FaqSuggestionOut, FaqTryIn

router = APIRouter(prefix="/api/v1/faq", tags=["faq"])
MAX_CSV_BYTES = 2 * 1024 * 1024
_CSV_BODY: dict[str, Any] = {
    "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
}


@router.get("", response_model=list[FaqOut])
def list_faq(
    container: ContainerDep,
    scope: ScopeDep,
    status: Literal["draft", "approved", "retired"] | None = None,
    q: str | None = None,
) -> list[FaqOut]:
    """Drafts awaiting approval first; `q` searches keys, questions, variants and answers."""
    with reading(container.sessions) as session:
        return faq_service.list(session, scope, status=status, search=q)


@router.post("/try", response_model=list[FaqSuggestionOut])
def try_faq(body: FaqTryIn, container: ContainerDep, scope: ScopeDep) -> list[FaqSuggestionOut]:
    """The answers an agent would be offered for this customer message today; nothing is stored."""
    with reading(container.sessions) as session:
        found = faq_service.try_message(session, scope, body.text, body.language, body.place)
    return [FaqSuggestionOut(**vars(s)) for s in found]


@router.get("/export.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def export_faq(container: ContainerDep, scope: ScopeDep) -> Response:
    """Every entry the caller sees, one a row (the columns are in guidelines/faq_csv.py)."""
    with reading(container.sessions) as session:
        text = faq_service.export_csv(session, scope)
    return Response(text, media_type="text/csv; charset=utf-8")


@router.post("/import", response_model=FaqImportOut, openapi_extra=_CSV_BODY)
async def import_faq(request: Request, container: ContainerDep, scope: ScopeDep) -> FaqImportOut:
    """Create or change the entries of a CSV file (the export's columns), all or none: new ones are
    drafts, changed approved ones go back to draft. A mistake is a 422 naming its line and column."""
    data = await request.body()
    if len(data) > MAX_CSV_BYTES:
        raise Refused("file: larger than 2 MB; split it", field="file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refused("file: not UTF-8 text", field="file") from None

    def run() -> FaqImportOut:
        with transaction(container.sessions) as session:
            return FaqImportOut(**vars(faq_service.import_csv(session, scope, text)))

    return await run_in_threadpool(run)


@router.get("/{key}", response_model=FaqOut)
def get_faq(key: str, container: ContainerDep, scope: ScopeDep) -> FaqOut:
    with reading(container.sessions) as session:
        return faq_service.get(session, scope, key)


@router.put("/{key}", response_model=FaqOut)
def put_faq(key: str, body: FaqIn, container: ContainerDep, scope: ScopeDep) -> FaqOut:
    """Create a draft or change an entry. Changing the text of an approved entry puts it back to
    draft: it is not suggested until approved again."""
    with transaction(container.sessions) as session:
        return faq_service.put(session, scope, key, body)


@router.post("/{key}/approve", response_model=FaqOut)
def approve_faq(key: str, container: ContainerDep, scope: ScopeDep) -> FaqOut:
    with transaction(container.sessions) as session:
        return faq_service.set_status(session, scope, key, FaqAction.APPROVE)


@router.post("/{key}/draft", response_model=FaqOut)
def draft_faq(key: str, container: ContainerDep, scope: ScopeDep) -> FaqOut:
    """Back to draft: no longer suggested until approved again."""
    with transaction(container.sessions) as session:
        return faq_service.set_status(session, scope, key, FaqAction.DRAFT)


@router.post("/{key}/retire", response_model=FaqOut)
def retire_faq(key: str, container: ContainerDep, scope: ScopeDep) -> FaqOut:
    with transaction(container.sessions) as session:
        return faq_service.set_status(session, scope, key, FaqAction.RETIRE)


@router.delete("/{key}", status_code=204)
def delete_faq(key: str, container: ContainerDep, scope: ScopeDep) -> None:
    with transaction(container.sessions) as session:
        faq_service.delete(session, scope, key)
