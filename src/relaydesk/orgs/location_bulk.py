"""Hours and time zone for many places at once: a whole subtree, chosen places or a search's results.

A chain's region holds hundreds of places, so the change is one UPDATE of the rows whose values
differ, not a load and flush per place. The audit log gets one entry for it (the flush listener
cannot see a statement that bypasses the unit of work): which places, how many, what they had
before (each old value with how many places had it) and what they have now. One entry per place
would push every other change of the day off the log's first pages; the entry names the first
places changed and the subtree or search, which is what a reader needs to find them again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from relaydesk.audit.service import act_as, record
from relaydesk.auth.scopes import Scope
from relaydesk.core.errors import NotFound, Refused
from relaydesk.orgs import location_repository as places_db
from relaydesk.orgs.location_access import LocationAction
from relaydesk.orgs.location_repository import Target
from relaydesk.orgs.location_schemas import BulkPreview
from relaydesk.orgs.location_service import ZONE, checked, inside, require

SAMPLE = 20  # places the confirmation and the audit entry name
MAX_CHOSEN = 500
NO_SCHEDULE = "(none)"


@dataclass(frozen=True)
class BulkTarget:
    """Exactly one of: a node's key (it and everything under it), chosen keys, a search text."""

    under: str | None = None
    keys: tuple[str, ...] = ()
    search: str | None = None


@dataclass(frozen=True)
class _Resolved:
    target: Target
    label: str


class LocationBulk:
    def _resolve(self, session: Session, scope: Scope, spec: BulkTarget) -> _Resolved:
        within = scope.location_path
        if spec.under:
            node = places_db.node_by_key(session, scope.org_id, spec.under)
            if node is None or not inside(scope, node.path):
                raise NotFound(f"no place '{spec.under}'", field="under")
            return _Resolved(Target(scope.org_id, within, under=node.path), f"{node.name} ({node.key})")
        if spec.keys:
            keys = list(dict.fromkeys(spec.keys))[:MAX_CHOSEN]
            ids = places_db.ids_by_keys(session, scope.org_id, within, keys)
            return _Resolved(Target(scope.org_id, within, ids=tuple(ids)), "")
        if spec.search and spec.search.strip():
            text = spec.search.strip()[:200]
            return _Resolved(Target(scope.org_id, within, search=text), f"“{text}”")
        raise Refused("target: choose places first", field="target")

    def _values(
        self, session: Session, scope: Scope, schedule: str | None, timezone: str | None
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """The columns to set and, for people, what they are set to."""
        values: dict[str, Any] = {}
        said: dict[str, str] = {}
        if schedule:
            found = places_db.schedule_by_key(session, scope.org_id, schedule)
            if found is None:
                raise Refused(f"business_hours: no business hours '{schedule}'", field="business_hours")
            values["business_hours_id"] = found.id
            said["business_hours"] = found.name
        if timezone:
            values["timezone"] = checked(ZONE, "timezone", timezone)
            said["timezone"] = values["timezone"]
        if not values:
            raise Refused(
                "business_hours: choose business hours or a time zone to apply", field="business_hours"
            )
        return values, said

    def preview(
        self, session: Session, scope: Scope, spec: BulkTarget, schedule: str | None, timezone: str | None
    ) -> BulkPreview:
        """What `apply` would change, changing nothing."""
        require(scope, LocationAction.HOURS)
        resolved = self._resolve(session, scope, spec)
        values, said = self._values(session, scope, schedule, timezone)
        before = self._before(session, scope, resolved.target, values)
        changing = places_db.changing_keys(session, resolved.target, values, SAMPLE)
        count = sum(before[next(iter(before))].values()) if before else 0
        matched = places_db.count_target(session, resolved.target)
        return BulkPreview(
            target_label=resolved.label,
            matched=matched,
            changing=count,
            before=before,
            after=said,
            sample=changing,
        )

    def _before(
        self, session: Session, scope: Scope, target: Target, values: dict[str, Any]
    ) -> dict[str, dict[str, int]]:
        groups = places_db.changing(session, target, values)
        names = {
            s.id: s.name
            for s in places_db.schedules_by_ids(
                session, scope.org_id, {old[0] for old in groups if "business_hours_id" in values and old[0]}
            ).values()
        }
        before: dict[str, Counter[str]] = {}
        for old, count in groups.items():
            for field, value in zip(values, old, strict=True):
                shown = names.get(value, NO_SCHEDULE) if field == "business_hours_id" else str(value)
                name = "business_hours" if field == "business_hours_id" else field
                before.setdefault(name, Counter())[shown] += count
        return {field: dict(counter.most_common()) for field, counter in before.items()}

    def apply(
        self,
        session: Session,
        scope: Scope,
        spec: BulkTarget,
        schedule: str | None,
        timezone: str | None,
        via: str = "api",
    ) -> int:
        """Change every target place that differs, in one statement; how many changed."""
        preview = self.preview(session, scope, spec, schedule, timezone)
        if not preview.changing:
            return 0
        resolved = self._resolve(session, scope, spec)
        values, _said = self._values(session, scope, schedule, timezone)
        act_as(session, scope, via)
        changed = places_db.update_target(session, resolved.target, values)
        places_db.stamp_configuration(session, scope.org_id)
        more = changed - len(preview.sample)
        places = ", ".join(preview.sample) + (f" … (+{more})" if more > 0 else "")
        before = {
            field: " · ".join(f"{value} ×{n}" for value, n in counts.items())
            for field, counts in preview.before.items()
        }
        record(
            session,
            scope.org_id,
            kind="location",
            key=f"{preview.target_label}: {changed} places"
            if preview.target_label
            else f"{changed} chosen places",
            action="updated",
            before={**before, "places": places},
            after={**preview.after, "places": places},
        )
        return changed


location_bulk = LocationBulk()
