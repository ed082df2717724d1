"""`locations:`: the brand / region / location tree, each node inheriting time zone and hours."""

from __future__ import annotations

from typing import Any

from relaydesk.config import repository
from relaydesk.config.check import Checker, unknown
from relaydesk.config.problems import Path_
from relaydesk.config.schemas import LocatedNode, LocationNode, OrganizationConfig, walk_location_tree
from relaydesk.config.source import format_path
from relaydesk.config.upsert import Upserter, ref
from relaydesk.models import BusinessHours, ChannelAccount, Conversation, Location, User

KIND_RANK = {"brand": 0, "region": 1, "location": 2}


def check(c: Checker, roots: list[tuple[int, LocationNode]], known_hours: set[str]) -> None:
    first: dict[str, Path_] = {}
    for located in _renumbered(roots):
        node, path = located.node, located.path
        if node.key in first:
            c.problem(
                (*path, "key"),
                f"duplicate location key {node.key!r} (first at {format_path(first[node.key])})",
            )
        else:
            first[node.key] = path
        if node.business_hours is not None and node.business_hours not in known_hours:
            c.problem((*path, "business_hours"), unknown("business hours", node.business_hours, known_hours))
        parent = located.parent
        if parent is not None and KIND_RANK[node.kind] < KIND_RANK[parent.kind]:
            c.problem((*path, "kind"), f"a {node.kind} cannot sit inside a {parent.kind} ({parent.key!r})")


def check_declared(c: Checker, organization: OrganizationConfig | None) -> None:
    if organization is not None and not c.raw.get("locations"):
        c.warn(("locations",), "no locations declared: accounts need a location to belong to")


def _renumbered(roots: list[tuple[int, LocationNode]]) -> list[LocatedNode]:
    # Invalid roots were dropped, so number each valid root by its index in the file.
    out: list[LocatedNode] = []
    for index, root in roots:
        for located in walk_location_tree([root]):
            path = ("locations", index, *located.path[2:])
            out.append(LocatedNode(located.node, located.parent, path, located.depth))
    return out


def apply(u: Upserter, hours: dict[str, BusinessHours]) -> dict[str, Location]:
    existing = u.rows(Location, "key")
    if not u.mentions("locations"):
        return existing
    by_key: dict[str, Location] = {}
    zone: dict[str, str] = {}
    hours_key: dict[str, str | None] = {}
    levels: dict[int, list[tuple[LocationNode, LocationNode | None]]] = {}
    for located in walk_location_tree(u.config.locations):
        levels.setdefault(located.depth, []).append((located.node, located.parent))
    # One flush per level of the tree gives every parent an id before its children need it.
    for depth in sorted(levels):
        for node, parent in levels[depth]:
            inherited_zone = zone[parent.key] if parent else u.config.organization.timezone
            inherited_hours = hours_key[parent.key] if parent else None
            zone[node.key] = node.timezone or inherited_zone
            hours_key[node.key] = node.business_hours or inherited_hours
            bh = hours_key[node.key]
            values = {
                "key": node.key,
                "kind": node.kind,
                "name": node.name,
                "parent_id": by_key[parent.key].id if parent else None,
                "timezone": zone[node.key],
                "business_hours_id": ref(hours, bh, "business hours").id if bh else None,
            }
            by_key[node.key] = u.upsert("locations", existing.pop(node.key, None), Location, values)
        u.session.flush()
    _remove(u, list(existing.values()))
    _recompute_paths(u)
    return by_key


def _remove(u: Upserter, removed: list[Location]) -> None:
    if not removed:
        return
    ids = {row.id for row in removed}
    used = repository.used_ids(u.session, Conversation.location_id, ids)
    used |= repository.used_ids(u.session, ChannelAccount.location_id, ids)
    used |= repository.used_ids(u.session, User.location_id, ids)
    # Deleting a location cascades to its accounts and conversations, and would widen the
    # view of anyone scoped to it: keep it (and its ancestors) while anything points at it.
    parents = {row.id: row.parent_id for row in repository.org_rows(u.session, Location, u.org.id)}
    keep: set[int] = set()
    for location_id in used:
        current: int | None = location_id
        while current is not None and current not in keep:
            keep.add(current)
            current = parents.get(current)
    for row in sorted(removed, key=lambda r: -len(r.path or "")):
        if row.id in keep:
            u.summary.warnings.append(
                f"location {row.key!r} is no longer in the file but is still in use: kept"
            )
            continue
        u.remove("locations", row)
    u.session.flush()


def _recompute_paths(u: Upserter) -> None:
    rows = {row.id: row for row in repository.org_rows(u.session, Location, u.org.id)}
    paths: dict[int, str] = {}

    def path_of(location_id: int, seen: frozenset[int] = frozenset()) -> str:
        if location_id in paths:
            return paths[location_id]
        row = rows[location_id]
        parent = row.parent_id
        if parent is None or parent not in rows or parent in seen:
            paths[location_id] = f"/{location_id}/"
        else:
            paths[location_id] = f"{path_of(parent, seen | {location_id})}{location_id}/"
        return paths[location_id]

    for location_id, row in rows.items():
        path = path_of(location_id)
        if row.path != path:
            row.path = path
            u.mark("locations", row)
    u.session.flush()


def in_tree_order(locations: list[Location]) -> list[Location]:
    # Shallower first (a parent before its children), siblings in the order they were created.
    return sorted(locations, key=lambda loc: ((loc.path or "/").count("/"), loc.id))


def export(locations: list[Location], hours_key: dict[int, str], org_zone: str) -> list[dict[str, Any]]:
    """Nested nodes; a time zone or business hours equal to the parent's is left to inheritance."""
    nodes: dict[int, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    by_id = {loc.id: loc for loc in locations}
    for loc in locations:
        parent = by_id.get(loc.parent_id) if loc.parent_id else None
        inherited_zone = parent.timezone if parent else org_zone
        inherited_hours = parent.business_hours_id if parent else None
        node: dict[str, Any] = {"key": loc.key, "kind": loc.kind, "name": loc.name}
        if loc.timezone != inherited_zone:
            node["timezone"] = loc.timezone
        if loc.business_hours_id != inherited_hours and loc.business_hours_id in hours_key:
            node["business_hours"] = hours_key[loc.business_hours_id]
        nodes[loc.id] = node
        if parent is not None and parent.id in nodes:
            nodes[parent.id].setdefault("children", []).append(node)
        else:
            roots.append(node)
    return roots
