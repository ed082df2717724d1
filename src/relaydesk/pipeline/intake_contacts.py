"""The contacts behind a run of inbound events: found by their network identity, made on first contact.

A surge is many events from many new authors. Read one at a time, each author cost a lookup, an
ORM insert with its flush, an identity insert and a merge check. Here the run's identities are read
in one query and its merge chains one query per link; new contacts are inserted together where the
database can return their ids in order (PostgreSQL; SQLite inserts them one by one), their
identities in one statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from relaydesk.pipeline import intake_repository
from relaydesk.pipeline.intake_repository import IdentityKey

MERGE_DEPTH = 10  # a merged contact points at its survivor; bounded against cycles


@dataclass(frozen=True)
class Author:
    """Who wrote one event, as the contact needs it."""

    org_id: int
    network: str
    external_user_id: str
    handle: str | None
    display_name: str
    followers: int | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> IdentityKey:
        return (self.org_id, self.network, self.external_user_id)


def contacts_for(session: Session, authors: list[Author]) -> list[int]:
    """Each author's contact id (the survivor of any merge), new contacts made as needed."""
    keys = list(dict.fromkeys(author.key for author in authors))
    found = intake_repository.identity_contacts(session, keys)
    missing = [key for key in keys if key not in found]
    if missing:
        first = {author.key: author for author in reversed(authors)}
        found.update(_new_contacts(session, [first[key] for key in missing]))
    survivors = _survivors(session, set(found.values()))
    ids = [survivors.get(found[author.key], found[author.key]) for author in authors]
    _update_attributes(session, authors, ids)
    return ids


def _new_contacts(session: Session, authors: list[Author]) -> dict[IdentityKey, int]:
    """Contacts and identities for first-time authors; an author another delivery gave a contact
    meanwhile keeps that one (ours is removed)."""
    ids = intake_repository.insert_contacts(
        session,
        [{"org_id": a.org_id, "display_name": a.display_name[:200], "attributes": {}} for a in authors],
    )
    won = intake_repository.insert_identities(
        session,
        [
            {
                "org_id": a.org_id,
                "contact_id": contact_id,
                "network": a.network,
                "external_user_id": a.external_user_id,
                "handle": a.handle,
            }
            for a, contact_id in zip(authors, ids, strict=True)
        ],
    )
    out = {a.key: contact_id for a, contact_id in zip(authors, ids, strict=True) if a.key in won}
    lost = [(a.key, contact_id) for a, contact_id in zip(authors, ids, strict=True) if a.key not in won]
    if lost:
        intake_repository.delete_contacts(session, [contact_id for _, contact_id in lost])
        out.update(intake_repository.identity_contacts(session, [key for key, _ in lost]))
    return out


def _survivors(session: Session, contact_ids: set[int]) -> dict[int, int]:
    """contact id -> the contact it was merged into, following chains (only merged ones listed)."""
    out: dict[int, int] = {}
    current = {i: i for i in contact_ids}  # original -> where its chain has got to
    for _ in range(MERGE_DEPTH):
        if not current:
            break
        step = intake_repository.merged_into(session, set(current.values()))
        current = {original: step[at] for original, at in current.items() if at in step}
        out.update(current)
    return out


def _update_attributes(session: Session, authors: list[Author], ids: list[int]) -> None:
    """Follower counts and attributes a network sends with an event, onto the contact, in order."""
    touched = [(a, i) for a, i in zip(authors, ids, strict=True) if a.followers is not None or a.attributes]
    if not touched:
        return
    contacts = intake_repository.contacts(session, {i for _, i in touched})
    for author, contact_id in touched:
        contact = contacts.get(contact_id)
        if contact is None:
            continue
        attrs = dict(contact.attributes or {})
        if author.followers is not None:
            attrs["followers"] = author.followers
        attrs.update(author.attributes)
        contact.attributes = attrs
