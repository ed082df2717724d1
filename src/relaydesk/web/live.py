"""GET /live: the page's Server-Sent Events stream (see core/live.py for what it carries)."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from relaydesk.core.live import FEED
from relaydesk.web.session import container_of, current_caller

router = APIRouter(include_in_schema=False)


@router.get("/live", response_model=None)
async def live(request: Request) -> Response:
    caller = await run_in_threadpool(current_caller, request)
    if caller is None:
        # EventSource gives up on a 401/204; the page falls back to its slow refresh.
        return Response(status_code=204)
    conversations = container_of(request).conversations
    scope = caller.scope

    def visible(ids: Iterable[int]) -> set[int]:
        return conversations.visible_ids(scope, ids)

    stream = FEED.stream(
        scope.org_id,
        scope.user_id,
        request.headers.get("last-event-id"),
        visible,
        disconnected=request.is_disconnected,
    )
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        # Proxies must pass each event on at once, and nothing may cache a person's stream.
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
