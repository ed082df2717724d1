"""People for those who look after them: list, read, invite, change, deactivate, API tokens.

Used by the settings pages (via "web") and /api/v1/people (via "api"); who may do what is
`people_access.py`, decided here for every caller. Every method runs inside the caller's
transaction (the caller commits), in a session acting for the caller, so the audit log has each
change with before and after. A person is checked as `config apply` checks an `agents:` entry
(the same model, the same messages), so what the page saves `config export` gives back.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from relaydesk.audit.service import act_as
from relaydesk.auth import service as auth
from relaydesk.auth import welcome
from relaydesk.auth.schemas import TokenInfo
from relaydesk.auth.scopes import Scope
from relaydesk.core.enums import Role
from relaydesk.core.errors import Conflict, Forbidden, NotFound, Refused
from relaydesk.core.timeutil import utcnow
from relaydesk.models import Location, User, UserDepartment
from relaydesk.orgs import people_repository as db
from relaydesk.orgs import repository as orgs_db
from relaydesk.orgs.people_access import (
    Editor,
    Person,
    PersonField,
    change_refusal,
    editable_fields,
    may_list,
    may_view,
    token_refusal,
)
from relaydesk.orgs.people_repository import PeopleQuery, Team
from relaydesk.orgs.people_schemas import InviteOut, PeoplePage, PersonIn, PersonOut, PersonPatch
from relaydesk.orgs.people_values import Values, checked, field_errors, from_row
from relaydesk.orgs.shifts import ShiftSchedule, split_time_off, with_time_off

PAGE_SIZE = 50
# The location choices a form offers (a datalist): a chain's 1,000+ fit; a bigger one types the key.
LOCATION_CHOICES = 2000
# How many of a deactivated person's open conversations one click hands back to the queue.
RETURN_LIMIT = 500


@dataclass(frozen=True)
class Choices:
    """What the person form offers: departments (id, key, name), agencies and locations (key, name)."""

    departments: list[tuple[int, str, str]]
    agencies: list[tuple[str, str]]
    locations: list[tuple[str, str]]
    locations_capped: bool


def editor_of(scope: Scope) -> Editor:
    # Owners and admins look after the whole organisation (their own location scope limits what
    # they see of conversations, not whom they administer).
    locations = scope.location_ids if scope.role == Role.MANAGER else None
    return Editor(scope.user_id, scope.role, scope.department_ids, locations)


def _person(row: User, department_ids: set[int]) -> Person:
    return Person(row.id, Role(row.role), frozenset(department_ids), row.location_id, row.active)


class PeopleService:
    """Stateless; shared as `people_service`."""

    def may_list(self, scope: Scope) -> bool:
        return may_list(editor_of(scope))

    # -- reading ---------------------------------------------------------------------------

    def page(self, session: Session, scope: Scope, query: PeopleQuery, offset: int = 0) -> PeoplePage:
        editor = editor_of(scope)
        if not may_list(editor):
            raise Forbidden("the list of people is for managers, admins and owners")
        team = (
            None
            if scope.role in (Role.OWNER, Role.ADMIN)
            else Team(editor.department_ids, editor.location_ids)
        )
        offset = max(0, offset)
        rows, total = db.people(session, scope.org_id, query, team, offset, PAGE_SIZE)
        return PeoplePage(
            people=self._out(session, editor, rows), total=total, offset=offset, limit=PAGE_SIZE
        )

    def get(self, session: Session, scope: Scope, user_id: int) -> PersonOut:
        row, person = self.person_row(session, scope, user_id)
        if not may_view(editor_of(scope), person):
            raise Forbidden("this person is outside your part of the organisation")
        return self._out(session, editor_of(scope), [row])[0]

    def choices(self, session: Session, scope: Scope) -> Choices:
        editor = editor_of(scope)
        departments = [
            (d.id, d.key, d.name)
            for d in db.departments(session, scope.org_id)
            if scope.role != Role.MANAGER or d.id in editor.department_ids
        ]
        locations = db.location_choices(session, scope.org_id, editor.location_ids, LOCATION_CHOICES)
        return Choices(
            departments=departments,
            agencies=[(a.key, a.name) for a in db.agencies(session, scope.org_id)],
            locations=locations,
            locations_capped=len(locations) >= LOCATION_CHOICES,
        )

    def person_row(self, session: Session, scope: Scope, user_id: int) -> tuple[User, Person]:
        """The person of the caller's organisation and what access rules know of them; NotFound else."""
        row = db.person(session, scope.org_id, user_id)
        if row is None:
            raise NotFound(f"no person with id {user_id}")
        return row, _person(row, db.department_ids_by_user(session, [row.id]).get(row.id, set()))

    def _out(self, session: Session, editor: Editor, rows: list[User]) -> list[PersonOut]:
        ids = [r.id for r in rows]
        departments = db.department_ids_by_user(session, ids)
        keys = {d.id: d.key for d in db.departments(session, rows[0].org_id)} if rows else {}
        places = db.locations_by_id(session, sorted({r.location_id for r in rows if r.location_id}))
        agencies = orgs_db.agency_keys(session, rows[0].org_id) if rows else {}
        counts = orgs_db.open_counts(session, ids)
        now = utcnow()
        out = []
        for row in rows:
            place = places.get(row.location_id) if row.location_id else None
            working, days_off = split_time_off(list(row.shifts or []))
            try:
                on_shift: bool | None = ShiftSchedule.from_config(row.shifts or [], row.timezone).is_on_shift(
                    now
                )
            except (ValueError, KeyError):
                on_shift = None
            mine = departments.get(row.id, set())
            out.append(
                PersonOut(
                    id=row.id,
                    email=row.email,
                    handle=row.handle,
                    name=row.name,
                    role=row.role,
                    departments=sorted(keys[d] for d in mine if d in keys),
                    location=place.key if place else None,
                    location_name=place.name if place else None,
                    languages=list(row.languages or []),
                    skills=list(row.skills or []),
                    timezone=row.timezone,
                    shifts=[dict(s) for s in working],
                    time_off=list(days_off),
                    max_concurrent=row.max_concurrent,
                    agency=agencies.get(row.agency_id) if row.agency_id else None,
                    active=row.active,
                    online=row.online,
                    has_password=row.password_hash is not None,
                    open_conversations=counts.get(row.id, 0),
                    on_shift=on_shift,
                    editable=sorted(editable_fields(editor, _person(row, mine))),
                )
            )
        return out

    # -- changing --------------------------------------------------------------------------

    def invite(self, session: Session, scope: Scope, body: PersonIn, via: str = "api") -> InviteOut:
        """Create the person and a one-time link to set their password (shown once)."""
        editor = editor_of(scope)
        if not may_list(editor):
            raise Forbidden("only owners, admins and managers invite people")
        org = orgs_db.get_org(session, scope.org_id)
        assert org is not None
        given = Values(
            email=body.email,
            name=body.name,
            handle=body.handle,
            role=body.role.value,
            departments=list(body.departments),
            location=body.location or None,
            languages=list(body.languages),
            skills=list(body.skills),
            timezone=body.timezone or org.default_timezone,
            shifts=[s.model_dump() for s in body.shifts],
            time_off=list(body.time_off),
            max_concurrent=body.max_concurrent,
            agency=body.agency or None,
            active=True,
        )
        valid = checked(given)
        resolved = self._resolve(session, scope, valid, None)
        changed = frozenset(f for f in PersonField if f.value in given.filled())
        after = Person(None, Role(valid.role), frozenset(resolved.department_ids), resolved.location_id)
        refused = change_refusal(editor, None, after, changed)
        if refused is not None:
            raise Forbidden(refused)
        act_as(session, scope, via)
        row = User(org_id=scope.org_id, password_hash=None, online=False)
        self._write(row, valid, resolved)
        session.add(row)
        self._flush(session)
        self._sync_departments(session, row, resolved.department_ids)
        token, expires = welcome.issue(session, row, scope.user_id)
        person = self._out(session, editor, [row])[0]
        return InviteOut(person=person, welcome_path=f"/welcome/{token}", welcome_expires_at=expires)

    def update(
        self, session: Session, scope: Scope, user_id: int, patch: PersonPatch, via: str = "api"
    ) -> PersonOut:
        """Change what `patch` names; a value equal to the stored one is no change."""
        editor = editor_of(scope)
        row, before = self.person_row(session, scope, user_id)
        if not may_view(editor, before):
            raise Forbidden("this person is outside your part of the organisation")
        stored = from_row(row, self._keys(session, row, before))
        given = {name: getattr(patch, name) for name in patch.model_fields_set}
        merged = stored.merged(given)
        valid = checked(merged)
        changed = frozenset(f for f in PersonField if stored.differs(valid, f.value))
        if not changed:
            return self._out(session, editor, [row])[0]
        resolved = self._resolve(session, scope, valid, row.id)
        after = Person(
            row.id, Role(valid.role), frozenset(resolved.department_ids), resolved.location_id, valid.active
        )
        owners = db.active_owners_besides(session, scope.org_id, row.id)
        refused = change_refusal(editor, before, after, changed, other_active_owners=owners)
        if refused is not None:
            raise Forbidden(refused)
        act_as(session, scope, via)
        self._write(row, valid, resolved)
        self._flush(session)
        self._sync_departments(session, row, resolved.department_ids)
        return self._out(session, editor, [row])[0]

    def new_welcome_link(self, session: Session, scope: Scope, user_id: int, via: str = "api") -> InviteOut:
        """A fresh set-password link (the older ones stop working): for a lost invite or password."""
        editor = editor_of(scope)
        row, person = self.person_row(session, scope, user_id)
        if row.id == scope.user_id or PersonField.ACTIVE not in editable_fields(editor, person):
            raise Forbidden("only whoever may deactivate this person gives them a new password link")
        if not row.active:
            raise Refused("this person is deactivated: reactivate them first")
        act_as(session, scope, via)
        token, expires = welcome.issue(session, row, scope.user_id)
        return InviteOut(
            person=self._out(session, editor, [row])[0],
            welcome_path=f"/welcome/{token}",
            welcome_expires_at=expires,
        )

    def open_conversation_ids(self, session: Session, scope: Scope, user_id: int) -> list[int]:
        """The open conversations a person holds, for handing them back to the queue."""
        row, person = self.person_row(session, scope, user_id)
        if PersonField.ACTIVE not in editable_fields(editor_of(scope), person) and scope.role not in (
            Role.OWNER,
            Role.ADMIN,
        ):
            raise Forbidden("only whoever may deactivate this person hands their work back")
        return db.open_conversation_ids(session, row.id, RETURN_LIMIT)

    # -- API tokens ------------------------------------------------------------------------

    def tokens(self, session: Session, scope: Scope, user_id: int) -> list[TokenInfo]:
        _row, person = self.person_row(session, scope, user_id)
        if token_refusal(editor_of(scope), person, mint=False) is not None:
            raise Forbidden("only owners, admins and the person themselves see their tokens")
        return auth.tokens_of(session, scope.org_id, user_id)

    def may_see_tokens(self, scope: Scope, person: PersonOut) -> bool:
        owner = Person(person.id, Role(person.role), frozenset(), None)
        return token_refusal(editor_of(scope), owner, mint=False) is None

    def mint_token(
        self,
        session: Session,
        scope: Scope,
        user_id: int,
        name: str,
        days: int,
        *,
        web_session_id: int | None = None,
        via: str = "api",
    ) -> tuple[TokenInfo, str]:
        row, person = self.person_row(session, scope, user_id)
        refused = token_refusal(editor_of(scope), person, mint=True)
        if refused is not None:
            raise Forbidden(refused)
        clean = name.strip()
        if not clean or len(clean) > 128:
            raise Refused("name: give the token a name of at most 128 characters (what uses it)")
        act_as(session, scope, via)
        token, secret = auth.create_token(session, row, clean, days, web_session_id=web_session_id)
        return auth.token_info(token, row), secret

    def revoke_token(
        self, session: Session, scope: Scope, user_id: int, token_id: int, via: str = "api"
    ) -> TokenInfo:
        row, person = self.person_row(session, scope, user_id)
        refused = token_refusal(editor_of(scope), person, mint=False)
        if refused is not None:
            raise Forbidden(refused)
        if token_id not in {t.id for t in auth.tokens_of(session, scope.org_id, user_id)}:
            raise NotFound(f"no live API token with id {token_id} of this person")
        act_as(session, scope, via)
        revoked = auth.revoke_token(session, scope, token_id)
        # Flushed while `row` is held: the audit names the token's organisation from its person,
        # which the session's identity map only keeps while someone refers to it.
        session.flush()
        del row
        return revoked

    # -- helpers ---------------------------------------------------------------------------

    def _keys(self, session: Session, row: User, person: Person) -> tuple[list[str], str | None, str | None]:
        departments = orgs_db.department_keys(session, sorted(person.department_ids))
        place = (
            db.locations_by_id(session, [row.location_id]).get(row.location_id) if row.location_id else None
        )
        agency = orgs_db.agency_keys(session, row.org_id).get(row.agency_id) if row.agency_id else None
        return sorted(departments), place.key if place else None, agency

    def _resolve(self, session: Session, scope: Scope, valid: Values, own_id: int | None) -> Resolved:
        errors: dict[str, str] = {}
        known = {d.key: d.id for d in db.departments(session, scope.org_id)}
        missing = [k for k in valid.departments if k not in known]
        if missing:
            errors["departments"] = f"departments: no department {', '.join(missing)}"
        location: Location | None = None
        if valid.location:
            location = db.location_by_key(session, scope.org_id, valid.location)
            if location is None:
                errors["location"] = f"location: no location '{valid.location}' in this organisation"
        agency_id: int | None = None
        if valid.agency:
            agency_id = next(
                (a.id for a in db.agencies(session, scope.org_id) if a.key == valid.agency), None
            )
            if agency_id is None:
                errors["agency"] = f"agency: no agency '{valid.agency}'"
        if errors:
            raise Refused("; ".join(errors.values()), errors=field_errors(errors))
        for column in ("email", "handle"):
            value = getattr(valid, column)
            if db.taken(session, scope.org_id, column, value, own_id):
                message = f"{column}: {value} belongs to another person of this organisation"
                raise Conflict(message, errors=field_errors({column: message}))
        return Resolved(
            department_ids={known[k] for k in valid.departments},
            location_id=location.id if location else None,
            agency_id=agency_id,
        )

    def _write(self, row: User, valid: Values, resolved: Resolved) -> None:
        row.email = valid.email
        row.name = valid.name
        row.handle = valid.handle
        row.role = valid.role
        row.languages = list(valid.languages)
        row.skills = list(valid.skills)
        row.timezone = valid.timezone or "UTC"
        row.shifts = with_time_off(valid.shifts, valid.time_off)
        row.max_concurrent = valid.max_concurrent
        row.location_id = resolved.location_id
        row.agency_id = resolved.agency_id
        row.active = valid.active

    def _sync_departments(self, session: Session, row: User, wanted: set[int]) -> None:
        # Held until the flush, so the audit names each membership by the department's key.
        held = db.departments(session, row.org_id)
        current = {m.department_id: m for m in db.memberships(session, row.id)}
        for department_id in sorted(wanted - set(current)):
            session.add(UserDepartment(user_id=row.id, department_id=department_id))
        for department_id in set(current) - wanted:
            session.delete(current[department_id])
        session.flush()
        del held

    def _flush(self, session: Session) -> None:
        # The unique constraints have the last word over a race; the savepoint keeps the
        # caller's transaction usable on PostgreSQL after the refusal.
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:
            raise Conflict("someone saved a person with the same email or handle meanwhile") from None


@dataclass(frozen=True)
class Resolved:
    department_ids: set[int]
    location_id: int | None
    agency_id: int | None


people_service = PeopleService()

__all__ = ["PAGE_SIZE", "Choices", "PeopleQuery", "PeopleService", "people_service"]
