"""Contacts: list and show what the caller may see, edit attributes, merge duplicates."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from relaydesk.auth.scopes import Scope
from relaydesk.contacts import repository as repo
from relaydesk.contacts.merging import attribute_problems, merged_attributes
from relaydesk.contacts.schemas import (
    ContactConversation,
    ContactDetail,
    ContactOut,
    ContactPage,
    ContactUpdate,
    IdentityOut,
)
from relaydesk.core.errors import NotFound, Refused, UserError
from relaydesk.db import reading, transaction
from relaydesk.models import Contact, TimelineEvent, User


class ContactService:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def page(
        self, scope: Scope, q: str | None = None, cursor: str | None = None, limit: int = 50
    ) -> ContactPage:
        if not 1 <= limit <= 200:
            raise UserError("limit: must be between 1 and 200")
        after_id = None
        if cursor:
            # isascii: "²" and other Unicode digits pass isdigit() but not int(); the length keeps
            # the id inside a 64-bit column (a larger one is an overflow in the database, a 500).
            if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > 18:
                raise UserError("cursor: use the next_cursor of the previous page")
            after_id = int(cursor)
        with reading(self.sessions) as session:
            rows = repo.search(session, scope, q, after_id, limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            return ContactPage(
                items=self._out(session, scope, rows), next_cursor=str(rows[-1].id) if more and rows else None
            )

    def detail(self, scope: Scope, contact_id: int) -> ContactDetail:
        with reading(self.sessions) as session:
            return self._detail(session, scope, self._get(session, scope, contact_id))

    def update(self, scope: Scope, contact_id: int, change: ContactUpdate) -> ContactDetail:
        scope.require_write()
        if change.attributes is not None:
            problems = attribute_problems(change.attributes)
            if problems:
                raise UserError("; ".join(problems))
        with transaction(self.sessions) as session:
            contact = self._get(session, scope, contact_id, lock=True)
            if change.display_name is not None:
                contact.display_name = change.display_name.strip()
            if change.attributes is not None:
                contact.attributes = dict(change.attributes)
            session.flush()
            return self._detail(session, scope, contact)

    def merge(self, scope: Scope, duplicate_id: int, survivor_id: int) -> ContactDetail:
        """Fold `duplicate` into `survivor`: identities, conversations and messages move over.

        The duplicate row stays, pointing at the survivor, so anything still holding its id (an
        export, a webhook consumer) can follow it; the pipeline follows it for new messages.
        """
        scope.require_write()
        if duplicate_id == survivor_id:
            raise Refused("into: a contact cannot be merged into itself")
        with transaction(self.sessions) as session:
            # Lock both rows in id order so two merges of the same pair cannot deadlock.
            first, second = sorted((duplicate_id, survivor_id))
            rows = {c.id: c for c in (self._get(session, scope, i, lock=True) for i in (first, second))}
            duplicate, survivor = rows[duplicate_id], rows[survivor_id]
            for contact, role in ((duplicate, "contact"), (survivor, "into")):
                if contact.merged_into_id is not None:
                    raise Refused(
                        f"{role}: contact {contact.id} was already merged into {contact.merged_into_id}; "
                        "use that contact"
                    )
            moved = repo.move_to(session, duplicate.id, survivor.id)
            survivor.attributes = merged_attributes(survivor.attributes or {}, duplicate.attributes or {})
            if not survivor.display_name and duplicate.display_name:
                survivor.display_name = duplicate.display_name
            duplicate.merged_into_id = survivor.id
            # Keep every chain one step long: what pointed at the duplicate now points at the survivor.
            repo.repoint_merged(session, duplicate.id, survivor.id)
            who = session.get(User, scope.user_id)
            for conversation_id in moved:
                session.add(
                    TimelineEvent(
                        org_id=scope.org_id,
                        conversation_id=conversation_id,
                        kind="contact_merge",
                        actor_user_id=scope.user_id,
                        reason=(
                            f"contact #{duplicate.id} merged into #{survivor.id}"
                            f" by @{who.handle if who else scope.user_id}"
                        ),
                        data={"from": duplicate.id, "into": survivor.id},
                    )
                )
            session.flush()
            return self._detail(session, scope, survivor)

    # -- helpers --------------------------------------------------------------------------

    def _get(self, session: Session, scope: Scope, contact_id: int, lock: bool = False) -> Contact:
        contact = repo.get_visible(session, scope, contact_id, lock=lock)
        if contact is None:
            # The same answer whether it does not exist or the caller may not see it.
            raise NotFound(f"contact {contact_id} not found")
        return contact

    def _out(self, session: Session, scope: Scope, rows: list[Contact]) -> list[ContactOut]:
        ids = [c.id for c in rows]
        identities = repo.identities(session, ids)
        counts = repo.conversation_counts(session, scope, ids)
        return [
            ContactOut(
                id=c.id,
                display_name=c.display_name,
                attributes=dict(c.attributes or {}),
                identities=[
                    IdentityOut(network=i.network, external_user_id=i.external_user_id, handle=i.handle)
                    for i in identities[c.id]
                ],
                conversations=counts.get(c.id, 0),
                merged_into_id=c.merged_into_id,
            )
            for c in rows
        ]

    def _detail(self, session: Session, scope: Scope, contact: Contact) -> ContactDetail:
        (summary,) = self._out(session, scope, [contact])
        recent = [
            ContactConversation(
                id=c.id,
                status=c.status,
                network=c.network,
                subject=c.subject,
                last_message_at=c.last_message_at,
            )
            for c in repo.recent_conversations(session, scope, contact.id)
        ]
        return ContactDetail(**summary.model_dump(), recent_conversations=recent)
