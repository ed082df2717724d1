"""Files attached to replies, served to the people who see their conversation."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from relaydesk.core.errors import NotFound
from relaydesk.web.errors import not_found
from relaydesk.web.i18n import _
from relaydesk.web.session import container_of, current_caller, to_login

router = APIRouter(include_in_schema=False)


@router.get("/media/{media_id}", response_model=None)
def media_file(request: Request, media_id: int) -> Response:
    """A file attached to a reply, for the people who see its conversation."""
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    try:
        row = container_of(request).conversations.media(caller.scope, media_id)
    except NotFound:
        return not_found(request, caller, _("There is no such file, or it is not yours to see."))
    # Images and PDFs open in the browser; nothing in the file may run as this site's page.
    disposition = "inline" if row.kind == "image" or row.mime_type == "application/pdf" else "attachment"
    return Response(
        content=row.data,
        media_type=row.mime_type,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(row.name)}",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600",
        },
    )
