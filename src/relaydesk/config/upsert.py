"""The upsert engine every section's apply uses: compare before writing, count what changed.

A row is written only where a value differs, so applying the same file twice changes nothing and
the summary of the second apply is all zeros.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from relaydesk.auth.crypto import SecretBox
from relaydesk.config import repository
from relaydesk.config.problems import ConfigApplyError
from relaydesk.config.schemas import OrgConfig
from relaydesk.models import Organization

KINDS = (
    "organization",
    "business_hours",
    "locations",
    "agencies",
    "departments",
    "agents",
    "accounts",
    "intents",
    "routing_rules",
    "sla_policies",
    "guidelines",
    "faq",
    "canned_responses",
    "listening",
    "notification_destinations",
)


def _zeros() -> dict[str, int]:
    return dict.fromkeys(KINDS, 0)


@dataclass
class ApplySummary:
    created: dict[str, int] = field(default_factory=_zeros)
    updated: dict[str, int] = field(default_factory=_zeros)
    deleted: dict[str, int] = field(default_factory=_zeros)
    # People and accounts are never deleted (their history stays); they are switched off.
    deactivated: dict[str, int] = field(default_factory=_zeros)
    warnings: list[str] = field(default_factory=list)
    org_id: int | None = None

    @property
    def changed(self) -> bool:
        return any(
            count
            for bucket in (self.created, self.updated, self.deleted, self.deactivated)
            for count in bucket.values()
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": dict(self.created),
            "updated": dict(self.updated),
            "deleted": dict(self.deleted),
            "deactivated": dict(self.deactivated),
            "warnings": list(self.warnings),
        }


def assign(obj: Any, values: Mapping[str, Any]) -> bool:
    """Set only what differs, so an unchanged row is not even marked dirty."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def ref(known: Mapping[str, Any], key: str, what: str) -> Any:
    # The loader reports unknown references with their line; this guards configs built in code.
    try:
        return known[key]
    except KeyError:
        raise ConfigApplyError(f"unknown {what} {key!r}") from None


class Upserter:
    """One apply in progress: the session it writes through and what it has touched so far."""

    def __init__(self, session: Session, config: OrgConfig, box: SecretBox, env: Mapping[str, str]) -> None:
        self.session = session
        self.config = config
        self.box = box
        self.env = env
        self.summary = ApplySummary()
        self.org: Organization
        # Rows touched, by kind and id(row): a row changed twice (a location's parent, then its
        # path) or created and then changed (a new agent's memberships) still counts once. The
        # rows are held here so no id() is reused while the apply runs.
        self.created: dict[str, dict[int, Any]] = {kind: {} for kind in KINDS}
        self.updated: dict[str, dict[int, Any]] = {kind: {} for kind in KINDS}

    def count(self, bucket: dict[str, int], kind: str, n: int = 1) -> None:
        bucket[kind] = bucket.get(kind, 0) + n

    def mark(self, kind: str, obj: Any, *, created: bool = False) -> None:
        (self.created if created else self.updated)[kind][id(obj)] = obj

    def upsert(self, kind: str, existing: Any | None, model: type[Any], values: Mapping[str, Any]) -> Any:
        if existing is None:
            obj = model(org_id=self.org.id, **values)
            self.session.add(obj)
            self.mark(kind, obj, created=True)
            return obj
        if assign(existing, values):
            self.mark(kind, existing)
        return existing

    def rows(self, model: Any, key: str) -> dict[Any, Any]:
        return repository.keyed_rows(self.session, model, self.org.id, key)

    def remove(self, kind: str, row: Any) -> None:
        repository.remove(self.session, row)
        self.count(self.summary.deleted, kind)

    def mentions(self, section: str) -> bool:
        """Whether the file has this section (an empty list counts: it says "none")."""
        return section in self.config.model_fields_set

    def sync_simple(self, kind: str, model: Any, key: str, desired: list[dict[str, Any]]) -> dict[Any, Any]:
        """Upsert rows of a table that nothing else depends on; delete those the file dropped.

        A file without the section at all leaves the table as it is: what was made in the browser
        or through the API is not undone by an apply that does not mention it.
        """
        existing = self.rows(model, key)
        if not self.mentions(kind):
            return existing
        kept: dict[Any, Any] = {}
        for values in desired:
            kept[values[key]] = self.upsert(kind, existing.pop(values[key], None), model, values)
        for row in existing.values():
            self.remove(kind, row)
        return kept

    def finish(self) -> ApplySummary:
        self.session.flush()
        for kind in KINDS:
            self.summary.created[kind] = len(self.created[kind])
            self.summary.updated[kind] = len(self.updated[kind].keys() - self.created[kind].keys())
        self.summary.org_id = self.org.id
        return self.summary
