"""Notifications: who must know about a mention, an escalation, an approval or a rule's notify action.

Each goes in-app, and by e-mail too when SMTP is configured (see `mailer`): people are not always
looking at the inbox when a breach or a request for help happens.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from relaydesk.auth.scopes import Scope
from relaydesk.core.errors import NotFound, UserError
from relaydesk.core.events import NotificationCreated, publish_on_commit
from relaydesk.core.timeutil import utcnow
from relaydesk.db import reading, transaction
from relaydesk.models import Conversation, Notification, User
from relaydesk.notifications import mailer, repository
from relaydesk.notifications.schemas import NotificationOut

MANAGER_ROLES = ("owner", "admin", "manager")
EMAIL_KINDS = frozenset({"escalation", "sla_warning", "mention", "approval", "rule", "crisis"})
# The kinds a person can choose for, in the order the settings page lists them.
KINDS = ("crisis", "mention", "approval", "sla_warning", "escalation", "rule")
CHANNELS = ("in_app", "email")
_SUBJECTS = {
    "escalation": "SLA escalation",
    "sla_warning": "A response is due soon",
    "mention": "You were mentioned",
    "approval": "A reply waits for your approval",
    "rule": "A routing rule asks for your attention",
    "crisis": "Crisis alert",
}


def notify_users(
    session: Session, conversation: Conversation, user_ids: Iterable[int], kind: str, text: str
) -> int:
    """In-app notices (and e-mails) for these people, each as they chose for this kind."""
    count = 0
    ids = sorted(set(user_ids))
    if not ids:
        return 0
    people = {u.id: u for u in repository.active_users(session, ids)}
    mailed: list[tuple[str, str]] = []
    for user_id in ids:
        person = people.get(user_id)
        wants = channels_for(person.notification_prefs if person else None, kind)
        if person is not None and "email" in wants:
            mailed.append((person.name, person.email))
        if "in_app" not in wants:
            continue
        session.add(
            Notification(
                org_id=conversation.org_id,
                user_id=user_id,
                conversation_id=conversation.id,
                kind=kind,
                text=text[:1000],
            )
        )
        # The row's id is not flushed yet (one INSERT for the batch at the commit): listeners
        # read the user's unread notifications rather than one row.
        publish_on_commit(
            session,
            NotificationCreated(
                org_id=conversation.org_id, user_id=user_id, kind=kind, conversation_id=conversation.id
            ),
        )
        count += 1
    if kind in EMAIL_KINDS and mailed and mailer.enabled():
        email_people(session, conversation, mailed, kind, text)
    return count


def notify_alert(session: Session, org_id: int, alert_id: int, user_ids: Iterable[int], text: str) -> int:
    """In-app notices (and e-mails) about a crisis alert for these people, as each chose for "crisis"."""
    ids = sorted(set(user_ids))
    people = {u.id: u for u in repository.active_users(session, ids)} if ids else {}
    mailed: list[tuple[str, str]] = []
    count = 0
    for user_id, person in people.items():
        wants = channels_for(person.notification_prefs, "crisis")
        if "email" in wants:
            mailed.append((person.name, person.email))
        if "in_app" not in wants:
            continue
        session.add(
            Notification(org_id=org_id, user_id=user_id, alert_id=alert_id, kind="crisis", text=text[:1000])
        )
        publish_on_commit(session, NotificationCreated(org_id=org_id, user_id=user_id, kind="crisis"))
        count += 1
    if mailed and mailer.enabled():
        subject = f"[RelayDesk] {_SUBJECTS['crisis']} #{alert_id}"
        body = f"{text}\n\nAlert #{alert_id}: open /alerts/{alert_id} in RelayDesk. This message was sent by RelayDesk."
        mailer.queue(
            session, [mailer.Mail(mailer.recipient(name, address), subject, body) for name, address in mailed]
        )
    return count


def channels_for(prefs: Mapping[str, Any] | None, kind: str) -> set[str]:
    """How a person is told about `kind`: what they chose, else in the app and by e-mail."""
    chosen = (prefs or {}).get(kind)
    if not isinstance(chosen, Mapping):
        return set(CHANNELS)
    return {channel for channel in CHANNELS if chosen.get(channel, True) is not False}


def email_people(
    session: Session, conversation: Conversation, people: Iterable[tuple[str, str]], kind: str, text: str
) -> int:
    """Queue one mail per person (so nobody sees the others' addresses); 0 when e-mail is off."""
    subject = f"[RelayDesk] {_SUBJECTS.get(kind, kind)}: conversation #{conversation.id}"
    body = f"{text}\n\nConversation #{conversation.id}. This message was sent by RelayDesk."
    return mailer.queue(
        session,
        [mailer.Mail(mailer.recipient(name, address), subject, body) for name, address in people],
    )


def email_addresses(targets: Iterable[str]) -> list[str]:
    """The plain e-mail addresses among a rule's notify targets (handles and webhooks are not)."""
    return [t for t in targets if not t.startswith("webhook:") and "@" in t.lstrip("@")]


def handles_to_ids(session: Session, org_id: int, handles: Iterable[str]) -> list[int]:
    names = [
        h.lstrip("@") for h in handles if h and not h.startswith("webhook:") and "@" not in h.lstrip("@")
    ]
    if not names:
        return []
    return repository.active_ids_by_handle(session, org_id, names)


_MANAGERS_KEY = "relaydesk_department_managers"


def department_managers(session: Session, conversation: Conversation) -> list[int]:
    """The active managers (owners, admins, managers) who are members of the conversation's department."""
    if conversation.department_id is None:
        return []
    # Once per department and transaction: a round of SLA warnings asks for each conversation.
    known: dict[int, list[int]] = session.info.setdefault(_MANAGERS_KEY, {})
    if conversation.department_id not in known:
        known[conversation.department_id] = sorted(
            repository.active_members_with_roles(session, conversation.department_id, MANAGER_ROLES)
        )
    return list(known[conversation.department_id])


def escalation_recipients(session: Session, conversation: Conversation) -> list[int]:
    """The assignee and the managers of the conversation's department."""
    ids: set[int] = {conversation.assignee_id} if conversation.assignee_id else set()
    ids.update(department_managers(session, conversation))
    return sorted(ids)


def warning_recipients(session: Session, conversation: Conversation) -> list[int]:
    """Who hears that a response is due soon: the assignee, who can still make it; while nobody
    is assigned, the department's managers, who can give it to someone."""
    if conversation.assignee_id is not None:
        return [conversation.assignee_id]
    return department_managers(session, conversation)


# -- a person's own notifications (the API) -------------------------------------------------------


LATEST = 100
API_LIMIT = 200


class NotificationCentre:
    """The person's notification centre: the bell's count, the list, marking read.

    Every read is the caller's own: each query is filtered by the scope's user id, so one
    person never sees or changes another's notices.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def unread_count(self, scope: Scope) -> int:
        with reading(self.sessions) as session:
            return repository.unread_count(session, scope.user_id)

    def page(self, scope: Scope, *, unread: bool = False, limit: int = API_LIMIT) -> list[NotificationOut]:
        """The API's view: the latest notifications, newest first (only unread ones if asked)."""
        return [
            NotificationOut(
                id=n.id,
                kind=n.kind,
                text=n.text,
                conversation_id=n.conversation_id,
                alert_id=n.alert_id,
                read=n.read_at is not None,
                at=n.created_at,
            )
            for n in self.latest(scope, unread=unread, limit=limit)
        ]

    def latest(self, scope: Scope, *, unread: bool = False, limit: int = LATEST) -> Sequence[Notification]:
        with reading(self.sessions) as session:
            rows = repository.notifications_of(session, scope.user_id, unread, limit)
            session.expunge_all()
            return rows

    def mark_read(self, scope: Scope, notification_id: int) -> Notification:
        """Read now (once: reading it again keeps the first time); returns it, for its link."""
        with transaction(self.sessions) as session:
            row = repository.notification_of(session, scope.user_id, notification_id)
            if row is None:
                raise NotFound(f"notification {notification_id} not found")
            row.read_at = row.read_at or utcnow()
            session.flush()
            session.expunge(row)
            return row

    def preferences(self, scope: Scope) -> dict[str, set[str]]:
        """For each kind, how the caller is told today."""
        with reading(self.sessions) as session:
            user = session.get(User, scope.user_id)
            prefs = user.notification_prefs if user else None
        return {kind: channels_for(prefs, kind) for kind in KINDS}

    def set_preferences(self, scope: Scope, chosen: Mapping[str, set[str]]) -> None:
        """Store the caller's choice; unknown kinds or channels are refused, not ignored."""
        unknown = sorted(set(chosen) - set(KINDS))
        if unknown:
            raise UserError(f"unknown notification kinds: {', '.join(unknown)}")
        stored: dict[str, dict[str, bool]] = {}
        for kind in KINDS:
            wanted = chosen.get(kind, set(CHANNELS))
            if not wanted <= set(CHANNELS):
                raise UserError(f"{kind}: channels are {', '.join(CHANNELS)}")
            stored[kind] = {channel: channel in wanted for channel in CHANNELS}
        with transaction(self.sessions) as session:
            user = session.get(User, scope.user_id)
            if user is None:
                raise NotFound("user not found")
            user.notification_prefs = stored

    def mark_all_read(self, scope: Scope) -> int:
        with transaction(self.sessions) as session:
            return repository.mark_all_read(session, scope.user_id, utcnow())
