"""REST endpoints for social listening: thin wrappers over ListeningService."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Response

from relaydesk.container import Container
from relaydesk.core.errors import UserError
from relaydesk.core.pagination import CURSOR_HELP, CURSOR_MAX_LENGTH, cursor_id
from relaydesk.crisis.schemas import ConvertIn, IngestReport, ItemOut, ItemPage, QueryIn, QueryOut
from relaydesk.crisis.service import ListeningService
from relaydesk.deps import ContainerDep, ScopeDep

router = APIRouter(prefix="/api/v1/listening", tags=["listening"])

QueryName = Annotated[str, Path(min_length=1, max_length=128)]


def listening_service(container: Container) -> ListeningService:
    # Stateless over the container's parts, so building one per request costs nothing.
    return ListeningService(container.sessions, container.pipeline, container.triage)


@router.get("/queries", response_model=list[QueryOut])
def list_queries(container: ContainerDep, scope: ScopeDep) -> list[QueryOut]:
    return listening_service(container).queries(scope)


@router.put(
    "/queries/{name}",
    response_model=QueryOut,
    responses={201: {"model": QueryOut, "description": "A new query was created."}},
)
def put_query(
    name: QueryName, body: QueryIn, container: ContainerDep, scope: ScopeDep, response: Response
) -> QueryOut:
    out, created = listening_service(container).put_query(scope, name, body)
    response.status_code = 201 if created else 200
    return out


@router.get("/items", response_model=ItemPage)
def list_items(
    container: ContainerDep,
    scope: ScopeDep,
    status: Annotated[str | None, Query(description="new, dismissed or converted")] = None,
    query: Annotated[str | None, Query(max_length=128, description="listening query name")] = None,
    language: Annotated[str | None, Query(max_length=16)] = None,
    cursor: Annotated[str | None, Query(max_length=CURSOR_MAX_LENGTH, description=CURSOR_HELP)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ItemPage:
    before = cursor_id(cursor) if cursor else None
    return listening_service(container).items(
        scope, status=status, query=query, language=language, before=before, limit=limit
    )


@router.post("/items/{item_id}/convert", response_model=ItemOut)
def convert_item(
    item_id: int, container: ContainerDep, scope: ScopeDep, body: ConvertIn | None = None
) -> ItemOut:
    return listening_service(container).convert(scope, item_id, body.account_id if body else None)


@router.post("/items/{item_id}/dismiss", response_model=ItemOut)
def dismiss_item(item_id: int, container: ContainerDep, scope: ScopeDep) -> ItemOut:
    return listening_service(container).dismiss(scope, item_id)


@router.post("/ingest", response_model=IngestReport)
def ingest(
    container: ContainerDep,
    scope: ScopeDep,
    body: Annotated[
        dict[str, Any],
        Body(
            description="network=x: an X API v2 search response (`data` posts, `includes.users`); "
            "network=instagram: an IG hashtag `recent_media` / `top_media` page or the account's "
            "`tags` page (`data` IG Media)"
        ),
    ],
    query: Annotated[str | None, Query(max_length=128, description="listening query name")] = None,
    network: Annotated[Literal["x", "instagram"], Query(description="whose API response the body is")] = "x",
) -> IngestReport:
    name = query or body.get("query")
    if not isinstance(name, str) or not name.strip():
        raise UserError('query: name the listening query (?query=<name> or "query" in the body)')
    service = listening_service(container)
    if network == "instagram":
        return service.ingest_instagram_media(scope, name.strip(), body)
    return service.ingest_x_search(scope, name.strip(), body)
