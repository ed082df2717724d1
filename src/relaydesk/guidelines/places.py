"""The brands and regions a guideline or an FAQ entry may be limited to, shared by both."""

from __future__ import annotations

from sqlalchemy.orm import Session

from relaydesk.auth.scopes import Scope
from relaydesk.core.errors import Refused
from relaydesk.guidelines import repository


def choices(session: Session, scope: Scope) -> list[tuple[str, str, str]]:
    """(key, name, kind) of the brands and regions, to choose a place from."""
    return [(p.key, p.name, p.kind) for p in repository.places(session, scope.org_id, ("brand", "region"))]


def place_id(session: Session, scope: Scope, key: str | None) -> int | None:
    """The id of the place with this key (None for none); an unknown key is refused."""
    if not key or not key.strip():
        return None
    place = repository.place_by_key(session, scope.org_id, key.strip())
    if place is None:
        raise Refused(f"place: no brand, region or location with the key '{key.strip()}'", field="place")
    return place.id
