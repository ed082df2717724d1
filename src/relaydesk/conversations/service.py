"""What agents do with conversations: read, reply, note, assign, transfer, change status."""

from __future__ import annotations

import dataclasses
import logging
import re
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from relaydesk.auth.scopes import Forbidden, Scope
from relaydesk.conversations import repository as repo
from relaydesk.conversations.approvals import APPROVER_ROLES, Hold, approvers_from_tags, refusal
from relaydesk.conversations.filters import InvalidFilter, effective_statuses, filter_problems
from relaydesk.conversations.presence import PresenceRegistry
from relaydesk.conversations.schemas import (
    ApprovalOut,
    ConversationDetail,
    ConversationOut,
    ConversationPage,
    MessageOut,
    Ref,
    SlaOut,
    TimelineOut,
)
from relaydesk.conversations.states import InvalidTransition, after_agent_reply, is_transfer_loop, next_status
from relaydesk.core.enums import SPAM, ConversationStatus, DeliveryStatus, Direction, Priority
from relaydesk.core.errors import Conflict, NotFound, Refused, UserError
from relaydesk.core.timeutil import as_utc, utcnow
from relaydesk.db import transaction
from relaydesk.guidelines import service as guidelines
from relaydesk.models import (
    Agency,
    ChannelAccount,
    Contact,
    Conversation,
    Department,
    Message,
    OutboxItem,
    TimelineEvent,
    User,
    UserDepartment,
)
from relaydesk.notifications import service as notifications
from relaydesk.orgs import repository as orgs
from relaydesk.pipeline.bus.base import Bus
from relaydesk.routing.service import TEAM_TAG, RoutingService
from relaydesk.sla.service import SlaService, count_actions
from relaydesk.triage.corrections import record_correction

log = logging.getLogger(__name__)
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_.-]{2,64})")


class ConversationService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        bus: Bus,
        routing: RoutingService | None = None,
        sla: SlaService | None = None,
    ) -> None:
        self.sessions = sessions
        self.bus = bus
        self.routing = routing or RoutingService()
        self.sla = sla or SlaService()
        self.presence = PresenceRegistry()

    # -- reads ----------------------------------------------------------------------------

    def page(
        self, scope: Scope, filters: repo.ConversationFilters, cursor: str | None = None, limit: int = 50
    ) -> ConversationPage:
        if not 1 <= limit <= 200:
            raise UserError("limit: must be between 1 and 200")
        problems = filter_problems(
            status=filters.status,
            sentiment=filters.sentiment,
            priority=filters.priority,
            sla=filters.sla,
            assignee=filters.assignee,
        )
        with self.sessions() as session:
            problems += repo.unknown_filter_keys(session, scope.org_id, filters)
            if problems:
                raise InvalidFilter("; ".join(problems))
            filters = dataclasses.replace(filters, status=effective_statuses(filters.status))
            rows, next_cursor = repo.list_conversations(session, scope, filters, cursor, limit)
            return ConversationPage(items=self._out(session, rows), next_cursor=next_cursor)

    def detail(self, scope: Scope, conversation_id: int) -> ConversationDetail:
        with self.sessions() as session:
            conversation = self._visible(session, scope, conversation_id)
            detail = self._detail(session, conversation, scope)
        detail.present = self.present(conversation_id, scope.user_id)
        return detail

    def _detail(self, session: Session, conversation: Conversation, scope: Scope) -> ConversationDetail:
        messages = repo.messages_of(session, conversation.id)
        caller = session.get(User, scope.user_id)
        events = repo.timeline_of(session, conversation.id)
        user_ids = {m.author_user_id for m in messages if m.author_user_id} | {
            e.actor_user_id for e in events if e.actor_user_id
        }
        handles = (
            {u.id: u.handle for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
            if user_ids
            else {}
        )
        contact = session.get(Contact, conversation.contact_id)
        contact_name = contact.display_name if contact else "customer"
        return ConversationDetail(
            conversation=self._out(session, [conversation])[0],
            messages=[
                MessageOut(
                    id=m.id,
                    direction=m.direction,
                    kind=m.kind,
                    text=m.text,
                    author=(
                        f"@{handles.get(m.author_user_id, m.author_user_id)}"
                        if m.author_user_id
                        else contact_name
                    ),
                    external_id=m.external_id,
                    attachments=list(m.attachments or []),
                    delivery_status=m.delivery_status,
                    delivery_error=m.delivery_error,
                    triage=m.triage,
                    sent_at=m.sent_at,
                    approval=self._approval_out(session, conversation, m, caller),
                )
                for m in messages
            ],
            timeline=[
                TimelineOut(
                    kind=e.kind,
                    reason=e.reason,
                    actor=f"@{handles[e.actor_user_id]}" if e.actor_user_id in handles else None,
                    data=dict(e.data or {}),
                    at=e.created_at,
                )
                for e in events
            ],
        )

    def _out(self, session: Session, rows: list[Conversation]) -> list[ConversationOut]:
        names = repo.lookup_names(session, rows)
        now = utcnow()

        def ref(kind: str, ident: int | None) -> Ref | None:
            if ident is None:
                return None
            key, name = names[kind].get(ident, (None, None))
            return Ref(id=ident, key=key, name=name)

        out = []
        for c in rows:
            out.append(
                ConversationOut(
                    id=c.id,
                    status=c.status,
                    priority=c.priority,
                    subject=c.subject,
                    network=c.network,
                    account=ref("account", c.account_id) or Ref(id=c.account_id),
                    location=ref("location", c.location_id) or Ref(id=c.location_id),
                    contact=ref("contact", c.contact_id) or Ref(id=c.contact_id),
                    department=ref("department", c.department_id),
                    assignee=ref("user", c.assignee_id),
                    language=c.language,
                    sentiment=c.sentiment,
                    intent=c.intent,
                    latest_sentiment=c.latest_sentiment,
                    latest_intent=c.latest_intent,
                    stage=c.stage,
                    urgency=c.urgency,
                    tags=list(c.tags or []),
                    sla=SlaOut(
                        state=repo.sla_state(c.next_response_due, now),
                        first_response_due=c.first_response_due,
                        next_response_due=c.next_response_due,
                        resolution_due=c.resolution_due,
                        first_response_at=c.first_response_at,
                        paused_since=c.sla_paused_at,
                    ),
                    snoozed_until=c.snoozed_until,
                    last_message_at=c.last_message_at,
                    created_at=c.created_at,
                )
            )
        return out

    def _visible(
        self, session: Session, scope: Scope, conversation_id: int, lock: bool = False
    ) -> Conversation:
        getter = repo.get_for_update if lock else repo.get_visible
        conversation = getter(session, scope, conversation_id)
        if conversation is None:
            # The same answer for "absent" and "not yours": no probing of other teams' ids.
            raise NotFound(f"conversation {conversation_id} not found")
        return conversation

    # -- writes ---------------------------------------------------------------------------

    def reply(
        self,
        scope: Scope,
        conversation_id: int,
        text: str,
        *,
        set_pending: bool = False,
        idempotency_key: str | None = None,
        template: str | None = None,
        override_guidelines: bool = False,
        last_seen_message_id: int | None = None,
        force: bool = False,
    ) -> tuple[ConversationOut, int]:
        scope.require_write()
        with transaction(self.sessions) as session:
            conversation = self._visible(session, scope, conversation_id, lock=True)
            if idempotency_key:
                # A retried request (same Idempotency-Key) gets the reply it already made; the key
                # means something only in this organisation and conversation.
                existing = repo.reply_by_request_key(session, conversation, idempotency_key)
                if existing is not None:
                    return self._out(session, [conversation])[0], existing.message_id
            if not force:
                self._check_collision(session, scope, conversation, last_seen_message_id)
            account = session.get(ChannelAccount, conversation.account_id)
            assert account is not None
            now = utcnow()
            # Refuse now what the network would refuse later (WhatsApp's 24-hour window).
            from relaydesk.channels import replies

            replies.check_can_reply(session, conversation, account, template, now)
            author = session.get(User, scope.user_id)
            findings = guidelines.check(
                session,
                conversation.org_id,
                text,
                conversation.language,
                self._is_public(session, conversation),
            )
            blocking = [f for f in findings if f.severity == "block"]
            if blocking and not override_guidelines:
                raise Refused(f"text: the reply breaks brand guidelines: {guidelines.describe(blocking)}")
            hold = self._needs_approval(session, conversation, author)
            if blocking:
                reason = f"sent despite guideline findings ({guidelines.describe(blocking)})"
                hold = replace(hold, reason=f"{hold.reason}; {reason}") if hold is not None else Hold(reason)
            message = Message(
                org_id=conversation.org_id,
                conversation_id=conversation.id,
                account_id=conversation.account_id,
                direction=Direction.OUTBOUND.value,
                kind="message",
                author_user_id=scope.user_id,
                text=text,
                attachments=[],
                raw={"set_pending": set_pending, **({"approval": hold.as_dict()} if hold else {})},
                delivery_status="draft" if hold else DeliveryStatus.QUEUED.value,
                sent_at=now,
                created_at=now,
            )
            session.add(message)
            session.flush()
            session.add(
                OutboxItem(
                    org_id=conversation.org_id,
                    conversation_id=conversation.id,
                    message_id=message.id,
                    account_id=account.id,
                    # Ours, never the caller's: the networks de-duplicate on it.
                    idempotency_key=uuid.uuid4().hex,
                    request_key=idempotency_key or None,
                    status="draft" if hold else "queued",
                    payload={"template": template} if template else {},
                    next_attempt_at=now,
                )
            )
            if hold is not None:
                approvers = self._approver_ids(session, conversation, hold, scope.user_id)
                notifications.notify_users(
                    session,
                    conversation,
                    approvers,
                    "approval",
                    f"a reply on conversation #{conversation.id} waits for your approval: {hold.reason}",
                )
                session.add(
                    TimelineEvent(
                        org_id=conversation.org_id,
                        conversation_id=conversation.id,
                        message_id=message.id,
                        kind="draft",
                        actor_user_id=scope.user_id,
                        reason=f"reply held for approval by {hold.waiting_for()}: {hold.reason}",
                        data={
                            "reason": hold.reason,
                            "approvers": list(hold.approvers),
                            "notified": approvers,
                            "guidelines": [vars(f) for f in findings],
                        },
                    )
                )
            else:
                self._release(session, conversation, message, account, scope.user_id, set_pending, now)
            out = self._out(session, [conversation])[0]
            message_id = message.id
        return out, message_id

    def _check_collision(
        self, session: Session, scope: Scope, conversation: Conversation, last_seen: int | None
    ) -> None:
        """Stop a second agent's answer: a colleague replied since this agent looked, or is typing."""
        if last_seen is not None:
            newer = session.execute(
                select(Message.id, User.handle)
                .join(User, User.id == Message.author_user_id)
                .where(
                    Message.conversation_id == conversation.id,
                    Message.direction == Direction.OUTBOUND.value,
                    Message.id > last_seen,
                    Message.author_user_id != scope.user_id,
                )
                .limit(1)
            ).first()
            if newer is not None:
                raise Conflict(
                    f"@{newer[1]} already replied after you opened this conversation; read it first "
                    "(send again with force=true to reply anyway)"
                )
        typing = [p for p in self.presence.others(conversation.id, scope.user_id) if p.state == "typing"]
        if typing:
            raise Conflict(
                f"@{typing[0].handle} is typing a reply right now (send again with force=true to reply anyway)"
            )

    def touch_presence(self, scope: Scope, conversation_id: int, state: str) -> list[dict[str, str]]:
        with self.sessions() as session:
            self._visible(session, scope, conversation_id)
            user = session.get(User, scope.user_id)
            handle = user.handle if user else str(scope.user_id)
        try:
            self.presence.touch(conversation_id, scope.user_id, handle, state)
        except ValueError as exc:
            raise UserError(str(exc)) from exc
        return self.present(conversation_id, scope.user_id)

    def present(self, conversation_id: int, user_id: int) -> list[dict[str, str]]:
        return [
            {"handle": p.handle, "state": p.state} for p in self.presence.others(conversation_id, user_id)
        ]

    def _is_public(self, session: Session, conversation: Conversation) -> bool:
        last = session.scalars(
            select(Message.kind)
            .where(Message.conversation_id == conversation.id, Message.direction == Direction.INBOUND.value)
            .order_by(Message.id.desc())
            .limit(1)
        ).first()
        return last in guidelines.PUBLIC_KINDS

    def check_reply(self, scope: Scope, conversation_id: int, text: str) -> dict[str, Any]:
        """Guideline findings for a draft, and approved FAQ answers for the customer's last message."""
        with self.sessions() as session:
            conversation = self._visible(session, scope, conversation_id)
            findings = guidelines.check(
                session,
                conversation.org_id,
                text,
                conversation.language,
                self._is_public(session, conversation),
            )
            last = session.scalars(
                select(Message.text)
                .where(
                    Message.conversation_id == conversation.id, Message.direction == Direction.INBOUND.value
                )
                .order_by(Message.id.desc())
                .limit(1)
            ).first()
            suggestions = guidelines.faq_suggestions(
                session, conversation.org_id, last or "", conversation.language
            )
            return {
                "findings": [vars(f) for f in findings],
                "blocking": any(f.severity == "block" for f in findings),
                "faq": [vars(x) for x in suggestions],
            }

    def _needs_approval(
        self, session: Session, conversation: Conversation, author: User | None
    ) -> Hold | None:
        """Crisis, legal, press or VIP conversations (a rule tagged them) and agency authors wait."""
        if "needs-approval" in (conversation.tags or []):
            return Hold(
                "a routing rule requires approval on this conversation",
                approvers_from_tags(conversation.tags or []),
            )
        if author is not None and author.agency_id is not None:
            agency = session.get(Agency, author.agency_id)
            if agency is not None and (agency.contract or {}).get("replies_need_approval", False):
                return Hold(
                    f"replies by the {agency.name} agency need approval under its contract",
                    excluded_agency_id=agency.id,
                    excluded_agency=agency.name,
                )
        return None

    def _approver_ids(
        self, session: Session, conversation: Conversation, hold: Hold, author_id: int | None
    ) -> list[int]:
        """The people who may release the held reply and can see it: named people, and holders of
        the named roles in the conversation's department (owners and admins see every department)."""
        handles = [a[1:] for a in hold.approvers if a.startswith("@")]
        ranks = [APPROVER_ROLES[a] for a in hold.approvers if a in APPROVER_ROLES]
        candidates: list[User] = []
        if handles:
            candidates += session.scalars(
                select(User).where(
                    User.org_id == conversation.org_id, User.handle.in_(handles), User.active.is_(True)
                )
            )
        if ranks:
            roles = [role for role, rank in APPROVER_ROLES.items() if rank >= min(ranks)]
            members = (
                select(UserDepartment.user_id).where(
                    UserDepartment.department_id == conversation.department_id
                )
                if conversation.department_id is not None
                else None
            )
            org_wide = User.role.in_(("owner", "admin"))
            where = org_wide if members is None else (org_wide | User.id.in_(members))
            candidates += session.scalars(
                select(User).where(
                    User.org_id == conversation.org_id,
                    User.role.in_(roles),
                    User.active.is_(True),
                    where,
                )
            )
        ids: list[int] = []
        for user in candidates:
            if user.id in ids:
                continue
            why = refusal(
                hold,
                user_id=user.id,
                role=user.role,
                handle=user.handle,
                agency_id=user.agency_id,
                author_id=author_id,
            )
            if why is None and user.role != "viewer" and self._can_see(session, user, conversation):
                ids.append(user.id)
        return sorted(ids)

    def _can_see(self, session: Session, user: User, conversation: Conversation) -> bool:
        """What `Scope.conversation_filter` would say for this person, for one conversation."""
        if user.role not in ("owner", "admin") and user.id != conversation.assignee_id:
            member = session.scalars(
                select(UserDepartment).where(
                    UserDepartment.user_id == user.id,
                    UserDepartment.department_id == conversation.department_id,
                )
            ).first()
            if member is None:
                return False
        if user.location_id is None:
            return True
        here = orgs.location_path(session, conversation.location_id)
        return here.startswith(orgs.location_path(session, user.location_id))

    def _hold_with_people(
        self, session: Session, conversation: Conversation, hold: Hold, author_id: int | None
    ) -> Hold:
        ids = self._approver_ids(session, conversation, hold, author_id)
        handles = (
            tuple(session.scalars(select(User.handle).where(User.id.in_(ids)).order_by(User.handle)))
            if ids
            else ()
        )
        return Hold(hold.reason, hold.approvers, hold.excluded_agency_id, hold.excluded_agency, handles)

    def _approval_out(
        self, session: Session, conversation: Conversation, message: Message, caller: User | None
    ) -> ApprovalOut | None:
        if message.delivery_status != "draft":
            return None
        hold, why_not = _held_and_refusal(message, caller)
        if why_not is None and caller is not None and caller.role == "viewer":
            why_not = "viewers cannot approve replies"
        people = self._hold_with_people(session, conversation, hold, message.author_user_id).people
        return ApprovalOut(
            reason=hold.reason,
            approvers=list(hold.approvers),
            waiting_for=hold.waiting_for(),
            people=[f"@{h}" for h in people],
            can_approve=why_not is None,
            why_not=why_not,
        )

    def held_reply(self, scope: Scope, conversation_id: int, message_id: int) -> ApprovalOut | None:
        """Whether the reply waits for approval, and for whom (None once it is on its way)."""
        with self.sessions() as session:
            conversation = self._visible(session, scope, conversation_id)
            message = session.get(Message, message_id)
            if message is None or message.conversation_id != conversation.id:
                raise NotFound(f"message {message_id} not found in conversation {conversation_id}")
            return self._approval_out(session, conversation, message, session.get(User, scope.user_id))

    def _release(
        self,
        session: Session,
        conversation: Conversation,
        message: Message,
        account: ChannelAccount,
        actor_id: int,
        set_pending: bool,
        now: datetime,
        approval: str = "",
    ) -> None:
        """The reply goes out: SLA targets are met (or not) now, and the status moves on."""
        if conversation.sla_paused_at is not None:
            # Answered while waiting on the customer: judged against the resumed targets.
            self.sla.resume(session, conversation, now, "an agent replied")
        records = self.sla.on_reply(session, conversation, now)
        before = conversation.status
        conversation.status = after_agent_reply(conversation.status, set_pending).value
        if conversation.status == ConversationStatus.PENDING.value:
            self.sla.pause(session, conversation, now)
        if conversation.assignee_id is None and message.author_user_id is not None:
            conversation.assignee_id = message.author_user_id
        conversation.last_message_at = now
        sla_text = ", ".join(f"{r.target} {'met' if r.met else 'breached'}" for r in records)
        session.add(
            TimelineEvent(
                org_id=conversation.org_id,
                conversation_id=conversation.id,
                message_id=message.id,
                kind="reply",
                actor_user_id=actor_id,
                reason=f"replied on {account.network}"
                + approval
                + (f"; {sla_text}" if sla_text else "")
                + (f"; {before} -> {conversation.status}" if before != conversation.status else ""),
                data={"sla": [{"target": r.target, "met": r.met} for r in records]},
            )
        )

    def review_draft(
        self, scope: Scope, conversation_id: int, message_id: int, approve: bool, text: str | None = None
    ) -> ConversationOut:
        """One of the approvers the hold names approves (optionally editing) or rejects a held reply.

        Nobody reviews their own reply, and only the roles or people the hold names may review it
        (managers when it names none): anyone else gets 403 saying who the reply waits for.
        """
        scope.require_write()
        with transaction(self.sessions) as session:
            conversation = self._visible(session, scope, conversation_id, lock=True)
            message = session.get(Message, message_id)
            if message is None or message.conversation_id != conversation.id:
                raise NotFound(f"message {message_id} not found in conversation {conversation_id}")
            if message.delivery_status != "draft":
                raise Conflict(
                    f"message {message_id} is not waiting for approval ({message.delivery_status})"
                )
            reviewer = session.get(User, scope.user_id)
            _hold, why_not = _held_and_refusal(message, reviewer)
            if why_not is not None:
                raise Forbidden(why_not)
            item = session.scalars(select(OutboxItem).where(OutboxItem.message_id == message.id)).first()
            account = session.get(ChannelAccount, conversation.account_id)
            assert account is not None
            now = utcnow()
            waited = int((now - (as_utc(message.created_at) or now)).total_seconds())
            if not approve:
                message.delivery_status = "rejected"
                if item is not None:
                    item.status = "rejected"
                session.add(
                    TimelineEvent(
                        org_id=conversation.org_id,
                        conversation_id=conversation.id,
                        message_id=message.id,
                        kind="approval",
                        actor_user_id=scope.user_id,
                        reason=f"draft rejected after {waited // 60} min" + (f": {text}" if text else ""),
                        data={"approved": False, "approval_seconds": waited},
                    )
                )
            else:
                edited = text is not None and text != message.text
                if edited:
                    message.text = text or message.text
                message.delivery_status = DeliveryStatus.QUEUED.value
                message.sent_at = now
                if item is not None:
                    item.status = "queued"
                    item.next_attempt_at = now
                session.add(
                    TimelineEvent(
                        org_id=conversation.org_id,
                        conversation_id=conversation.id,
                        message_id=message.id,
                        kind="approval",
                        actor_user_id=scope.user_id,
                        reason=f"draft approved{' with edits' if edited else ''} after {waited // 60} min",
                        data={"approved": True, "edited": edited, "approval_seconds": waited},
                    )
                )
                set_pending = bool((message.raw or {}).get("set_pending"))
                self._release(
                    session,
                    conversation,
                    message,
                    account,
                    scope.user_id,
                    set_pending,
                    now,
                    "; approved reply",
                )
            out = self._out(session, [conversation])[0]
        return out

    def note(self, scope: Scope, conversation_id: int, text: str) -> tuple[ConversationOut, int]:
        scope.require_write()
        with transaction(self.sessions) as session:
            conversation = self._visible(session, scope, conversation_id)
            message_id = self._add_note(session, conversation, scope.user_id, text)
            out = self._out(session, [conversation])[0]
        return out, message_id

    def _add_note(self, session: Session, conversation: Conversation, user_id: int, text: str) -> int:
        now = utcnow()
        message = Message(
            org_id=conversation.org_id,
            conversation_id=conversation.id,
            account_id=conversation.account_id,
            direction=Direction.NOTE.value,
            kind="note",
            author_user_id=user_id,
            text=text,
            attachments=[],
            raw={},
            sent_at=now,
            created_at=now,
        )
        session.add(message)
        session.flush()
        handles = sorted(set(MENTION.findall(text)))
        mentioned = (
            list(
                session.scalars(
                    select(User).where(
                        User.org_id == conversation.org_id, User.handle.in_(handles), User.active
                    )
                )
            )
            if handles
            else []
        )
        session.add(
            TimelineEvent(
                org_id=conversation.org_id,
                conversation_id=conversation.id,
                message_id=message.id,
                kind="note",
                actor_user_id=user_id,
                reason="internal note"
                + (f"; asked {', '.join('@' + u.handle for u in mentioned)} for help" if mentioned else ""),
                data={"mentions": [u.id for u in mentioned]},
            )
        )
        if mentioned:
            author = session.get(User, user_id)
            who = f"@{author.handle}" if author else "a colleague"
            notifications.notify_users(
                session,
                conversation,
                [u.id for u in mentioned if u.id != user_id],
                "mention",
                f"{who} asked for your help on conversation #{conversation.id}: {text[:200]}",
            )
        return message.id

    def assign(self, scope: Scope, conversation_id: int, assignee_id: int | None) -> ConversationOut:
        scope.require_write()
        with transaction(self.sessions) as session:
            conversation = self._visible(session, scope, conversation_id, lock=True)
            if assignee_id is None:
                conversation.assignee_id = None
                reason = "unassigned: back to the department queue"
            else:
                user = session.get(User, assignee_id)
                if user is None or user.org_id != scope.org_id or not user.active:
                    raise NotFound(f"assignee_id: no active user {assignee_id} in this organisation")
                if user.role == "viewer":
                    raise Refused(f"assignee_id: @{user.handle} is a viewer and cannot answer conversations")
                if conversation.department_id is not None and not scope.sees_department(
                    conversation.department_id
                ):
                    raise Forbidden("you cannot assign within a department you cannot see")
                member = session.scalars(
                    select(UserDepartment).where(
                        UserDepartment.user_id == user.id,
                        UserDepartment.department_id == conversation.department_id,
                    )
                ).first()
                if member is None and user.role not in ("owner", "admin"):
                    raise Refused(
                        f"assignee_id: @{user.handle} is not in this conversation's department; "
                        "transfer the conversation first"
                    )
                if user.location_id is not None:
                    here = orgs.location_path(session, conversation.location_id)
                    if not here.startswith(orgs.location_path(session, user.location_id)):
                        raise Refused(
                            f"assignee_id: @{user.handle} works for another location and cannot see this"
                        )
                conversation.assignee_id = user.id
                user.last_assigned_at = utcnow()
                reason = f"assigned to @{user.handle} by hand"
            session.add(
                TimelineEvent(
                    org_id=conversation.org_id,
                    conversation_id=conversation.id,
                    kind="assign",
                    actor_user_id=scope.user_id,
                    reason=reason,
                    data={"agent_id": assignee_id},
                )
            )
            out = self._out(session, [conversation])[0]
        return out

    def transfer(self, scope: Scope, conversation_id: int, department_key: str, note: str) -> ConversationOut:
        """Hand-off to another department with a note: no email ping-pong between teams."""
        scope.require_write()
        with transaction(self.sessions) as session:
            conversation = self._visible(session, scope, conversation_id, lock=True)
            target = session.scalars(
                select(Department).where(Department.org_id == scope.org_id, Department.key == department_key)
            ).first()
            if target is None:
                raise NotFound(f"department: no department '{department_key}'")
            if target.id == conversation.department_id:
                raise Conflict(f"department: the conversation is already in '{department_key}'")
            history = self._department_history(session, conversation)
            if is_transfer_loop(history, target.key):
                raise Refused(
                    f"department: transfer loop stopped — this conversation has already bounced "
                    f"between {' -> '.join(history)}; a manager should decide who answers it"
                )
            source = (
                session.get(Department, conversation.department_id) if conversation.department_id else None
            )
            note_id = self._add_note(
                session, conversation, scope.user_id, f"Hand-off to {target.name}: {note}"
            )
            conversation.department_id = target.id
            conversation.assignee_id = None
            conversation.transfer_count += 1
            # A person's hand-off replaces the rule's choice of team: the new department's people decide.
            conversation.tags = [t for t in (conversation.tags or []) if not t.startswith(TEAM_TAG)]
            session.add(
                TimelineEvent(
                    org_id=conversation.org_id,
                    conversation_id=conversation.id,
                    message_id=note_id,
                    kind="transfer",
                    actor_user_id=scope.user_id,
                    reason=f"transferred from {source.key if source else 'no department'} to {target.key}",
                    data={"from": source.key if source else None, "to": target.key},
                )
            )
            session.flush()
            self.routing.assign(session, conversation, None)
            out = self._out(session, [conversation])[0]
        return out

    def _department_history(self, session: Session, conversation: Conversation) -> list[str]:
        events = session.scalars(
            select(TimelineEvent)
            .where(
                TimelineEvent.conversation_id == conversation.id,
                TimelineEvent.kind.in_(("route", "transfer")),
            )
            .order_by(TimelineEvent.id)
        )
        history: list[str] = []
        for event in events:
            data: dict[str, Any] = dict(event.data or {})
            dept = data.get("department") if event.kind == "route" else data.get("to")
            if isinstance(dept, str):
                history.append(dept)
        if not history and conversation.department_id:
            current = session.get(Department, conversation.department_id)
            if current:
                history.append(current.key)
        return history

    def change_status(
        self, scope: Scope, conversation_id: int, action: str, until: datetime | None = None
    ) -> ConversationOut:
        scope.require_write()
        with transaction(self.sessions) as session:
            conversation = self._visible(session, scope, conversation_id, lock=True)
            before = conversation.status
            try:
                target = next_status(action, before)
            except InvalidTransition as exc:
                raise Conflict(str(exc)) from exc
            now = utcnow()
            detail = ""
            if target == ConversationStatus.SNOOZED:
                wake = as_utc(until)
                if wake is None or wake <= now:
                    raise UserError("until: must be a future time with a timezone")
                conversation.snoozed_until = wake
                detail = f" until {wake.isoformat()}"
            else:
                conversation.snoozed_until = None
            if target == ConversationStatus.RESOLVED:
                freed_org = conversation.org_id
                record = self.sla.on_resolve(session, conversation, now)
                conversation.resolved_at = now
                if record is not None:
                    detail = f"; resolution {'met' if record.met else 'breached'}"
            if target == ConversationStatus.PENDING:
                # Waiting on the customer: the clocks pause, keeping the business time they had left.
                self.sla.pause(session, conversation, now)
            elif target != ConversationStatus.RESOLVED and conversation.sla_paused_at is not None:
                self.sla.resume(session, conversation, now, f"{before} -> {target.value}")
            if target == ConversationStatus.REOPENED:
                conversation.resolved_at = None
            conversation.status = target.value
            if target == ConversationStatus.RESOLVED:
                session.flush()
                # The agent has room again: the queue is drained now, not at the next tick.
                self.routing.drain(session, freed_org, limit=20)
            session.add(
                TimelineEvent(
                    org_id=conversation.org_id,
                    conversation_id=conversation.id,
                    kind="status",
                    actor_user_id=scope.user_id,
                    reason=f"{before} -> {target.value}{detail}",
                    data={"from": before, "to": target.value},
                )
            )
            out = self._out(session, [conversation])[0]
        return out

    def correct(
        self, scope: Scope, conversation_id: int, message_id: int, field: str, value: str | None
    ) -> ConversationOut:
        """An agent corrects language, sentiment or intent; it is stored and becomes an example."""
        scope.require_write()
        with transaction(self.sessions) as session:
            conversation = self._visible(session, scope, conversation_id, lock=True)
            record_correction(session, conversation, message_id, scope.user_id, field, value)
            if field == "intent":
                self._follow_spam_verdict(session, conversation, message_id, value == SPAM, scope.user_id)
            out = self._out(session, [conversation])[0]
        return out

    def _follow_spam_verdict(
        self, session: Session, conversation: Conversation, message_id: int, spam: bool, actor_id: int
    ) -> None:
        """A person said whether it is spam: spam leaves assignment and the clocks, the rest joins them."""
        tags = list(conversation.tags or [])
        if spam == (SPAM in tags):
            return
        message = session.get(Message, message_id)
        if spam:
            tags.append(SPAM)
            conversation.assignee_id = None
            conversation.next_response_due = None
            conversation.resolution_due = None
            if conversation.first_response_at is None:
                conversation.first_response_due = None
            reason = "marked as spam: unassigned, SLA clocks stopped"
        else:
            tags.remove(SPAM)
            if conversation.priority == Priority.LOW.value:
                conversation.priority = Priority.NORMAL.value
            reason = "not spam after all: back into assignment and the SLA clocks"
        conversation.tags = tags
        session.add(
            TimelineEvent(
                org_id=conversation.org_id,
                conversation_id=conversation.id,
                message_id=message_id,
                kind="triage",
                actor_user_id=actor_id,
                reason=reason,
                data={"spam": spam},
            )
        )
        if not spam and message is not None and conversation.status != ConversationStatus.RESOLVED.value:
            if conversation.assignee_id is None:
                self.routing.assign(session, conversation, message)
            self.sla.on_inbound(session, conversation, message)

    def tick(self, now: datetime | None = None) -> dict[str, int]:
        """Housekeeping run every few seconds: wake snoozed conversations, SLA warnings/breaches."""
        now = now or utcnow()
        with transaction(self.sessions) as session:
            woken = list(
                session.scalars(
                    select(Conversation).where(
                        Conversation.status == ConversationStatus.SNOOZED.value,
                        Conversation.snoozed_until <= now,
                    )
                )
            )
            for conversation in woken:
                conversation.status = ConversationStatus.OPEN.value
                conversation.snoozed_until = None
                session.add(
                    TimelineEvent(
                        org_id=conversation.org_id,
                        conversation_id=conversation.id,
                        kind="status",
                        reason="snooze ended: snoozed -> open",
                        data={"from": "snoozed", "to": "open"},
                    )
                )
            actions = self.sla.tick(session, now)
            drained = self.routing.drain(session)
        count_actions(actions)
        return {
            "woken": len(woken),
            "warnings": sum(a.kind == "warning" for a in actions),
            "breaches": sum(a.kind == "breach" for a in actions),
            "assigned_from_queue": drained,
        }


def _held_and_refusal(message: Message, user: User | None) -> tuple[Hold, str | None]:
    """A held reply's hold, and why `user` may not approve it (None: they may)."""
    hold = Hold.from_dict((message.raw or {}).get("approval")) or Hold("waiting for approval")
    if user is None:
        return hold, "unknown user"
    why_not = refusal(
        hold,
        user_id=user.id,
        role=user.role,
        handle=user.handle,
        agency_id=user.agency_id,
        author_id=message.author_user_id,
    )
    return hold, why_not
