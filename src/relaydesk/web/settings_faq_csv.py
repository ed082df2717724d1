"""Settings: the FAQ entries as a spreadsheet, downloaded and imported (guidelines/faq_csv.py).

Whoever sees the FAQ page downloads what it lists; importing creates drafts and changes entries
with the same rights as the entry form (PR, admins and owners change approved entries; everyone
else drafts), all of the file or nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from relaydesk.core.errors import UserError
from relaydesk.db import reading, transaction
from relaydesk.guidelines.faq_service import ImportCount, faq_service
from relaydesk.web.forms import posted
from relaydesk.web.i18n import _
from relaydesk.web.rendering import redirect, user_message
from relaydesk.web.session import container_of, current_caller, to_login
from relaydesk.web.settings_faq import PAGE, forbidden_page, may_see

router = APIRouter(include_in_schema=False)
MAX_FILE_BYTES = 2 * 1024 * 1024


@router.get(PAGE + ".csv", response_model=None)
def download(request: Request) -> Response:
    caller = current_caller(request)
    if caller is None:
        return to_login(request, PAGE)
    if not may_see(caller):
        return forbidden_page(request, caller)
    with reading(container_of(request).sessions) as session:
        text = faq_service.export_csv(session, caller.scope)
    # A byte-order mark, so a spreadsheet opens Persian, Arabic, Hebrew and Thai as UTF-8.
    return Response(
        "\ufeff" + text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="faq.csv"'},
    )


@router.post(PAGE + "/import", response_model=None)
async def upload(request: Request) -> Response:
    got = await posted(request, PAGE)
    if not isinstance(got, tuple):
        return got
    caller, answer = got
    if not may_see(caller):
        return forbidden_page(request, caller)
    file = answer.get("file")
    if not isinstance(file, UploadFile):
        return redirect(request, PAGE + "#import", _("Choose a CSV file to import."), "error")
    data = await file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        return redirect(request, PAGE + "#import", _("The file is larger than 2 MB: split it."), "error")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return redirect(
            request,
            PAGE + "#import",
            _("The file is not UTF-8 text: save it as CSV UTF-8 and try again."),
            "error",
        )
    container = container_of(request)

    def run() -> ImportCount:
        with transaction(container.sessions) as session:
            return faq_service.import_csv(session, caller.scope, text, via="web")

    try:
        count = await run_in_threadpool(run)
    except UserError as exc:
        message = _("Nothing was imported: %(problem)s", problem=user_message(exc))
        return redirect(request, PAGE + "#import", message, "error")
    return redirect(
        request,
        PAGE,
        _(
            "Imported: %(created)s new (drafts until PR approves them), %(changed)s changed, %(same)s unchanged.",
            created=count.created,
            changed=count.changed,
            same=count.unchanged,
        ),
    )
