"""Apply a validated `OrgConfig` to the database, and export the database back to the same shape.

`apply_config` is an idempotent upsert by natural keys: applying the same file twice changes
nothing, because every value is compared before it is written. What the file no longer lists is
deleted when nothing depends on it (intents, rules, policies, guidelines, FAQ, saved replies, business hours,
agencies, notification destinations), deactivated when it has history (agents, accounts), and kept with a warning when
conversations still point at it (departments, locations). It works in the caller's session and
never commits: the caller decides, so a failed apply leaves nothing half-written.

Each section's apply and export lives in `relaydesk.config.sections`; this module runs them in
the order their references need.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from relaydesk.audit.service import Actor, acting, actor_of
from relaydesk.auth.crypto import SecretBox
from relaydesk.config import repository
from relaydesk.config.problems import ConfigApplyError, IdentityTaken, UnknownOrganization
from relaydesk.config.schemas import OrgConfig
from relaydesk.config.sections import (
    accounts,
    agencies,
    agents,
    business_hours,
    canned_responses,
    departments,
    destinations,
    faq,
    guidelines,
    intents,
    keys_by_id,
    listening,
    locations,
    organization,
    routing_rules,
    sla_policies,
)
from relaydesk.config.sections.accounts import RUNTIME_SETTINGS, resolve_credentials
from relaydesk.config.upsert import KINDS, ApplySummary, Upserter
from relaydesk.models import (
    Agency,
    BusinessHours,
    CannedResponse,
    ChannelAccount,
    Department,
    FaqEntry,
    Guideline,
    Intent,
    ListeningQuery,
    Location,
    NotificationDestination,
    RoutingRule,
    SlaPolicy,
    User,
)

__all__ = [
    "KINDS",
    "RUNTIME_SETTINGS",
    "ApplySummary",
    "ConfigApplyError",
    "IdentityTaken",
    "UnknownOrganization",
    "apply_config",
    "export_config",
    "organization_key",
    "resolve_credentials",
]


def apply_config(
    session: Session, config: OrgConfig, box: SecretBox, *, env: Mapping[str, str] | None = None
) -> ApplySummary:
    """Make the database say what `config` says; the caller commits (or rolls back on error).

    `env` (default: os.environ) resolves `${NAME}` in credentials and `password_env`.
    Raises ConfigApplyError when a referenced environment variable is missing.
    """
    if actor_of(session) is None:
        # Every change an apply makes is in the audit log; the API and CLI say who applied.
        acting(session, Actor(None, "config apply", "apply"))
    u = Upserter(session, config, box, env if env is not None else os.environ)
    credentials = accounts.resolve_all(u)
    organization.apply(u)
    hours = business_hours.apply(u)
    agency_rows = agencies.apply(u)
    location_rows = locations.apply(u, hours)
    department_rows = departments.apply(u, agency_rows)
    agents.apply(u, department_rows, agency_rows, location_rows)
    accounts.apply(u, location_rows, credentials)
    agents.apply_account_limits(u)
    intents.apply(u)
    routing_rules.apply(u)
    sla_policies.apply(u)
    guidelines.apply(u)
    faq.apply(u)
    canned_responses.apply(u)
    listening.apply(u)
    destinations.apply(u)
    business_hours.delete_leftovers(u, hours)
    return u.finish()


def export_config(session: Session, org_key: str, *, box: SecretBox | None = None) -> dict[str, Any]:
    """The organisation in the shape of `relaydesk.yaml`, secrets redacted.

    Credentials come out as "***": without `box` the whole mapping is "***", with it every
    secret's name is listed with the value "***". Either form applied back keeps the stored
    secrets. Passwords are never exported. Removed agents and accounts appear with `active: false`.
    """
    org = repository.organization_by_key(session, org_key)
    if org is None:
        raise UnknownOrganization(f"no organization with key {org_key!r}")

    def rows(model: Any, *order: Any) -> list[Any]:
        return repository.org_rows(session, model, org.id, *order)

    hours = rows(BusinessHours, BusinessHours.key)
    agency_rows = rows(Agency, Agency.key)
    department_rows = rows(Department, Department.id)
    location_rows = locations.in_tree_order(rows(Location, Location.id))
    users = rows(User, User.id)
    account_rows = rows(ChannelAccount, ChannelAccount.id)
    memberships = agents.memberships(session, users, keys_by_id(department_rows))
    agency_key = keys_by_id(agency_rows)
    location_key = keys_by_id(location_rows)
    return {
        "organization": organization.export(org),
        "business_hours": business_hours.export(hours),
        "locations": locations.export(location_rows, keys_by_id(hours), org.default_timezone),
        "agencies": agencies.export(agency_rows),
        "departments": departments.export(department_rows, agency_key),
        "agents": agents.export(
            users,
            memberships,
            agency_key,
            location_key,
            org.default_timezone,
            agents.account_keys(session, users, keys_by_id(account_rows)),
        ),
        "accounts": accounts.export(account_rows, location_key, box),
        "intents": intents.export(rows(Intent, Intent.id)),
        "routing_rules": routing_rules.export(rows(RoutingRule, RoutingRule.position, RoutingRule.id)),
        "sla_policies": sla_policies.export(rows(SlaPolicy, SlaPolicy.id)),
        "guidelines": guidelines.export(rows(Guideline, Guideline.id), location_key),
        "faq": faq.export(rows(FaqEntry, FaqEntry.id), location_key),
        "canned_responses": canned_responses.export(rows(CannedResponse, CannedResponse.id)),
        "listening": listening.export(rows(ListeningQuery, ListeningQuery.name), location_key),
        "notification_destinations": destinations.export(
            rows(NotificationDestination, NotificationDestination.name)
        ),
    }


def organization_key(session: Session, org_id: int) -> str | None:
    """The key of the organisation with this id (None when there is none)."""
    org = repository.organization(session, org_id)
    return org.key if org is not None else None
