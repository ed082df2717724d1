"""Replies held for approval: who is asked, who may release them, and the release or rejection."""

from __future__ import annotations

from sqlalchemy.orm import Session

from relaydesk.auth.scopes import Scope
from relaydesk.conversations import repository as repo
from relaydesk.conversations import timeline
from relaydesk.conversations.approvals import Hold, approvers_from_tags, refusal
from relaydesk.conversations.context import Deps, visible
from relaydesk.conversations.schemas import ApprovalOut, ConversationOut
from relaydesk.conversations.sending import release
from relaydesk.conversations.views import summary
from relaydesk.core.enums import APPROVER_ROLES, DeliveryStatus
from relaydesk.core.errors import Conflict, Forbidden, NotFound
from relaydesk.core.timeutil import as_utc, utcnow
from relaydesk.crisis.alert_service import alert_service
from relaydesk.crisis.playbook import DEFAULT_APPROVERS
from relaydesk.db import reading, transaction
from relaydesk.models import Agency, ChannelAccount, Conversation, Message, User
from relaydesk.orgs.service import org_service as orgs


def needs_approval(session: Session, conversation: Conversation, author: User | None) -> Hold | None:
    """Crisis, legal, press or VIP conversations (a rule tagged them), conversations under an open
    crisis alert whose playbook holds replies, and agency authors wait."""
    if "needs-approval" in (conversation.tags or []):
        return Hold(
            "a routing rule requires approval on this conversation",
            approvers_from_tags(conversation.tags or []),
        )
    by_contract: Hold | None = None
    if author is not None and author.agency_id is not None:
        agency = session.get(Agency, author.agency_id)
        if agency is not None and (agency.contract or {}).get("replies_need_approval", False):
            by_contract = Hold(
                f"replies by the {agency.name} agency need approval under its contract",
                excluded_agency_id=agency.id,
                excluded_agency=agency.name,
            )
    crisis = alert_service.hold_for(session, conversation.org_id, conversation.location_id)
    if crisis is None and author is not None and author.agency_id is not None:
        # the agency holds while any alert is open here, whatever the playbook says of others
        agency_alert = alert_service.first_open_at(session, conversation.org_id, conversation.location_id)
        if agency_alert is not None:
            agency = session.get(Agency, author.agency_id)
            return Hold(
                f"crisis alert #{agency_alert} is open: the agency holds, replies wait for in-house approval",
                DEFAULT_APPROVERS,
                excluded_agency_id=author.agency_id,
                excluded_agency=agency.name if agency is not None else None,
            )
    if crisis is not None:
        # the crisis playbook: while the alert is open, the brand speaks through its approvers
        # only; an agency held by its contract still may not approve its own people's replies
        return Hold(
            f"crisis alert #{crisis[0]} is open: replies here wait for approval",
            crisis[1],
            excluded_agency_id=by_contract.excluded_agency_id if by_contract else None,
            excluded_agency=by_contract.excluded_agency if by_contract else None,
        )
    return by_contract


def approver_ids(
    session: Session, conversation: Conversation, hold: Hold, author_id: int | None
) -> list[int]:
    """The people who may release the held reply and can see it: named people, and holders of
    the named roles in the conversation's department (owners and admins see every department)."""
    handles = [a[1:] for a in hold.approvers if a.startswith("@")]
    ranks = [APPROVER_ROLES[a] for a in hold.approvers if a in APPROVER_ROLES]
    candidates: list[User] = []
    if handles:
        candidates += repo.active_users_by_handle(session, conversation.org_id, handles)
    if ranks:
        roles = [role for role, rank in APPROVER_ROLES.items() if rank >= min(ranks)]
        candidates += repo.active_users_with_roles(
            session, conversation.org_id, roles, conversation.department_id
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
        if why is None and user.role != "viewer" and _can_see(session, user, conversation):
            ids.append(user.id)
    return sorted(ids)


def _can_see(session: Session, user: User, conversation: Conversation) -> bool:
    """What `Scope.conversation_filter` would say for this person, for one conversation."""
    if user.role not in ("owner", "admin") and user.id != conversation.assignee_id:
        if not repo.is_member(session, user.id, conversation.department_id):
            return False
    if repo.outside_accounts(session, user.id, conversation.account_id):
        return False
    if user.location_id is None:
        return True
    here = orgs.location_path(session, conversation.location_id)
    return here.startswith(orgs.location_path(session, user.location_id))


def _hold_with_people(
    session: Session, conversation: Conversation, hold: Hold, author_id: int | None
) -> Hold:
    handles = repo.sorted_handles(session, approver_ids(session, conversation, hold, author_id))
    return Hold(hold.reason, hold.approvers, hold.excluded_agency_id, hold.excluded_agency, handles)


def held_and_refusal(message: Message, user: User | None) -> tuple[Hold, str | None]:
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


def approval_out(
    session: Session, conversation: Conversation, message: Message, caller: User | None
) -> ApprovalOut | None:
    if message.delivery_status != "draft":
        return None
    hold, why_not = held_and_refusal(message, caller)
    if why_not is None and caller is not None and caller.role == "viewer":
        why_not = "viewers cannot approve replies"
    people = _hold_with_people(session, conversation, hold, message.author_user_id).people
    return ApprovalOut(
        reason=hold.reason,
        approvers=list(hold.approvers),
        waiting_for=hold.waiting_for(),
        people=[f"@{h}" for h in people],
        can_approve=why_not is None,
        why_not=why_not,
    )


def held_reply(deps: Deps, scope: Scope, conversation_id: int, message_id: int) -> ApprovalOut | None:
    """Whether the reply waits for approval, and for whom (None once it is on its way)."""
    with reading(deps.sessions) as session:
        conversation = visible(session, scope, conversation_id)
        message = session.get(Message, message_id)
        if message is None or message.conversation_id != conversation.id:
            raise NotFound(f"message {message_id} not found in conversation {conversation_id}")
        return approval_out(session, conversation, message, session.get(User, scope.user_id))


def review_draft(
    deps: Deps, scope: Scope, conversation_id: int, message_id: int, approve: bool, text: str | None = None
) -> ConversationOut:
    """One of the approvers the hold names approves (optionally editing) or rejects a held reply.

    Nobody reviews their own reply, and only the roles or people the hold names may review it
    (managers when it names none): anyone else gets 403 saying who the reply waits for.
    """
    scope.require_write()
    with transaction(deps.sessions) as session:
        conversation = visible(session, scope, conversation_id, lock=True)
        message = session.get(Message, message_id)
        if message is None or message.conversation_id != conversation.id:
            raise NotFound(f"message {message_id} not found in conversation {conversation_id}")
        if message.delivery_status != "draft":
            raise Conflict(f"message {message_id} is not waiting for approval ({message.delivery_status})")
        reviewer = session.get(User, scope.user_id)
        _hold, why_not = held_and_refusal(message, reviewer)
        if why_not is not None:
            raise Forbidden(why_not)
        item = repo.outbox_item_of(session, message.id)
        account = session.get(ChannelAccount, conversation.account_id)
        assert account is not None
        now = utcnow()
        waited = int((now - (as_utc(message.created_at) or now)).total_seconds())
        if not approve:
            message.delivery_status = "rejected"
            if item is not None:
                item.status = "rejected"
            timeline.record(
                session,
                conversation,
                "approval",
                f"draft rejected after {waited // 60} min" + (f": {text}" if text else ""),
                {"approved": False, "approval_seconds": waited},
                actor_id=scope.user_id,
                message_id=message.id,
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
            timeline.record(
                session,
                conversation,
                "approval",
                f"draft approved{' with edits' if edited else ''} after {waited // 60} min",
                {"approved": True, "edited": edited, "approval_seconds": waited},
                actor_id=scope.user_id,
                message_id=message.id,
            )
            set_pending = bool((message.raw or {}).get("set_pending"))
            release(
                deps,
                session,
                conversation,
                message,
                account,
                scope.user_id,
                set_pending,
                now,
                "; approved reply",
            )
        out = summary(session, conversation)
    return out
