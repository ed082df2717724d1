"""The organisation tree for the people who keep it: read a level at a time, search, change a place.

Used by the settings pages (via "web"); who may do what is `location_access.py`, decided here for
every call, so a page that offers too much still changes nothing it should not. Reads are scoped
in the query (a manager limited to a region reads her subtree only). Every change goes through a
session acting for the caller, so the audit log has it in the same transaction; the places and
schedules written are the rows `config apply` writes, so `config export` gives them back.

Hours are inherited as `config apply` stores them: each place holds the schedule (and time zone)
it uses, and one equal to its parent's reads as inherited (and is left out of the export).
Changing one place changes that place; many at once is `location_bulk.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from relaydesk.audit.service import act_as
from relaydesk.auth.scopes import Scope
from relaydesk.config.schemas import BusinessHoursConfig, Key, Name, TimeZone
from relaydesk.core.errors import Forbidden, NotFound, Refused
from relaydesk.models import BusinessHours, Location, Organization
from relaydesk.orgs import location_repository as places_db
from relaydesk.orgs.location_access import KIND_RANK, LocationAction, refusal
from relaydesk.orgs.location_schemas import (
    Crumb,
    HoursRef,
    PlaceDetail,
    PlaceOut,
    PlacePage,
    ScheduleOut,
    TreeNode,
)
from relaydesk.sla.clock import parse_weekly

PAGE_SIZE = 50
OPEN_LIMIT = 20  # opened nodes one tree page shows the children of
SCHEDULE_LIMIT = 500
KEY: TypeAdapter[str] = TypeAdapter(Key)
NAME: TypeAdapter[str] = TypeAdapter(Name)
ZONE: TypeAdapter[str] = TypeAdapter(TimeZone)


def checked(adapter: TypeAdapter[str], field: str, value: str) -> str:
    try:
        return adapter.validate_python(value.strip())
    except ValidationError as exc:
        message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise Refused(f"{field}: {message}", field=field) from None


def ancestor_ids(path: str) -> list[int]:
    """The ids a materialised path names, top first, the place itself last."""
    return [int(part) for part in path.strip("/").split("/") if part.isdigit()]


def _within(scope: Scope) -> str | None:
    return scope.location_path


def inside(scope: Scope, path: str) -> bool:
    within = _within(scope)
    return within is None or path.startswith(within)


def _schedule_inside(scope: Scope, used_outside: int, policies: Sequence[str]) -> bool:
    """A schedule is the caller's to change when no place outside her part uses it and, for
    someone limited to a part, no SLA policy (those hold for the whole organisation) names it."""
    return not used_outside and (_within(scope) is None or not policies)


def require(scope: Scope, action: LocationAction, *, inside: bool = True, kind: str = "location") -> None:
    reason = refusal(scope.role, action, inside=inside, kind=kind)
    if reason is not None:
        raise Forbidden(reason)


def _views(session: Session, scope: Scope, rows: Sequence[Location]) -> list[PlaceOut]:
    """The places as the pages show them: hours own or inherited, children, the way down to them.

    One query each for the ancestors, the schedules and the child counts of the whole list.
    """
    above = places_db.nodes_by_ids(
        session, scope.org_id, {i for row in rows for i in ancestor_ids(row.path)[:-1]}
    )
    known = {**above, **{row.id: row for row in rows}}
    hours = places_db.schedules_by_ids(
        session, scope.org_id, {n.business_hours_id for n in known.values() if n.business_hours_id}
    )
    counts = places_db.child_counts(session, [row.id for row in rows])
    out = []
    for row in rows:
        chain = [known[i] for i in ancestor_ids(row.path)[:-1] if i in known]
        parent = chain[-1] if chain else None
        out.append(
            PlaceOut(
                id=row.id,
                key=row.key,
                name=row.name,
                kind=row.kind,
                timezone=row.timezone,
                timezone_inherited=parent is not None and parent.timezone == row.timezone,
                hours=_hours_of(row, chain, hours),
                children=counts.get(row.id, 0),
                path=[Crumb(key=n.key, name=n.name, kind=n.kind) for n in chain if inside(scope, n.path)],
            )
        )
    return out


def _hours_of(row: Location, chain: list[Location], hours: dict[int, BusinessHours]) -> HoursRef | None:
    parent = chain[-1] if chain else None
    own = row.business_hours_id
    if own is None:
        # Nothing stored here: the nearest place above with a schedule decides (orgs.repository).
        found = next((n.business_hours_id for n in reversed(chain) if n.business_hours_id), None)
        schedule = hours.get(found) if found else None
        return None if schedule is None else HoursRef(key=schedule.key, name=schedule.name, inherited=True)
    schedule = hours.get(own)
    if schedule is None:
        return None
    inherited = parent is not None and parent.business_hours_id == own
    return HoursRef(key=schedule.key, name=schedule.name, inherited=inherited)


def _page(total: int, page: int) -> tuple[int, int]:
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    return page, pages


def schedule_out(session: Session, scope: Scope, row: BusinessHours) -> ScheduleOut:
    used, outside = places_db.schedule_usage(session, scope.org_id, row.id, _within(scope))
    return ScheduleOut(
        key=row.key,
        name=row.name,
        weekly={day: [list(span) for span in spans] for day, spans in dict(row.weekly or {}).items()},
        holidays=[str(h) for h in row.holidays or []],
        used_by=used,
        used_outside=outside,
        policies=places_db.policies_naming(session, scope.org_id, row.key),
    )


def validated_schedule(
    key: str, name: str, weekly: dict[str, Any], holidays: Iterable[str]
) -> dict[str, Any]:
    """A schedule's values as `config apply` takes them: the same rules, the same messages."""
    try:
        spec = BusinessHoursConfig(key=key, name=name, weekly=weekly, holidays=list(holidays))
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "weekly"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise Refused(f"{field}: {message}", field=field) from None
    values = spec.model_dump(mode="json")
    try:
        parse_weekly(values["weekly"])
    except (TypeError, ValueError) as exc:
        raise Refused(f"weekly: {exc}", field="weekly") from None
    values["holidays"] = sorted(set(values["holidays"]))
    return values


class LocationService:
    """Stateless; every method runs inside the caller's transaction (the caller commits)."""

    def may(self, scope: Scope, action: LocationAction) -> bool:
        return refusal(scope.role, action) is None

    # -- reading ---------------------------------------------------------------------------------

    def _node(self, session: Session, scope: Scope, key: str) -> Location:
        row = places_db.node_by_key(session, scope.org_id, key)
        if row is None or not inside(scope, row.path):
            raise NotFound(f"no place '{key}'")
        return row

    def _top(self, session: Session, scope: Scope) -> tuple[list[Location], int]:
        within = _within(scope)
        if within is None:
            rows = places_db.children(session, scope.org_id, None, PAGE_SIZE)
            return rows, places_db.count_children(session, scope.org_id, None)
        root = places_db.node_by_path(session, scope.org_id, within)
        return ([root], 1) if root is not None else ([], 0)

    def tree(self, session: Session, scope: Scope, opened: Iterable[str]) -> tuple[list[TreeNode], int]:
        """The top level (or the caller's own subtree's top), each opened node with its first
        children, and how many top-level places there are in all."""
        require(scope, LocationAction.VIEW)
        open_keys = list(dict.fromkeys(k for k in opened if k))[:OPEN_LIMIT]
        top, total = self._top(session, scope)
        built = [TreeNode(place=place) for place in _views(session, scope, top)]
        pending = list(built)
        while pending:
            node = pending.pop(0)
            if node.place.key not in open_keys or not node.place.children:
                continue
            rows = places_db.children(session, scope.org_id, node.place.id, PAGE_SIZE)
            node.open = True
            node.children = [TreeNode(place=p) for p in _views(session, scope, rows)]
            node.more = node.place.children - len(rows)
            pending.extend(node.children)
        return built, total

    def search(self, session: Session, scope: Scope, text: str, page: int = 1) -> PlacePage:
        """Places whose name or key holds `text`, across the caller's part of the organisation."""
        require(scope, LocationAction.VIEW)
        needle = text.strip()[:200]
        if not needle:
            return PlacePage(places=[], total=0, page=1, pages=1)
        total = places_db.count_search(session, scope.org_id, _within(scope), needle)
        page, pages = _page(total, page)
        rows = places_db.search(
            session, scope.org_id, _within(scope), needle, PAGE_SIZE, (page - 1) * PAGE_SIZE
        )
        return PlacePage(places=_views(session, scope, rows), total=total, page=page, pages=pages)

    def detail(self, session: Session, scope: Scope, key: str, page: int = 1) -> PlaceDetail:
        require(scope, LocationAction.VIEW)
        row = self._node(session, scope, key)
        place = _views(session, scope, [row])[0]
        total = place.children
        page, pages = _page(total, page)
        rows = places_db.children(session, scope.org_id, row.id, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        schedule_row = None
        if place.hours is not None:
            schedule_row = places_db.schedule_by_key(session, scope.org_id, place.hours.key)
        schedule = schedule_out(session, scope, schedule_row) if schedule_row is not None else None
        parent = places_db.node_by_key(session, scope.org_id, place.path[-1].key) if place.path else None
        role = scope.role
        kinds = [k for k, rank in KIND_RANK.items() if rank >= KIND_RANK.get(row.kind, 0) and k != "brand"]
        return PlaceDetail(
            place=place,
            schedule=schedule,
            parent=Crumb(key=parent.key, name=parent.name, kind=parent.kind) if parent else None,
            children=PlacePage(places=_views(session, scope, rows), total=total, page=page, pages=pages),
            uses=places_db.uses(session, row.id),
            may_rename=refusal(role, LocationAction.RENAME, kind=row.kind) is None,
            may_hours=refusal(role, LocationAction.HOURS, kind=row.kind) is None,
            may_add=refusal(role, LocationAction.ADD, kind=row.kind) is None,
            may_delete=refusal(role, LocationAction.DELETE, kind=row.kind) is None,
            may_edit_schedule=schedule is not None
            and refusal(
                role,
                LocationAction.EDIT_SCHEDULE,
                inside=_schedule_inside(scope, schedule.used_outside, schedule.policies),
            )
            is None,
            may_new_schedule=refusal(role, LocationAction.NEW_SCHEDULE) is None,
            child_kinds=kinds,
        )

    def schedules(self, session: Session, scope: Scope) -> list[tuple[str, str]]:
        """(key, name) of the organisation's named schedules, by name."""
        require(scope, LocationAction.VIEW)
        return [(s.key, s.name) for s in places_db.schedules(session, scope.org_id, SCHEDULE_LIMIT)]

    def schedule(self, session: Session, scope: Scope, key: str) -> ScheduleOut:
        require(scope, LocationAction.VIEW)
        row = places_db.schedule_by_key(session, scope.org_id, key)
        if row is None:
            raise NotFound(f"no business hours '{key}'", field="business_hours")
        return schedule_out(session, scope, row)

    # -- changing one place ------------------------------------------------------------------------

    def rename(self, session: Session, scope: Scope, key: str, name: str, via: str = "api") -> None:
        row = self._node(session, scope, key)
        require(scope, LocationAction.RENAME, kind=row.kind)
        act_as(session, scope, via)
        row.name = checked(NAME, "name", name)

    def set_hours(
        self,
        session: Session,
        scope: Scope,
        key: str,
        *,
        timezone: str | None = None,
        schedule: str | None = None,
        via: str = "api",
    ) -> None:
        """Give one place a time zone and/or a named schedule ("" = the same as the place above)."""
        row = self._node(session, scope, key)
        require(scope, LocationAction.HOURS, kind=row.kind)
        zone = checked(ZONE, "timezone", timezone) if timezone is not None else None
        hours_id: int | None = row.business_hours_id
        if schedule is not None:
            hours_id = self._schedule_id(session, scope, row, schedule)
        act_as(session, scope, via)
        if zone is not None:
            row.timezone = zone
        row.business_hours_id = hours_id

    def _schedule_id(self, session: Session, scope: Scope, row: Location, schedule: str) -> int | None:
        if not schedule:
            parent = session.get(Location, row.parent_id) if row.parent_id else None
            return parent.business_hours_id if parent is not None else None
        found = places_db.schedule_by_key(session, scope.org_id, schedule)
        if found is None:
            raise Refused(f"business_hours: no business hours '{schedule}'", field="business_hours")
        return found.id

    def edit_schedule(
        self,
        session: Session,
        scope: Scope,
        key: str,
        name: str,
        weekly: dict[str, Any],
        holidays: Iterable[str],
        via: str = "api",
    ) -> ScheduleOut:
        """Change a named schedule for every place (and SLA policy) that uses it."""
        row = places_db.schedule_by_key(session, scope.org_id, key)
        if row is None:
            raise NotFound(f"no business hours '{key}'", field="business_hours")
        _used, outside = places_db.schedule_usage(session, scope.org_id, row.id, _within(scope))
        policies = places_db.policies_naming(session, scope.org_id, key)
        require(scope, LocationAction.EDIT_SCHEDULE, inside=_schedule_inside(scope, outside, policies))
        values = validated_schedule(key, name, weekly, holidays)
        act_as(session, scope, via)
        row.name, row.weekly, row.holidays = values["name"], values["weekly"], values["holidays"]
        session.flush()
        return schedule_out(session, scope, row)

    def new_schedule(
        self,
        session: Session,
        scope: Scope,
        place: str,
        key: str,
        name: str,
        weekly: dict[str, Any],
        holidays: Iterable[str],
        via: str = "api",
    ) -> ScheduleOut:
        """A new named schedule, used from now on by `place` (the places below keep theirs)."""
        row = self._node(session, scope, place)
        require(scope, LocationAction.NEW_SCHEDULE)
        require(scope, LocationAction.HOURS, kind=row.kind)
        values = validated_schedule(key, name, weekly, holidays)
        if places_db.schedule_by_key(session, scope.org_id, values["key"]) is not None:
            raise Refused(
                f"key: business hours '{values['key']}' exist already: choose another key", field="key"
            )
        act_as(session, scope, via)
        created = BusinessHours(org_id=scope.org_id, **values)
        session.add(created)
        session.flush()
        row.business_hours_id = created.id
        session.flush()
        return schedule_out(session, scope, created)

    def add(
        self,
        session: Session,
        scope: Scope,
        parent: str | None,
        kind: str,
        key: str,
        name: str,
        timezone: str | None = None,
        via: str = "api",
    ) -> Location:
        """A new brand (no parent), region or location, with the parent's time zone and hours
        unless given its own zone."""
        if kind not in KIND_RANK:
            raise Refused("kind: choose brand, region or location", field="kind")
        above = self._node(session, scope, parent) if parent else None
        if above is None:
            require(scope, LocationAction.ADD, inside=_within(scope) is None, kind="brand")
            if kind != "brand":
                raise Refused("kind: a place at the top of the tree is a brand", field="kind")
        else:
            require(scope, LocationAction.ADD, kind=kind)
            if kind == "brand" or KIND_RANK[kind] < KIND_RANK.get(above.kind, 0):
                raise Refused(f"kind: a {kind} cannot sit inside a {above.kind}", field="kind")
        new_key = checked(KEY, "key", key)
        new_name = checked(NAME, "name", name)
        zone = checked(ZONE, "timezone", timezone) if timezone else None
        if places_db.node_by_key(session, scope.org_id, new_key) is not None:
            raise Refused(f"key: a place with the key '{new_key}' exists already", field="key")
        act_as(session, scope, via)
        org_zone = "UTC"
        if above is None and zone is None:
            org = session.get(Organization, scope.org_id)
            org_zone = org.default_timezone if org is not None else "UTC"
        row = Location(
            org_id=scope.org_id,
            parent_id=above.id if above else None,
            kind=kind,
            key=new_key,
            name=new_name,
            timezone=zone or (above.timezone if above else org_zone),
            business_hours_id=above.business_hours_id if above else None,
        )
        session.add(row)
        session.flush()
        row.path = f"{above.path if above else '/'}{row.id}/"
        session.flush()
        return row

    def delete(self, session: Session, scope: Scope, key: str, via: str = "api") -> None:
        """Only a place nothing points at: its conversations and accounts would go with it, and
        people limited to it would suddenly see the whole organisation."""
        row = self._node(session, scope, key)
        require(scope, LocationAction.DELETE, kind=row.kind)
        if row.path == _within(scope):
            raise Forbidden("you cannot delete the place your own access is limited to")
        uses = places_db.uses(session, row.id)
        if any(uses.values()):
            said = ", ".join(f"{n} {what}" for what, n in uses.items() if n)
            raise Refused(f"'{key}' still has {said}: move or delete them first", field="delete", **uses)
        act_as(session, scope, via)
        session.delete(row)


location_service = LocationService()
