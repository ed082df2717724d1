"""The inbox's bulk bar: one action over the conversations ticked on a page."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from relaydesk.auth.scopes import Scope
from relaydesk.conversations.schemas import BULK_LIMIT, BulkItemOut, BulkParams
from relaydesk.core.errors import Forbidden, UserError
from relaydesk.web.i18n import _, ngettext
from relaydesk.web.rendering import redirect, user_message
from relaydesk.web.session import container_of, csrf_ok, current_caller, safe_next, to_login

# Reasons named in the message; the rest are counted (the flash message has room for a few).
SHOWN_REASONS = 3

router = APIRouter(include_in_schema=False)


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()]


def _assignee(value: str, scope: Scope) -> int | None:
    if value == "me":
        return scope.user_id
    if value == "none":
        return None
    if value.isdigit():
        return int(value)
    raise UserError(_("Choose an agent, or the queue."))


def _done(action: str, n: int) -> str:
    if action == "resolve":
        text = ngettext("%(num)s conversation resolved.", "%(num)s conversations resolved.", n)
    elif action == "assign":
        text = ngettext("%(num)s conversation assigned.", "%(num)s conversations assigned.", n)
    elif action == "tag":
        text = ngettext("%(num)s conversation tagged.", "%(num)s conversations tagged.", n)
    else:
        text = ngettext("%(num)s conversation transferred.", "%(num)s conversations transferred.", n)
    return text % {"num": n}


def _summary(action: str, results: list[BulkItemOut]) -> tuple[str, str]:
    """The flash message and its kind: what changed, and each refusal with its reason."""
    refused = [r for r in results if not r.ok]
    done = _done(action, len(results) - len(refused))
    if not refused:
        return done, "ok"
    reasons = "; ".join(f"#{r.id} {r.error}" for r in refused[:SHOWN_REASONS])
    if len(refused) > SHOWN_REASONS:
        reasons += " …"
    text = ngettext(
        "%(num)s could not be changed: %(reasons)s", "%(num)s could not be changed: %(reasons)s", len(refused)
    )
    return done + " " + text % {"num": len(refused), "reasons": reasons}, "error"


@router.post("/conversations/bulk", response_model=None)
def bulk_submit(
    request: Request,
    csrf: str = Form(""),
    ids: list[str] = Form([]),
    page_all: str = Form(""),
    page_ids: list[str] = Form([]),
    action: str = Form(""),
    assignee_id: str = Form(""),
    department: str = Form(""),
    note: str = Form(""),
    tag: str = Form(""),
    next: str = Form("/"),
) -> Response:
    """`page_all` (the "select all" box) means every row of the page, also without JavaScript."""
    target = safe_next(next)
    caller = current_caller(request)
    if caller is None:
        return to_login(request, target)
    if not csrf_ok(request, csrf):
        return redirect(request, target, _("This form expired; please try again."), "error")
    chosen = list(dict.fromkeys(_ids(page_ids) if page_all else _ids(ids)))
    if not chosen:
        return redirect(request, target, _("Tick the conversations to change first."), "error")
    if len(chosen) > BULK_LIMIT:
        message = _(
            "At most %(limit)s conversations at once; you chose %(num)s.", limit=BULK_LIMIT, num=len(chosen)
        )
        return redirect(request, target, message, "error")
    service = container_of(request).conversations
    try:
        assignee = _assignee(assignee_id, caller.scope) if action == "assign" else None
        if action == "transfer" and not department:
            raise UserError(_("Choose the department to hand off to."))
        if action == "transfer" and not note.strip():
            raise UserError(_("A hand-off needs a note for the new team."))
        if action == "tag" and not tag.strip():
            raise UserError(_("Write the tag to add."))
        if action not in ("resolve", "assign", "transfer", "tag"):
            raise UserError(_("Unknown action %(action)s.", action=repr(action)))
        params = BulkParams(
            assignee_id=assignee, department=department or None, note=note or None, tag=tag or None
        )
        results = service.bulk(caller.scope, chosen, action, params)
    except (UserError, Forbidden) as exc:
        return redirect(request, target, user_message(exc), "error")
    message, kind = _summary(action, results)
    return redirect(request, target, message, kind)
