"""REST endpoints for the shared inbox: thin wrappers over ConversationService."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Query, Response, UploadFile

from relaydesk.auth.scopes import Scope
from relaydesk.conversations.attachments import Upload
from relaydesk.conversations.filters import ConversationFilters
from relaydesk.conversations.schemas import (
    ActionOut,
    AssignIn,
    BulkIn,
    BulkOut,
    CannedOut,
    CheckIn,
    ConversationDetail,
    ConversationOut,
    ConversationPage,
    CorrectionIn,
    NoteIn,
    PresenceIn,
    PriorityIn,
    ReplyIn,
    ReviewIn,
    SavedViewIn,
    SavedViewOut,
    SnoozeIn,
    TagsIn,
    TransferIn,
)
from relaydesk.conversations.service import ConversationService
from relaydesk.deps import ContainerDep, ScopeDep

router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"])
# Saved inbox views have their own address (a path under /conversations/ is a conversation's).
views_router = APIRouter(prefix="/api/v1/views", tags=["conversations"])


@router.get("", response_model=ConversationPage)
def list_conversations(
    container: ContainerDep,
    scope: ScopeDep,
    status: Annotated[
        list[str] | None,
        Query(description="new, open, pending, resolved, reopened, snoozed, or all (the default)"),
    ] = None,
    department: Annotated[str | None, Query(description="department key")] = None,
    assignee: Annotated[str | None, Query(description="user id, 'me' or 'none'")] = None,
    language: str | None = None,
    sentiment: Annotated[str | None, Query(description="positive, neutral or negative")] = None,
    intent: str | None = None,
    priority: Annotated[str | None, Query(description="low, normal, high or urgent")] = None,
    account: Annotated[str | None, Query(description="account key")] = None,
    location: Annotated[str | None, Query(description="location key: the whole subtree")] = None,
    sla: Annotated[str | None, Query(description="ok, warning, breached or none")] = None,
    q: Annotated[str | None, Query(description="text search in messages and subject", max_length=200)] = None,
    sort: Annotated[
        str | None,
        Query(
            description="newest (latest activity first, the default), waiting (longest-waiting customer "
            "first), due (nearest SLA deadline first) or priority (urgent first, then latest activity)"
        ),
    ] = None,
    tag: Annotated[str | None, Query(description="conversations carrying this tag", max_length=200)] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ConversationPage:
    """Conversations the caller may see, newest first unless `sort` says otherwise (a cursor
    belongs to its sort). A filter value that names nothing (an unknown status, sentiment,
    priority, SLA state, department, sort, ...) is 422 with the allowed ones."""
    filters = ConversationFilters(
        status=status,
        department=department,
        assignee=assignee,
        language=language,
        sentiment=sentiment,
        intent=intent,
        priority=priority,
        account=account,
        location=location,
        sla=sla,
        q=q,
        sort=sort,
        tag=tag,
    )
    return container.conversations.page(scope, filters, cursor, limit)


@router.post("/bulk", response_model=BulkOut)
def bulk(body: BulkIn, container: ContainerDep, scope: ScopeDep) -> BulkOut:
    """Resolve, assign or transfer many conversations at once (at most 200). Each is checked on its
    own: one the caller may not see or change is reported in `results` and the others still change."""
    results = container.conversations.bulk(scope, body.ids, body.action, body.params)
    done = sum(r.ok for r in results)
    return BulkOut(done=done, refused=len(results) - done, results=results)


@router.get("/{conversation_id}", response_model=ConversationDetail)
def get_conversation(conversation_id: int, container: ContainerDep, scope: ScopeDep) -> ConversationDetail:
    return container.conversations.detail(scope, conversation_id)


@router.post("/{conversation_id}/reply", response_model=ActionOut, status_code=201)
def reply(
    conversation_id: int,
    body: ReplyIn,
    container: ContainerDep,
    scope: ScopeDep,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> ActionOut:
    out, message_id = container.conversations.reply(
        scope,
        conversation_id,
        body.text,
        set_pending=body.set_pending,
        idempotency_key=idempotency_key,
        template=body.template,
        template_params=body.template_params,
        override_guidelines=body.override_guidelines,
        last_seen_message_id=body.last_seen_message_id,
        force=body.force,
    )
    return _replied(container.conversations, scope, conversation_id, out, message_id, body.macro)


def _replied(
    service: ConversationService,
    scope: Scope,
    conversation_id: int,
    out: ConversationOut,
    message_id: int,
    macro_key: str | None = None,
) -> ActionOut:
    """The answer to a reply: queued, or held and for whom; with what its macro changed."""
    held = service.held_reply(scope, conversation_id, message_id)
    macro = (
        service.run_macro(scope, conversation_id, macro_key, reply_held=held is not None)
        if macro_key
        else None
    )
    return ActionOut(
        conversation=macro.conversation if macro is not None else out,
        message_id=message_id,
        detail=f"reply {held.sentence()}" if held is not None else "reply queued for sending",
        approval=held,
        macro=macro,
    )


@router.post("/{conversation_id}/reply-files", response_model=ActionOut, status_code=201)
def reply_with_files(
    conversation_id: int,
    container: ContainerDep,
    scope: ScopeDep,
    files: Annotated[list[UploadFile], File(description="up to 3 files of at most 5 MB each")],
    text: Annotated[str, Form(max_length=20_000)] = "",
    set_pending: Annotated[bool, Form()] = False,
) -> ActionOut:
    """A reply with files (multipart/form-data): JPEG, PNG, GIF, WebP, PDF, MP3, OGG or MP4, typed
    by their bytes. Sent by e-mail, Telegram, WhatsApp and Messenger (alone, without text); other
    networks answer 422 before anything is queued. The body may be up to 16 MB."""
    uploads = [Upload(name=f.filename or "", data=f.file.read()) for f in files]
    out, message_id = container.conversations.reply(
        scope, conversation_id, text.strip(), set_pending=set_pending, files=uploads
    )
    return _replied(container.conversations, scope, conversation_id, out, message_id)


@router.post("/{conversation_id}/messages/{message_id}/approve", response_model=ActionOut)
def approve(
    conversation_id: int, message_id: int, body: ReviewIn, container: ContainerDep, scope: ScopeDep
) -> ActionOut:
    """Release a held reply (crisis, legal, press, VIP, agency); `text` replaces it if edited."""
    out = container.conversations.review_draft(scope, conversation_id, message_id, True, body.text)
    return ActionOut(conversation=out, message_id=message_id, detail="approved and queued for sending")


@router.post("/{conversation_id}/messages/{message_id}/reject", response_model=ActionOut)
def reject(
    conversation_id: int, message_id: int, body: ReviewIn, container: ContainerDep, scope: ScopeDep
) -> ActionOut:
    out = container.conversations.review_draft(scope, conversation_id, message_id, False, body.text)
    return ActionOut(conversation=out, message_id=message_id, detail="rejected")


@router.post("/{conversation_id}/presence")
def presence(
    conversation_id: int, body: PresenceIn, container: ContainerDep, scope: ScopeDep
) -> dict[str, Any]:
    """Say you are viewing or typing (every few seconds); the answer lists colleagues doing the same."""
    return {"present": container.conversations.touch_presence(scope, conversation_id, body.state)}


@router.post("/{conversation_id}/check-reply")
def check_reply(
    conversation_id: int, body: CheckIn, container: ContainerDep, scope: ScopeDep
) -> dict[str, Any]:
    """Brand-voice findings for a draft and approved FAQ answers for the customer's last message."""
    return container.conversations.check_reply(scope, conversation_id, body.text)


@router.post("/{conversation_id}/tags", response_model=ActionOut)
def change_tags(conversation_id: int, body: TagsIn, container: ContainerDep, scope: ScopeDep) -> ActionOut:
    """Add and remove tags (recorded on the timeline). A tag is at most 40 characters, one line;
    tags that carry a decision (`team:`, `skill:`, `approver:`, `needs-approval`, `spam`) are
    refused (400): routing rules, approvals and triage corrections set them."""
    out = container.conversations.change_tags(scope, conversation_id, body.add, body.remove)
    return ActionOut(conversation=out, detail="tags: " + ", ".join(out.tags) if out.tags else "no tags")


@router.post("/{conversation_id}/priority", response_model=ActionOut)
def change_priority(
    conversation_id: int, body: PriorityIn, container: ContainerDep, scope: ScopeDep
) -> ActionOut:
    """Set the priority by hand (low, normal, high, urgent); recorded on the timeline."""
    out = container.conversations.change_priority(scope, conversation_id, body.priority)
    return ActionOut(conversation=out, detail=f"priority {out.priority}")


@router.post("/{conversation_id}/read", status_code=204)
def mark_read(conversation_id: int, container: ContainerDep, scope: ScopeDep) -> Response:
    """The caller has read the conversation as it is now: `unread` on the inbox pages turns false
    until the customer writes again (opening it in the workspace does the same)."""
    container.conversations.mark_read(scope, conversation_id)
    return Response(status_code=204)


@router.get("/{conversation_id}/canned", response_model=list[CannedOut])
def canned(conversation_id: int, container: ContainerDep, scope: ScopeDep) -> list[CannedOut]:
    """Saved replies for this conversation: its language's variant, names filled in."""
    return container.conversations.canned(scope, conversation_id)


@router.post("/{conversation_id}/messages/{message_id}/corrections", response_model=ActionOut)
def correct(
    conversation_id: int, message_id: int, body: CorrectionIn, container: ContainerDep, scope: ScopeDep
) -> ActionOut:
    """Correct the triage of a customer message; it is kept and used as an example."""
    out = container.conversations.correct(scope, conversation_id, message_id, body.field, body.value)
    container.triage.invalidate(scope.org_id)
    return ActionOut(conversation=out, message_id=message_id, detail=f"{body.field} corrected")


@router.post("/{conversation_id}/notes", response_model=ActionOut, status_code=201)
def note(conversation_id: int, body: NoteIn, container: ContainerDep, scope: ScopeDep) -> ActionOut:
    out, message_id = container.conversations.note(scope, conversation_id, body.text)
    return ActionOut(conversation=out, message_id=message_id, detail="note added")


@router.post("/{conversation_id}/assign", response_model=ActionOut)
def assign(conversation_id: int, body: AssignIn, container: ContainerDep, scope: ScopeDep) -> ActionOut:
    return ActionOut(conversation=container.conversations.assign(scope, conversation_id, body.assignee_id))


@router.post("/{conversation_id}/transfer", response_model=ActionOut)
def transfer(conversation_id: int, body: TransferIn, container: ContainerDep, scope: ScopeDep) -> ActionOut:
    out = container.conversations.transfer(scope, conversation_id, body.department, body.note)
    return ActionOut(conversation=out, detail=f"transferred to {body.department}")


@router.post("/{conversation_id}/resolve", response_model=ActionOut)
def resolve(conversation_id: int, container: ContainerDep, scope: ScopeDep) -> ActionOut:
    return ActionOut(conversation=container.conversations.change_status(scope, conversation_id, "resolve"))


@router.post("/{conversation_id}/reopen", response_model=ActionOut)
def reopen(conversation_id: int, container: ContainerDep, scope: ScopeDep) -> ActionOut:
    return ActionOut(conversation=container.conversations.change_status(scope, conversation_id, "reopen"))


@router.post("/{conversation_id}/pending", response_model=ActionOut)
def pending(conversation_id: int, container: ContainerDep, scope: ScopeDep) -> ActionOut:
    return ActionOut(conversation=container.conversations.change_status(scope, conversation_id, "pending"))


@router.post("/{conversation_id}/snooze", response_model=ActionOut)
def snooze(conversation_id: int, body: SnoozeIn, container: ContainerDep, scope: ScopeDep) -> ActionOut:
    out = container.conversations.change_status(scope, conversation_id, "snooze", until=body.until)
    return ActionOut(conversation=out)


@views_router.get("", response_model=list[SavedViewOut])
def list_views(container: ContainerDep, scope: ScopeDep) -> list[SavedViewOut]:
    """The caller's saved inbox views and those shared in the organisation, by name."""
    return [SavedViewOut.of(v) for v in container.conversations.views(scope)]


@views_router.post("", response_model=SavedViewOut, status_code=201)
def save_view(body: SavedViewIn, container: ContainerDep, scope: ScopeDep) -> SavedViewOut:
    """Save the inbox's filters and order under a name (`filters` takes the inbox's own
    parameters: status, department, assignee, language, sentiment, intent, sla, q, sort). Sharing
    with the organisation is for managers, admins and owners (403 otherwise)."""
    filters: dict[str, object] = dict(body.filters)
    return SavedViewOut.of(container.conversations.save_view(scope, body.name, filters, body.shared))


@views_router.delete("/{view_id}", status_code=204)
def delete_view(view_id: int, container: ContainerDep, scope: ScopeDep) -> Response:
    """Remove a view: your own, or (admins) a shared one."""
    container.conversations.delete_view(scope, view_id)
    return Response(status_code=204)
