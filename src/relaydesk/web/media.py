"""Files attached to replies, served to the people who see their conversation."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from relaydesk.channels.channel import MediaUnavailable
from relaydesk.channels.inbound_media import fetch_inbound
from relaydesk.core.errors import NotFound
from relaydesk.models import MediaFile
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
    return _serve(row)


@router.get("/media/inbound/{message_id}/{index}", response_model=None)
def inbound_file(request: Request, message_id: int, index: int) -> Response:
    """A customer's file: fetched from the network the first time anyone opens it, then kept."""
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    container = container_of(request)
    try:
        attachment = container.conversations.attachment(caller.scope, message_id, index)
    except NotFound:
        return not_found(request, caller, _("There is no such file, or it is not yours to see."))
    media_id = attachment.get("media_id")
    if not media_id:
        try:
            media_id = fetch_inbound(
                container.sessions, container.box, message_id, index, container.media_transport
            )
        except MediaUnavailable as exc:
            return not_found(
                request, caller, _("The network no longer gives this file: %(why)s.", why=str(exc))
            )
    return _serve(container.conversations.media(caller.scope, int(media_id)))


def _serve(row: MediaFile) -> Response:
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
