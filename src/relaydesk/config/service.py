"""Apply a validated `OrgConfig` to the database, and export the database back to the same shape.

`apply_config` is an idempotent upsert by natural keys: applying the same file twice changes
nothing, because every value is compared before it is written. What the file no longer lists is
deleted when nothing depends on it (intents, rules, policies, guidelines, FAQ, business hours,
agencies), deactivated when it has history (agents, accounts), and kept with a warning when
conversations still point at it (departments, locations). It works in the caller's session and
never commits: the caller decides, so a failed apply leaves nothing half-written.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from relaydesk.auth.crypto import SecretBox, hash_password
from relaydesk.channels.registry import identity_label
from relaydesk.config.schemas import REDACTED, LocationNode, OrgConfig, env_references, walk_location_tree
from relaydesk.models import (
    Agency,
    BusinessHours,
    ChannelAccount,
    Conversation,
    Department,
    FaqEntry,
    Guideline,
    Intent,
    Location,
    Organization,
    RoutingRule,
    SlaPolicy,
    User,
    UserDepartment,
)
from relaydesk.models.orgs import NETWORK_IDENTITY_CONSTRAINT
from relaydesk.orgs.shifts import split_time_off, with_time_off

# Account settings RelayDesk writes itself (the pollers' cursors): not configuration, so an
# apply keeps them and an export leaves them out; a file that names one (e.g. `poll_cursor:
# null` to read a mailbox again) still wins.
RUNTIME_SETTINGS = frozenset({"poll_cursor"})

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
)


class ConfigApplyError(ValueError):
    """The config cannot be applied as it stands (e.g. an environment variable went missing)."""


class IdentityTaken(ConfigApplyError):
    """An account claims a network identity (page id, bot id...) another organisation holds.

    Webhooks are routed by that identity, so a second holder would take the first one's traffic.
    The message names the identity, never the organisation holding it.
    """


class UnknownOrganization(LookupError):
    pass


Identity = tuple[str, str]  # (network, external_id)

# How many conflicts one error message lists before it says "and N more".
LISTED_CONFLICTS = 5


def _taken_message(key: str, identity: Identity) -> str:
    return f"accounts.{key}.external_id: {identity_label(*identity)} is already connected to another organisation"


# Said once after the conflicts: what the rule is and how to get past it.
TAKEN_HINT = (
    " (a network identity belongs to one account of the installation; "
    "the account holding it must be disconnected first)"
)


def _is_identity_clash(exc: IntegrityError) -> bool:
    """Whether the database refused a second holder of a network identity (not another constraint)."""
    # PostgreSQL names the constraint; SQLite names its columns.
    diag = getattr(exc.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    if constraint:
        return str(constraint) == NETWORK_IDENTITY_CONSTRAINT
    return "channel_accounts.network, channel_accounts.external_id" in str(exc.orig)


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


def _assign(obj: Any, values: Mapping[str, Any]) -> bool:
    """Set only what differs, so an unchanged row is not even marked dirty."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def resolve_credentials(
    credentials: Mapping[str, str], env: Mapping[str, str], where: str = "credentials"
) -> dict[str, str]:
    """`${NAME}` replaced from `env`; a missing variable is an error, never an empty secret."""
    resolved: dict[str, str] = {}
    for name, value in credentials.items():
        text = value
        for variable in env_references(value):
            if variable not in env:
                raise ConfigApplyError(f"{where}.{name}: environment variable {variable} is not set")
            text = text.replace("${" + variable + "}", env[variable])
        resolved[name] = text
    return resolved


class _Applier:
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
        if _assign(existing, values):
            self.mark(kind, existing)
        return existing

    def rows(self, model: Any, key: str) -> dict[Any, Any]:
        return {
            getattr(row, key): row
            for row in self.session.scalars(select(model).where(model.org_id == self.org.id))
        }

    def sync_simple(self, kind: str, model: Any, key: str, desired: list[dict[str, Any]]) -> dict[Any, Any]:
        """Upsert rows of a table that nothing else depends on; delete those the file dropped."""
        existing = self.rows(model, key)
        kept: dict[Any, Any] = {}
        for values in desired:
            kept[values[key]] = self.upsert(kind, existing.pop(values[key], None), model, values)
        for row in existing.values():
            self.session.delete(row)
            self.count(self.summary.deleted, kind)
        return kept

    # ----- sections

    def run(self) -> ApplySummary:
        # Every secret is resolved before the first write: a missing variable aborts cleanly.
        credentials = {
            account.key: (
                account.credentials
                if isinstance(account.credentials, str)
                else resolve_credentials(account.credentials, self.env, f"accounts.{account.key}.credentials")
            )
            for account in self.config.accounts
        }
        self.apply_organization()
        hours = self.apply_business_hours()
        agencies = self.apply_agencies()
        locations = self.apply_locations(hours)
        departments = self.apply_departments(agencies)
        self.apply_agents(departments, agencies, locations)
        self.apply_accounts(locations, credentials)
        self.apply_config_tables()
        self.delete_leftover_business_hours(hours)
        self.session.flush()
        for kind in KINDS:
            self.summary.created[kind] = len(self.created[kind])
            self.summary.updated[kind] = len(self.updated[kind].keys() - self.created[kind].keys())
        self.summary.org_id = self.org.id
        return self.summary

    def apply_organization(self) -> None:
        spec = self.config.organization
        values = {
            "name": spec.name,
            "default_timezone": spec.timezone,
            "reopen_window_hours": spec.reopen_window_hours,
            "stage_departments": dict(spec.stage_departments) or None,
        }
        org = self.session.scalars(select(Organization).where(Organization.key == spec.key)).one_or_none()
        if org is None:
            org = Organization(key=spec.key, **values)
            self.session.add(org)
            self.session.flush()
            self.mark("organization", org, created=True)
        elif _assign(org, values):
            self.mark("organization", org)
        self.org = org

    def apply_business_hours(self) -> dict[str, BusinessHours]:
        existing = self.rows(BusinessHours, "key")
        kept: dict[str, BusinessHours] = {}
        for spec in self.config.business_hours:
            values = spec.model_dump(mode="json")
            kept[spec.key] = self.upsert("business_hours", existing.get(spec.key), BusinessHours, values)
        self.session.flush()
        return kept

    def delete_leftover_business_hours(self, kept: dict[str, BusinessHours]) -> None:
        # Last, once no location declared in the file points at them any more.
        for key, row in self.rows(BusinessHours, "key").items():
            if key not in kept:
                self.session.delete(row)
                self.count(self.summary.deleted, "business_hours")

    def apply_agencies(self) -> dict[str, Agency]:
        desired = [
            {"key": a.key, "name": a.name, "contract": a.contract.model_dump(mode="json")}
            for a in self.config.agencies
        ]
        kept = self.sync_simple("agencies", Agency, "key", desired)
        self.session.flush()
        return kept

    def apply_locations(self, hours: dict[str, BusinessHours]) -> dict[str, Location]:
        existing = self.rows(Location, "key")
        by_key: dict[str, Location] = {}
        zone: dict[str, str] = {}
        hours_key: dict[str, str | None] = {}
        levels: dict[int, list[tuple[LocationNode, LocationNode | None]]] = {}
        for located in walk_location_tree(self.config.locations):
            levels.setdefault(located.depth, []).append((located.node, located.parent))
        # One flush per level of the tree gives every parent an id before its children need it.
        for depth in sorted(levels):
            for node, parent in levels[depth]:
                inherited_zone = zone[parent.key] if parent else self.config.organization.timezone
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
                    "business_hours_id": _ref(hours, bh, "business hours").id if bh else None,
                }
                by_key[node.key] = self.upsert("locations", existing.pop(node.key, None), Location, values)
            self.session.flush()
        self.remove_locations(list(existing.values()))
        self.recompute_paths()
        return by_key

    def remove_locations(self, removed: list[Location]) -> None:
        if not removed:
            return
        ids = {row.id for row in removed}
        used = self.used_ids(Conversation.location_id, ids)
        used |= self.used_ids(ChannelAccount.location_id, ids)
        used |= self.used_ids(User.location_id, ids)
        # Deleting a location cascades to its accounts and conversations, and would widen the
        # view of anyone scoped to it: keep it (and its ancestors) while anything points at it.
        parents = {
            row.id: row.parent_id
            for row in self.session.scalars(select(Location).where(Location.org_id == self.org.id))
        }
        keep: set[int] = set()
        for location_id in used:
            current: int | None = location_id
            while current is not None and current not in keep:
                keep.add(current)
                current = parents.get(current)
        for row in sorted(removed, key=lambda r: -len(r.path or "")):
            if row.id in keep:
                self.summary.warnings.append(
                    f"location {row.key!r} is no longer in the file but is still in use: kept"
                )
                continue
            self.session.delete(row)
            self.count(self.summary.deleted, "locations")
        self.session.flush()

    def recompute_paths(self) -> None:
        rows = {
            row.id: row
            for row in self.session.scalars(select(Location).where(Location.org_id == self.org.id))
        }
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
                self.mark("locations", row)
        self.session.flush()

    def used_ids(self, column: Any, ids: Iterable[int]) -> set[int]:
        wanted = list(ids)
        if not wanted:
            return set()
        found = self.session.scalars(select(column).where(column.in_(wanted)).distinct())
        return {value for value in found if value is not None}

    def apply_departments(self, agencies: dict[str, Agency]) -> dict[str, Department]:
        default = self.config.default_department()
        existing = self.rows(Department, "key")
        kept: dict[str, Department] = {}
        for spec in self.config.departments:
            values = {
                "key": spec.key,
                "name": spec.name,
                "is_default": default is not None and spec.key == default.key,
                "assignment": spec.assignment,
                "agency_id": _ref(agencies, spec.agency, "agency").id if spec.agency else None,
            }
            kept[spec.key] = self.upsert("departments", existing.pop(spec.key, None), Department, values)
        self.session.flush()
        used = self.used_ids(Conversation.department_id, (row.id for row in existing.values()))
        for row in existing.values():
            if row.id in used:
                self.summary.warnings.append(
                    f"department {row.key!r} is no longer in the file but conversations use it: kept"
                )
                if _assign(row, {"is_default": False}):
                    self.mark("departments", row)
                continue
            self.session.delete(row)
            self.count(self.summary.deleted, "departments")
        self.session.flush()
        return kept

    def apply_agents(
        self, departments: dict[str, Department], agencies: dict[str, Agency], locations: dict[str, Location]
    ) -> None:
        users = list(self.session.scalars(select(User).where(User.org_id == self.org.id)))
        by_email = {user.email.lower(): user for user in users}
        wanted_handles = {agent.handle: agent.email for agent in self.config.agents}
        self.free_handles(users, wanted_handles)
        in_file: dict[str, User] = {}
        for agent in self.config.agents:
            values = {
                "email": agent.email,
                "handle": agent.handle,
                "name": agent.name,
                "role": agent.role.value,
                "languages": list(agent.languages),
                "skills": list(agent.skills),
                "timezone": agent.timezone or self.config.organization.timezone,
                "shifts": with_time_off(
                    [shift.model_dump(mode="json") for shift in agent.shifts],
                    [day.isoformat() for day in agent.time_off],
                ),
                "max_concurrent": agent.max_concurrent,
                "agency_id": _ref(agencies, agent.agency, "agency").id if agent.agency else None,
                "location_id": _ref(locations, agent.location, "location").id if agent.location else None,
                "active": agent.active,
            }
            user = self.upsert("agents", by_email.pop(agent.email, None), User, values)
            if user.password_hash is None:
                password = self.initial_password(agent)
                if password:
                    user.password_hash = hash_password(password)
                    self.mark("agents", user)
            in_file[agent.email] = user
        self.session.flush()
        self.sync_memberships(in_file, departments)
        for user in by_email.values():
            if user.active:
                user.active = False
                self.count(self.summary.deactivated, "agents")
        self.session.flush()

    def initial_password(self, agent: Any) -> str | None:
        if agent.password is not None:
            return str(agent.password.get_secret_value())
        if agent.password_env:
            value = self.env.get(agent.password_env)
            if value:
                return str(value)
            self.summary.warnings.append(
                f"agent {agent.email}: {agent.password_env} is not set; created without a password"
            )
        return None

    def free_handles(self, users: list[User], wanted: dict[str, str]) -> None:
        """Move a handle out of the way when the file gives it to someone else (a swap, or a new
        agent taking the handle of a removed one): handles are unique per organisation."""
        moved = False
        for user in users:
            owner = wanted.get(user.handle)
            if owner is not None and owner != user.email.lower():
                user.handle = f"{user.handle}~{user.id}"[:64]
                moved = True
                if user.email.lower() not in {email for email in wanted.values()}:
                    self.summary.warnings.append(
                        f"handle of removed agent {user.email} renamed to {user.handle!r}: the file reuses it"
                    )
        if moved:
            self.session.flush()

    def sync_memberships(self, users: dict[str, User], departments: dict[str, Department]) -> None:
        ids = [user.id for user in users.values()]
        current: dict[int, set[int]] = {}
        rows: Iterable[UserDepartment] = (
            self.session.scalars(select(UserDepartment).where(UserDepartment.user_id.in_(ids))) if ids else []
        )
        by_pair: dict[tuple[int, int], UserDepartment] = {}
        for row in rows:
            current.setdefault(row.user_id, set()).add(row.department_id)
            by_pair[(row.user_id, row.department_id)] = row
        for agent in self.config.agents:
            user = users[agent.email]
            want = {_ref(departments, key, "department").id for key in agent.departments}
            have = current.get(user.id, set())
            for department_id in want - have:
                self.session.add(UserDepartment(user_id=user.id, department_id=department_id))
            for department_id in have - want:
                self.session.delete(by_pair[(user.id, department_id)])
            if want != have:
                self.mark("agents", user)

    def identity_claims(self) -> dict[Identity, str]:
        """The network identities the file gives its accounts, each to one account key."""
        claims: dict[Identity, str] = {}
        for spec in self.config.accounts:
            if spec.external_id is None:
                continue
            identity = (spec.network.value, spec.external_id)
            if identity in claims:
                # The loader reports this with its line; this guards configs built in code.
                raise ConfigApplyError(
                    f"accounts.{spec.key}.external_id: {identity_label(*identity)} is also given to "
                    f"account {claims[identity]!r}"
                )
            claims[identity] = spec.key
        return claims

    def refuse_foreign_claims(self, claims: Mapping[Identity, str]) -> None:
        """Refuse identities another organisation's account holds (active or not), before writing.

        The unique constraint refuses them anyway; this names every conflict in words. It does
        not say which organisation holds them: that is not the caller's to know.
        """
        by_network: dict[str, list[str]] = {}
        for network, external_id in claims:
            by_network.setdefault(network, []).append(external_id)
        if not by_network:
            return
        taken = sorted(
            (str(network), str(external_id))
            for network, external_id in self.session.execute(
                select(ChannelAccount.network, ChannelAccount.external_id).where(
                    ChannelAccount.org_id != self.org.id,
                    or_(
                        *(
                            and_(ChannelAccount.network == network, ChannelAccount.external_id.in_(ids))
                            for network, ids in sorted(by_network.items())
                        )
                    ),
                )
            )
        )
        if not taken:
            return
        listed = [_taken_message(claims[identity], identity) for identity in taken[:LISTED_CONFLICTS]]
        more = f" (and {len(taken) - LISTED_CONFLICTS} more)" if len(taken) > LISTED_CONFLICTS else ""
        raise IdentityTaken("; ".join(listed) + more + TAKEN_HINT)

    def release_moved_identities(
        self, existing: Mapping[str, ChannelAccount], claims: Mapping[Identity, str]
    ) -> None:
        """Free the identities this organisation moves or changes, before anything claims them.

        One identity has one holder at every moment, so an identity moved from one account key to
        another (or two accounts swapping theirs) is first taken off its old holder. An account
        the file no longer lists keeps its identity (it is only deactivated) unless another
        account of the file claims it.
        """
        wanted = {
            spec.key: (spec.network.value, spec.external_id) if spec.external_id is not None else None
            for spec in self.config.accounts
        }
        released = False
        for row in existing.values():
            if row.external_id is None:
                continue
            identity = (row.network, row.external_id)
            if row.key in wanted:
                release = wanted[row.key] != identity
            else:
                release = identity in claims
                if release:
                    self.summary.warnings.append(
                        f"account {row.key!r} is no longer in the file: its {identity_label(*identity)} "
                        f"moved to account {claims[identity]!r}"
                    )
                    self.mark("accounts", row)
            if release:
                row.external_id = None
                released = True
        if released:
            self.session.flush()

    def apply_accounts(self, locations: dict[str, Location], credentials: dict[str, Any]) -> None:
        existing = self.rows(ChannelAccount, "key")
        claims = self.identity_claims()
        self.refuse_foreign_claims(claims)
        self.release_moved_identities(existing, claims)
        # A concurrent apply of another organisation may commit an identity between the check
        # above and our write: the unique index, which cannot race, refuses ours. The savepoint
        # keeps the transaction usable so the check can run again and name what was taken.
        try:
            with self.session.begin_nested():
                self.write_accounts(locations, credentials, existing)
        except IntegrityError as exc:
            if not _is_identity_clash(exc):
                raise
            with self.session.no_autoflush:
                self.refuse_foreign_claims(claims)
            raise IdentityTaken(
                "a network identity of this file was connected to another account meanwhile; "
                "apply again to see which" + TAKEN_HINT
            ) from exc

    def write_accounts(
        self, locations: dict[str, Location], credentials: dict[str, Any], existing: dict[str, ChannelAccount]
    ) -> None:
        fallback = next(iter(locations.values()), None)
        for spec in self.config.accounts:
            location = _ref(locations, spec.location, "location") if spec.location else fallback
            if location is None:
                raise ConfigApplyError(f"accounts.{spec.key}: no location to attach the account to")
            values = {
                "key": spec.key,
                "network": spec.network.value,
                "handle": spec.handle,
                "external_id": spec.external_id,
                "name": spec.name,
                "location_id": location.id,
                "settings": dict(spec.settings),
                "active": spec.active,
            }
            row = existing.pop(spec.key, None)
            if row is not None:
                # State RelayDesk keeps for itself survives an apply unless the file names it.
                kept = {k: v for k, v in (row.settings or {}).items() if k in RUNTIME_SETTINGS}
                values["settings"] = {**kept, **dict(spec.settings)}
            sealed = self.sealed_credentials(row, credentials[spec.key])
            if sealed is not _KEEP:
                values["credentials_encrypted"] = sealed
            self.upsert("accounts", row, ChannelAccount, values)
        for row in existing.values():
            if row.active:
                row.active = False
                self.count(self.summary.deactivated, "accounts")
        self.session.flush()

    def sealed_credentials(self, row: ChannelAccount | None, wanted: Any) -> Any:
        """The encrypted value to store, or _KEEP when what is stored already says the same."""
        if wanted == REDACTED:
            return _KEEP
        stored = self.box.open(row.credentials_encrypted) if row is not None else {}
        # A single "***" value (from a redacted export) keeps that stored secret.
        merged = {
            name: stored[name] if value == REDACTED else value
            for name, value in wanted.items()
            if value != REDACTED or name in stored
        }
        if row is not None and merged == stored:
            return _KEEP
        return self.box.seal(merged) if merged else None

    def apply_config_tables(self) -> None:
        config = self.config
        self.sync_simple(
            "intents",
            Intent,
            "name",
            [
                {"name": i.name, "department_key": i.department, "examples": list(i.examples)}
                for i in config.intents
            ],
        )
        self.sync_simple(
            "routing_rules",
            RoutingRule,
            "name",
            [
                {
                    "name": rule.name,
                    "position": position,
                    "enabled": rule.enabled,
                    "conditions": dict(rule.when),
                    "actions": dict(rule.then),
                    "stop": rule.stop,
                }
                for position, rule in enumerate(config.routing_rules)
            ],
        )
        self.sync_simple(
            "sla_policies",
            SlaPolicy,
            "name",
            [
                {
                    "name": p.name,
                    "department_key": p.department,
                    "priority": p.priority.value if p.priority else None,
                    "channel": p.channel.value if p.channel else None,
                    "first_response_minutes": p.first_response_minutes,
                    "next_response_minutes": p.next_response_minutes,
                    "resolution_minutes": p.resolution_minutes,
                    "business_hours_key": p.business_hours,
                    "around_the_clock": p.around_the_clock,
                    "warn_before_minutes": p.warn_before_minutes,
                }
                for p in config.sla_policies
            ],
        )
        self.sync_simple(
            "guidelines",
            Guideline,
            "name",
            [
                {"name": g.name, "kind": g.kind, "params": dict(g.params), "message": g.message}
                for g in config.guidelines
            ],
        )
        self.sync_simple("faq", FaqEntry, "key", [f.model_dump(mode="json") for f in config.faq])


_KEEP = object()


def _ref(known: Mapping[str, Any], key: str, what: str) -> Any:
    # The loader reports unknown references with their line; this guards configs built in code.
    try:
        return known[key]
    except KeyError:
        raise ConfigApplyError(f"unknown {what} {key!r}") from None


def apply_config(
    session: Session, config: OrgConfig, box: SecretBox, *, env: Mapping[str, str] | None = None
) -> ApplySummary:
    """Make the database say what `config` says; the caller commits (or rolls back on error).

    `env` (default: os.environ) resolves `${NAME}` in credentials and `password_env`.
    Raises ConfigApplyError when a referenced environment variable is missing.
    """
    return _Applier(session, config, box, env if env is not None else os.environ).run()


# --------------------------------------------------------------------------- export


def _compact(values: dict[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Leave out what equals the format's default, so the export reads like a hand-written file."""
    return {name: value for name, value in values.items() if name not in defaults or defaults[name] != value}


def export_config(session: Session, org_key: str, *, box: SecretBox | None = None) -> dict[str, Any]:
    """The organisation in the shape of `relaydesk.yaml`, secrets redacted.

    Credentials come out as "***": without `box` the whole mapping is "***", with it every
    secret's name is listed with the value "***". Either form applied back keeps the stored
    secrets. Passwords are never exported. Removed agents and accounts appear with `active: false`.
    """
    org = session.scalars(select(Organization).where(Organization.key == org_key)).one_or_none()
    if org is None:
        raise UnknownOrganization(f"no organization with key {org_key!r}")

    def rows(model: Any, *order: Any) -> list[Any]:
        return list(session.scalars(select(model).where(model.org_id == org.id).order_by(*order)))

    hours = rows(BusinessHours, BusinessHours.key)
    hours_key = {h.id: h.key for h in hours}
    agencies = rows(Agency, Agency.key)
    agency_key = {a.id: a.key for a in agencies}
    departments = rows(Department, Department.id)
    department_key = {d.id: d.key for d in departments}
    # Shallower first (a parent before its children), siblings in the order they were created.
    locations = sorted(rows(Location, Location.id), key=lambda loc: ((loc.path or "/").count("/"), loc.id))
    location_key = {loc.id: loc.key for loc in locations}
    users = rows(User, User.id)
    memberships: dict[int, list[str]] = {}
    if users:
        for membership in session.scalars(
            select(UserDepartment)
            .where(UserDepartment.user_id.in_([u.id for u in users]))
            .order_by(UserDepartment.department_id)
        ):
            memberships.setdefault(membership.user_id, []).append(department_key[membership.department_id])

    return {
        "organization": _compact(
            {
                "key": org.key,
                "name": org.name,
                "timezone": org.default_timezone,
                "reopen_window_hours": org.reopen_window_hours,
                "stage_departments": dict(org.stage_departments or {}),
            },
            {"stage_departments": {}},
        ),
        "business_hours": [
            {"key": h.key, "name": h.name, "weekly": dict(h.weekly or {}), "holidays": list(h.holidays or [])}
            for h in hours
        ],
        "locations": _location_tree(locations, hours_key, org.default_timezone),
        "agencies": [{"key": a.key, "name": a.name, "contract": dict(a.contract or {})} for a in agencies],
        "departments": [
            _compact(
                {
                    "key": d.key,
                    "name": d.name,
                    "default": d.is_default,
                    "assignment": d.assignment,
                    "agency": agency_key.get(d.agency_id) if d.agency_id else None,
                },
                {"default": False, "assignment": "least_loaded", "agency": None},
            )
            for d in departments
        ],
        "agents": [
            _compact(
                {
                    "email": u.email,
                    "name": u.name,
                    "handle": u.handle,
                    "role": u.role,
                    "departments": memberships.get(u.id, []),
                    "languages": list(u.languages or []),
                    "skills": list(u.skills or []),
                    "timezone": u.timezone,
                    "shifts": split_time_off(list(u.shifts or []))[0],
                    "time_off": split_time_off(list(u.shifts or []))[1],
                    "max_concurrent": u.max_concurrent,
                    "agency": agency_key.get(u.agency_id) if u.agency_id else None,
                    "location": location_key.get(u.location_id) if u.location_id else None,
                    "active": u.active,
                },
                {
                    "agency": None,
                    "location": None,
                    "active": True,
                    "timezone": org.default_timezone,
                    "time_off": [],
                },
            )
            for u in users
        ],
        "accounts": [
            _compact(
                {
                    "key": a.key,
                    "network": a.network,
                    "handle": a.handle,
                    "external_id": a.external_id,
                    "name": a.name,
                    "location": location_key.get(a.location_id),
                    "credentials": _redacted(a.credentials_encrypted, box),
                    "settings": {k: v for k, v in (a.settings or {}).items() if k not in RUNTIME_SETTINGS},
                    "active": a.active,
                },
                {"external_id": None, "name": "", "active": True, "settings": {}, "credentials": {}},
            )
            for a in rows(ChannelAccount, ChannelAccount.id)
        ],
        "intents": [
            _compact(
                {"name": i.name, "department": i.department_key, "examples": list(i.examples or [])},
                {"department": None},
            )
            for i in rows(Intent, Intent.id)
        ],
        "routing_rules": [
            _compact(
                {
                    "name": r.name,
                    "when": dict(r.conditions or {}),
                    "then": dict(r.actions or {}),
                    "stop": r.stop,
                    "enabled": r.enabled,
                },
                {"stop": False, "enabled": True},
            )
            for r in rows(RoutingRule, RoutingRule.position, RoutingRule.id)
        ],
        "sla_policies": [
            _compact(
                {
                    "name": p.name,
                    "first_response_minutes": p.first_response_minutes,
                    "next_response_minutes": p.next_response_minutes,
                    "resolution_minutes": p.resolution_minutes,
                    "department": p.department_key,
                    "priority": p.priority,
                    "channel": p.channel,
                    "business_hours": p.business_hours_key,
                    "around_the_clock": p.around_the_clock,
                    "warn_before_minutes": p.warn_before_minutes,
                },
                {
                    "warn_before_minutes": 15,
                    "next_response_minutes": None,
                    "resolution_minutes": None,
                    "department": None,
                    "priority": None,
                    "channel": None,
                    "business_hours": None,
                    "around_the_clock": False,
                },
            )
            for p in rows(SlaPolicy, SlaPolicy.id)
        ],
        "guidelines": [
            {"name": g.name, "kind": g.kind, "params": dict(g.params or {}), "message": g.message}
            for g in rows(Guideline, Guideline.id)
        ],
        "faq": [
            _compact(
                {
                    "key": f.key,
                    "question": f.question,
                    "answer": f.answer,
                    "language": f.language,
                    "approved": f.approved,
                },
                {"approved": True},
            )
            for f in rows(FaqEntry, FaqEntry.id)
        ],
    }


def _redacted(token: str | None, box: SecretBox | None) -> dict[str, str] | str:
    if not token:
        return {}
    if box is None:
        return REDACTED
    return dict.fromkeys(sorted(box.open(token)), REDACTED)


def _location_tree(
    locations: list[Location], hours_key: dict[int, str], org_zone: str
) -> list[dict[str, Any]]:
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
