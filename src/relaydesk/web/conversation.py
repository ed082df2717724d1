"""One conversation: reading it, and every change an agent makes from its page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from relaydesk.auth.scopes import Scope
from relaydesk.channels.inbound_media import fetchable_networks
from relaydesk.contacts.schemas import ContactDetail
from relaydesk.conversations.attachments import Upload
from relaydesk.conversations.schemas import ConversationDetail
from relaydesk.conversations.tag_rules import is_reserved
from relaydesk.core.errors import Conflict, Forbidden, NotFound, Refused, UserError
from relaydesk.core.timeutil import utcnow
from relaydesk.web import i18n
from relaydesk.web.errors import not_found
from relaydesk.web.formatting import format_time
from relaydesk.web.i18n import _
from relaydesk.web.labels import label
from relaydesk.web.rendering import redirect, render, user_message
from relaydesk.web.reply_offers import reply_offers
from relaydesk.web.session import (
    Caller,
    container_of,
    csrf_ok,
    current_caller,
    to_login,
    zone_of,
)

SNOOZE_HOURS = (1, 4, 24, 72)
CUSTOMER_LANGUAGES = ("fa", "ar", "he", "th", "en")
REASON_ROLES = frozenset({"owner", "admin", "manager"})

router = APIRouter(include_in_schema=False)

# -- one conversation -----------------------------------------------------------------------------


# The emoji a care team reaches for (thanks, sorry, delivery, payment, time); the device's own
# emoji keyboard has the rest. Screen readers say each one's name in the reader's language.
# Networks whose customers' files RelayDesk fetches and shows inline.
FETCHABLE = frozenset(fetchable_networks())
EMOJI = "🙂 😊 🙏 👍 👋 🤝 ❤️ 🎉 😔 😢 😅 🤔 ✅ ❌ ⚠️ ⏰ 📦 🚚 📍 🧾 💳 🎁 ☕ 🍰 📞 💬 ✉️ 🔧 ⭐ 🌟".split()


def _conversation_page(
    request: Request,
    caller: Caller,
    detail: ConversationDetail,
    *,
    status_code: int = 200,
    flash: dict[str, str] | None = None,
    draft: dict[str, str] | None = None,
    offer: str | None = None,
    insert: str = "",
    canned: str = "",
    statement: str = "",
    pane: bool = False,
) -> HTMLResponse:
    conversation = detail.conversation
    service = container_of(request).conversations
    departments = service.departments(caller.scope)
    dept_id = conversation.department.id if conversation.department else None
    agents = service.agents(dept_id)
    drafts = [m for m in detail.messages if m.delivery_status == "draft"]
    try:
        customer: ContactDetail | None = container_of(request).contacts.detail(
            caller.scope, conversation.contact.id
        )
    except NotFound:
        customer = None
    offers = reply_offers(request, caller, conversation.id, conversation.language)
    faq, saved, statements = offers.faq, offers.saved, offers.statements
    if (insert or canned or statement) and not (draft or {}).get("reply"):
        chosen = offers.chosen(insert, canned, statement)
        if chosen is not None:
            draft = {**(draft or {}), "reply": chosen, "macro": canned}
    window = (
        service.reply_window(caller.scope, conversation.id)
        if caller.scope.can_write
        else {"window_open": True, "templates": [], "max_files": 0}
    )
    # A macro chosen for this reply (inserted, or kept from a refused send): its changes are offered.
    macro = next((r for r in saved if r.key == (draft or {}).get("macro") and not r.actions.empty()), None)
    return render(
        request,
        "conversation.html",
        {
            "customer": customer,
            "d": detail,
            "c": conversation,
            "agents": agents,
            "is_member": any(a["id"] == caller.scope.user_id for a in agents),
            # Tags that carry a decision (routing, approval, spam) are shown in the details, not here.
            "own_tags": [t for t in conversation.tags if not is_reserved(t)],
            "departments": [d for d in departments if d.id != dept_id],
            "department_names": {d.key: d.name for d in departments},
            "snooze_hours": SNOOZE_HOURS,
            "last_seen": max((m.id for m in detail.messages), default=0),
            "draft": draft or {},
            "offer": offer,
            "has_drafts": bool(drafts),
            "faq": faq,
            "statements": statements,
            "canned": saved,
            "macro": macro,
            "emoji": EMOJI,
            "fetchable": FETCHABLE,
            # How many files a reply may carry on this conversation's network (0: the box is not shown).
            "reply_files": window["max_files"],
            # WhatsApp after 24 hours: templates instead of the free reply box.
            "reply_window": window,
            "intents": service.intent_names(caller.scope) if caller.scope.can_write else [],
            "correction_languages": i18n.language_choices(CUSTOMER_LANGUAGES),
            # How the triage decided (floors, model names) is for the people who tune it.
            "show_reasons": caller.scope.role in REASON_ROLES,
            "pane": pane,
        },
        caller=caller,
        status_code=status_code,
        flash=flash,
        framed=pane,
    )


@router.get("/conversations/{conversation_id}", response_class=HTMLResponse, response_model=None)
def conversation_page(
    request: Request,
    conversation_id: int,
    insert: str = "",
    canned: str = "",
    pane: str = "",
    statement: str = "",
) -> Response:
    """`insert` names an approved answer, `canned` a saved reply, `statement` a crisis alert's
    holding statement ("<alert id>:<language>"), to start the reply with (the no-JavaScript way to
    insert them). `pane=1` renders it for the inbox's reading pane: without
    the site's header, and allowed inside a frame of this site only."""
    caller = current_caller(request)
    if caller is None:
        return to_login(request)
    service = container_of(request).conversations
    try:
        if caller.scope.can_write:
            # Colleagues opening the same conversation see that someone is on it.
            service.touch_presence(caller.scope, conversation_id, "viewing")
        detail = service.detail(caller.scope, conversation_id)
        # Seen as it is now: its inbox row is no longer unread for this person.
        service.mark_read(caller.scope, conversation_id)
    except NotFound as exc:
        return not_found(request, caller, str(exc).capitalize() + ".")
    return _conversation_page(
        request,
        caller,
        detail,
        insert=insert[:200],
        canned=canned[:64],
        statement=statement[:40],
        pane=pane == "1",
    )


def _act(
    request: Request,
    conversation_id: int,
    csrf: str,
    action: Callable[[Scope], str],
    *,
    draft: dict[str, str] | None = None,
    offer: Callable[[Exception], str | None] | None = None,
) -> Response:
    """Run one change; success redirects with a message, an error re-renders the page with it.

    Re-rendering (not redirecting) on error keeps what the agent typed in the form.
    """
    caller = current_caller(request)
    if caller is None:
        return to_login(request, f"/conversations/{conversation_id}")
    service = container_of(request).conversations
    problem: Exception
    if not csrf_ok(request, csrf):
        problem, status_code = Forbidden(_("This form expired; please try again.")), 403
    else:
        try:
            message: str = action(caller.scope)
        except (UserError, Forbidden) as exc:
            problem = exc
            status_code = exc.status_code if isinstance(exc, UserError) else 403
        else:
            try:
                service.detail(caller.scope, conversation_id)
            except NotFound:
                # Handed to a team the caller is not in: it has left their inbox.
                return redirect(request, "/", message + " " + _("It is no longer in your inbox."))
            return redirect(request, f"/conversations/{conversation_id}", message)
    try:
        detail = service.detail(caller.scope, conversation_id)
    except NotFound as exc:
        return not_found(request, caller, str(exc).capitalize() + ".")
    return _conversation_page(
        request,
        caller,
        detail,
        status_code=status_code,
        flash={"message": user_message(problem), "kind": "error"},
        draft=draft,
        offer=offer(problem) if offer else None,
    )


def _sent(request: Request, scope: Scope, conversation_id: int, message_id: int, done: str) -> str:
    """`done`, or, for a reply held for approval, that it is not sent yet and who must release it:
    that keeps the agent from telling the customer "we answered" and the approver from being a mystery."""
    held = container_of(request).conversations.held_reply(scope, conversation_id, message_id)
    return _("Reply not sent yet: it %(why)s.", why=held.sentence()) if held is not None else done


def _required(text: str, what: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise UserError(_("%(what)s is empty; write something first.", what=what))
    return cleaned


@router.post("/conversations/{conversation_id}/reply", response_model=None)
def reply_submit(
    request: Request,
    conversation_id: int,
    csrf: str = Form(""),
    text: str = Form(""),
    wait: str = Form(""),
    last_seen: str = Form(""),
    force: str = Form(""),
    override: str = Form(""),
    macro: str = Form(""),
    files: list[UploadFile] = File(default=[]),
) -> Response:
    # The request's size is bounded before this runs (web.limits): each file is read whole.
    uploads = [Upload(name=f.filename or "", data=f.file.read()) for f in files]

    def run(scope: Scope) -> str:
        service = container_of(request).conversations
        _out, message_id = service.reply(
            scope,
            conversation_id,
            # A file may go alone (Messenger takes no text with one).
            text.strip() if uploads and any(u.data for u in uploads) else _required(text, _("The reply")),
            set_pending=bool(wait),
            last_seen_message_id=int(last_seen) if last_seen.isdigit() else None,
            force=bool(force),
            override_guidelines=bool(override),
            files=uploads,
        )
        held = service.held_reply(scope, conversation_id, message_id) is not None
        said = _sent(
            request,
            scope,
            conversation_id,
            message_id,
            _("Reply sent; waiting for the customer.") if wait else _("Reply sent."),
        )
        if macro.strip():
            said += " " + _macro_sentence(request, scope, conversation_id, macro.strip()[:65], held)
        return said

    return _act(
        request,
        conversation_id,
        csrf,
        run,
        draft={"reply": text, "macro": macro},
        offer=_reply_offer,
    )


@router.post("/conversations/{conversation_id}/template", response_model=None)
def template_submit(
    request: Request,
    conversation_id: int,
    csrf: str = Form(""),
    template: str = Form(""),
    params: list[str] = Form(default=[]),
) -> Response:
    """A WhatsApp message template, sent when the 24-hour window is closed."""

    def run(scope: Scope) -> str:
        if not template.strip():
            raise UserError(_("Choose an approved template."))
        service = container_of(request).conversations
        _out, message_id = service.reply(
            scope,
            conversation_id,
            f"[template {template.strip()}]",
            template=template.strip(),
            template_params=[p.strip() for p in params],
        )
        return _sent(request, scope, conversation_id, message_id, _("Template sent."))

    return _act(request, conversation_id, csrf, run)


def _macro_sentence(request: Request, scope: Scope, conversation_id: int, key: str, held: bool) -> str:
    """What the saved reply's other changes did. The reply is already sent: a change that fails
    is said here, never turned into an error page that would invite sending the reply again."""
    service = container_of(request).conversations
    try:
        done = service.run_macro(scope, conversation_id, key, reply_held=held)
    except (UserError, Forbidden) as exc:
        return _("The saved reply's other changes were not made: %(why)s", why=user_message(exc))
    c = done.conversation
    parts: list[str] = []
    for part in done.applied:
        if part == "status":
            parts.append(label(c.status))
        elif part == "tags":
            parts.append(_("tags %(tags)s", tags=", ".join(done.actions.tags)))
        elif part == "priority":
            parts.append(_("priority %(priority)s", priority=label(c.priority)))
        elif part == "transfer":
            parts.append(
                _("handed off to %(department)s", department=c.department.name if c.department else "")
            )
    said = _("Also done: %(changes)s.", changes=", ".join(parts)) if parts else ""
    if done.skipped:
        said += " " + _("The status change and the hand-off wait: the reply is not approved yet.")
    return said.strip()


def _reply_offer(problem: Exception) -> str | None:
    """What the agent may choose after a refused reply: send anyway, or send for approval."""
    if isinstance(problem, Conflict):
        return "force"
    if isinstance(problem, Refused) and "guidelines" in str(problem):
        return "override"
    return None


@router.post("/conversations/{conversation_id}/note", response_model=None)
def note_submit(
    request: Request, conversation_id: int, csrf: str = Form(""), text: str = Form("")
) -> Response:
    def run(scope: Scope) -> str:
        container_of(request).conversations.note(scope, conversation_id, _required(text, _("The note")))
        return _("Note added.")

    return _act(request, conversation_id, csrf, run, draft={"note": text})


@router.post("/conversations/{conversation_id}/tags", response_model=None)
def tags_submit(
    request: Request, conversation_id: int, csrf: str = Form(""), add: str = Form(""), remove: str = Form("")
) -> Response:
    def run(scope: Scope) -> str:
        if not add.strip() and not remove:
            raise UserError(_("Write the tag to add."))
        container_of(request).conversations.change_tags(
            scope, conversation_id, [add] if add.strip() else [], [remove] if remove else []
        )
        return _("Tag added.") if add.strip() else _("Tag removed.")

    return _act(request, conversation_id, csrf, run, draft={"tag": add})


@router.post("/conversations/{conversation_id}/assign", response_model=None)
def assign_submit(
    request: Request, conversation_id: int, csrf: str = Form(""), assignee_id: str = Form("")
) -> Response:
    def run(scope: Scope) -> str:
        if assignee_id == "me":
            target: int | None = scope.user_id
        elif assignee_id.isdigit():
            target = int(assignee_id)
        elif assignee_id == "":
            target = None
        else:
            raise UserError(_("Choose an agent, or the queue."))
        out = container_of(request).conversations.assign(scope, conversation_id, target)
        if out.assignee:
            return _("Assigned to %(handle)s.", handle=f"@{out.assignee.key}")
        return _("Back in the department queue.")

    return _act(request, conversation_id, csrf, run)


@router.post("/conversations/{conversation_id}/transfer", response_model=None)
def transfer_submit(
    request: Request,
    conversation_id: int,
    csrf: str = Form(""),
    department: str = Form(""),
    note: str = Form(""),
) -> Response:
    def run(scope: Scope) -> str:
        if not department:
            raise UserError(_("Choose the department to hand off to."))
        cleaned = note.strip()
        if not cleaned:
            raise UserError(_("A hand-off needs a note for the new team."))
        out = container_of(request).conversations.transfer(scope, conversation_id, department, cleaned)
        name = out.department.name if out.department else department
        return _("Transferred to %(department)s.", department=name)

    return _act(request, conversation_id, csrf, run, draft={"transfer": note})


@router.post("/conversations/{conversation_id}/status", response_model=None)
def status_submit(
    request: Request,
    conversation_id: int,
    csrf: str = Form(""),
    action: str = Form(""),
    hours: str = Form(""),
) -> Response:
    done = {
        "resolve": _("Resolved."),
        "reopen": _("Reopened."),
        "pending": _("Waiting for the customer."),
        "open": _("Open again."),
    }

    def run(scope: Scope) -> str:
        service = container_of(request).conversations
        if action == "snooze":
            if not hours.isdigit() or int(hours) not in SNOOZE_HOURS:
                raise UserError(_("Choose how long to snooze."))
            until = utcnow() + timedelta(hours=int(hours))
            service.change_status(scope, conversation_id, "snooze", until=until)
            reading = i18n.current()
            when = format_time(
                until,
                zone_of(request, scope),
                utcnow(),
                full=True,
                locale=reading.locale,
                calendar=reading.calendar,
            )
            return _("Snoozed until %(when)s.", when=when)
        if action not in done:
            raise UserError(_("Unknown action %(action)s.", action=repr(action)))
        service.change_status(scope, conversation_id, action)
        return done[action]

    return _act(request, conversation_id, csrf, run)


@router.post("/conversations/{conversation_id}/messages/{message_id}/review", response_model=None)
def review_submit(
    request: Request,
    conversation_id: int,
    message_id: int,
    csrf: str = Form(""),
    decision: str = Form(""),
) -> Response:
    def run(scope: Scope) -> str:
        if decision not in ("approve", "reject"):
            raise UserError(_("Approve or reject the reply."))
        service = container_of(request).conversations
        service.review_draft(scope, conversation_id, message_id, decision == "approve")
        return _("Reply approved and sent.") if decision == "approve" else _("Reply rejected.")

    return _act(request, conversation_id, csrf, run)


@router.post("/conversations/{conversation_id}/messages/{message_id}/correct", response_model=None)
def correct_submit(
    request: Request,
    conversation_id: int,
    message_id: int,
    csrf: str = Form(""),
    lang: str = Form(""),
    sentiment: str = Form(""),
    intent: str = Form(""),
) -> Response:
    """One click corrects what the triage got wrong; each change becomes a training example."""

    def run(scope: Scope) -> str:
        service = container_of(request).conversations
        detail = service.detail(scope, conversation_id)
        message = next((m for m in detail.messages if m.id == message_id and m.direction == "inbound"), None)
        if message is None:
            raise UserError(_("Only a customer's message can be corrected."))
        current = message.triage or {}
        wanted = {"lang": lang or None, "sentiment": sentiment or None, "intent": intent or None}
        changed = [field for field, value in wanted.items() if value != current.get(field)]
        for field in changed:
            service.correct(scope, conversation_id, message_id, field, wanted[field])
        if not changed:
            return _("Nothing to correct: the triage already says that.")
        return _("Corrected. The triage learns from it.")

    return _act(request, conversation_id, csrf, run)
