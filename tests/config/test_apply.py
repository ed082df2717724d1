"""apply_config on SQLite and PostgreSQL: idempotent upserts, deactivation, secrets, tree paths."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from relaydesk.auth.crypto import SecretBox, verify_password
from relaydesk.config.loader import load_config_text, load_demo_config
from relaydesk.config.schemas import OrgConfig
from relaydesk.config.service import (
    ApplySummary,
    ConfigApplyError,
    UnknownOrganization,
    apply_config,
    export_config,
)
from relaydesk.db import transaction
from relaydesk.models import (
    ChannelAccount,
    Contact,
    Conversation,
    Department,
    Intent,
    Location,
    Organization,
    RoutingRule,
    User,
    UserDepartment,
)

BOX = SecretBox("test-key-for-config")
ENV = {"ACME_TOKEN": "clear-secret-value-123", "SARA_PASSWORD": "sara-pass"}

ORG = """\
organization: {key: acme, name: Acme Coffee, timezone: Asia/Tehran}
business_hours:
  - {key: office, name: Office, weekly: {sat: [["09:00", "17:00"]]}, holidays: ["2026-03-21"]}
locations:
  - key: acme
    kind: brand
    name: Acme
    timezone: UTC
    children:
      - key: iran
        kind: region
        name: Iran
        timezone: Asia/Tehran
        business_hours: office
        children:
          - {key: vanak, kind: location, name: Vanak}
          - {key: tajrish, kind: location, name: Tajrish}
departments:
  - {key: service, name: Service, default: true}
  - {key: sales, name: Sales}
agents:
  - {email: owner@acme.example, name: Owner, role: owner, departments: [service]}
  - {email: sara@acme.example, name: Sara, departments: [service, sales], password_env: SARA_PASSWORD,
     location: iran}
  - {email: reza@acme.example, name: Reza, departments: [sales],
     shifts: [{days: [sat], start: "22:00", end: "06:00"}]}
accounts:
  - {key: acme-ig, network: instagram, handle: "@acme", external_id: "1784", location: vanak,
     credentials: {access_token: "${ACME_TOKEN}"}}
intents:
  - {name: refund_request, department: service, examples: [money back please]}
routing_rules:
  - {name: leads, when: {intent: [purchase_interest]}, then: {department: sales, priority: high}}
  - {name: crisis, when: {intent: [crisis]}, then: {department: service, priority: urgent}, stop: true}
sla_policies:
  - {name: default, first_response_minutes: 60}
guidelines:
  - {name: no-guarantees, kind: banned_phrase, params: {phrases: [we guarantee]}}
faq:
  - {key: hours, question: When?, answer: Always.}
"""


TREE = """\
    children:
      - key: iran
        kind: region
        name: Iran
        timezone: Asia/Tehran
        business_hours: office
        children:
          - {key: vanak, kind: location, name: Vanak}
          - {key: tajrish, kind: location, name: Tajrish}
"""
MOVED_TREE = """\
    children:
      - key: mena
        kind: region
        name: MENA
        children:
          - key: iran
            kind: region
            name: Iran
            timezone: Asia/Tehran
            business_hours: office
            children:
              - {key: vanak, kind: location, name: Vanak}
              - {key: tajrish, kind: location, name: Tajrish}
"""
REZA = """\
  - {email: reza@acme.example, name: Reza, departments: [sales],
     shifts: [{days: [sat], start: "22:00", end: "06:00"}]}
"""
assert TREE in ORG
assert REZA in ORG


def config_of(yaml_text: str) -> OrgConfig:
    result = load_config_text(textwrap.dedent(yaml_text), env=ENV)
    assert result.config is not None, [str(p) for p in result.problems]
    return result.config


def apply(factory: sessionmaker[Session], yaml_text: str) -> ApplySummary:
    with transaction(factory) as session:
        return apply_config(session, config_of(yaml_text), BOX, env=ENV)


def nonzero(summary: ApplySummary) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for bucket in ("created", "updated", "deleted", "deactivated"):
        counts = {k: v for k, v in getattr(summary, bucket).items() if v}
        if counts:
            out[bucket] = counts
    return out


def users(factory: sessionmaker[Session]) -> dict[str, User]:
    with factory() as session:
        return {u.email: u for u in session.scalars(select(User))}


def test_apply_creates_everything(session_factory: sessionmaker[Session]) -> None:
    summary = apply(session_factory, ORG)
    assert nonzero(summary) == {
        "created": {
            "organization": 1,
            "business_hours": 1,
            "locations": 4,
            "departments": 2,
            "agents": 3,
            "accounts": 1,
            "intents": 1,
            "routing_rules": 2,
            "sla_policies": 1,
            "guidelines": 1,
            "faq": 1,
        }
    }
    with session_factory() as session:
        org = session.scalars(select(Organization)).one()
        assert org.default_timezone == "Asia/Tehran"
        departments = {d.key: d for d in session.scalars(select(Department))}
        assert departments["service"].is_default and not departments["sales"].is_default
        memberships = {(row.user_id, row.department_id) for row in session.scalars(select(UserDepartment))}
        people = {u.email: u for u in session.scalars(select(User))}
        sara = people["sara@acme.example"]
        assert memberships >= {(sara.id, departments["service"].id), (sara.id, departments["sales"].id)}
        assert len(memberships) == 4
        assert verify_password("sara-pass", sara.password_hash)
        assert people["owner@acme.example"].password_hash is None  # no password given
        assert people["owner@acme.example"].timezone == "Asia/Tehran"  # the org's zone
        assert people["reza@acme.example"].shifts == [{"days": ["sat"], "start": "22:00", "end": "06:00"}]
        locations = {loc.key: loc for loc in session.scalars(select(Location))}
        assert sara.location_id == locations["iran"].id
        rules = sorted(session.scalars(select(RoutingRule)), key=lambda r: r.position)
        assert [(r.name, r.position, r.stop) for r in rules] == [("leads", 0, False), ("crisis", 1, True)]
        assert rules[0].actions == {"department": "sales", "priority": "high"}


def test_location_paths_for_a_three_level_tree(session_factory: sessionmaker[Session]) -> None:
    apply(session_factory, ORG)
    with session_factory() as session:
        loc = {row.key: row for row in session.scalars(select(Location))}
    acme, iran, vanak, tajrish = loc["acme"], loc["iran"], loc["vanak"], loc["tajrish"]
    assert acme.parent_id is None and acme.path == f"/{acme.id}/"
    assert iran.parent_id == acme.id and iran.path == f"/{acme.id}/{iran.id}/"
    assert vanak.parent_id == iran.id and vanak.path == f"/{acme.id}/{iran.id}/{vanak.id}/"
    assert tajrish.path == f"/{acme.id}/{iran.id}/{tajrish.id}/"
    assert [acme.kind, iran.kind, vanak.kind] == ["brand", "region", "location"]
    # Time zone and business hours are inherited down the tree.
    assert vanak.timezone == "Asia/Tehran" and acme.timezone == "UTC"
    assert vanak.business_hours_id == iran.business_hours_id is not None
    assert acme.business_hours_id is None

    # Moving a region under a new parent rewrites the paths of its whole subtree.
    summary = apply(session_factory, ORG.replace(TREE, MOVED_TREE))
    assert summary.created["locations"] == 1
    assert summary.updated["locations"] == 3  # iran's parent; vanak's and tajrish's paths
    with session_factory() as session:
        loc = {row.key: row for row in session.scalars(select(Location))}
    mena = loc["mena"]
    assert loc["iran"].parent_id == mena.id
    assert loc["vanak"].path == f"/{acme.id}/{mena.id}/{iran.id}/{vanak.id}/"
    assert loc["iran"].id == iran.id  # the same row, moved


def test_applying_twice_changes_nothing(session_factory: sessionmaker[Session]) -> None:
    apply(session_factory, ORG)
    before = users(session_factory)
    second = apply(session_factory, ORG)
    assert nonzero(second) == {}
    assert not second.changed
    after = users(session_factory)
    # The password hash is salted: a second hash would differ, so it was left alone.
    assert after["sara@acme.example"].password_hash == before["sara@acme.example"].password_hash


def test_editing_one_agent_updates_only_that_agent(session_factory: sessionmaker[Session]) -> None:
    apply(session_factory, ORG)
    edited = ORG.replace(
        "{email: reza@acme.example, name: Reza, departments: [sales],",
        "{email: reza@acme.example, name: Reza M., departments: [sales, service], max_concurrent: 3,",
    )
    summary = apply(session_factory, edited)
    assert nonzero(summary) == {"updated": {"agents": 1}}
    reza = users(session_factory)["reza@acme.example"]
    assert (reza.name, reza.max_concurrent) == ("Reza M.", 3)
    with session_factory() as session:
        count = session.scalar(
            select(text("count(*)")).select_from(UserDepartment).where(UserDepartment.user_id == reza.id)
        )
    assert count == 2


def test_removed_agent_is_deactivated_not_deleted(session_factory: sessionmaker[Session]) -> None:
    apply(session_factory, ORG)
    without_reza = ORG.replace(REZA, "")
    summary = apply(session_factory, without_reza)
    assert nonzero(summary) == {"deactivated": {"agents": 1}}
    people = users(session_factory)
    assert set(people) == {"owner@acme.example", "sara@acme.example", "reza@acme.example"}
    assert people["reza@acme.example"].active is False
    assert nonzero(apply(session_factory, without_reza)) == {}
    # Back in the file: active again, the same row.
    summary = apply(session_factory, ORG)
    assert nonzero(summary) == {"updated": {"agents": 1}}
    assert users(session_factory)["reza@acme.example"].id == people["reza@acme.example"].id
    assert users(session_factory)["reza@acme.example"].active is True


def test_removed_config_objects_are_deleted_and_accounts_deactivated(
    session_factory: sessionmaker[Session],
) -> None:
    apply(session_factory, ORG)
    # Sections the file still has but empty say "none"; a section left out is left alone (below).
    trimmed = (
        ORG.split("accounts:")[0]
        + "accounts: []\nintents: []\nsla_policies: []\nguidelines: []\nfaq: []\n"
        + "routing_rules:\n"
        + "  - {name: crisis, when: {intent: [crisis]}, then: {department: service}, stop: true}\n"
    )
    summary = apply(session_factory, trimmed)
    assert nonzero(summary) == {
        "updated": {"routing_rules": 1},  # new position and actions
        "deleted": {"intents": 1, "routing_rules": 1, "sla_policies": 1, "guidelines": 1, "faq": 1},
        "deactivated": {"accounts": 1},
    }
    with session_factory() as session:
        assert session.scalars(select(Intent)).all() == []
        account = session.scalars(select(ChannelAccount)).one()
        assert account.active is False
        rule = session.scalars(select(RoutingRule)).one()
        assert (rule.position, rule.actions) == (0, {"department": "service"})


def test_credentials_are_encrypted_and_compared_by_value(session_factory: sessionmaker[Session]) -> None:
    apply(session_factory, ORG)
    with session_factory() as session:
        stored = session.scalar(select(ChannelAccount.credentials_encrypted))
        raw_rows = session.execute(text("SELECT * FROM channel_accounts")).all()
    assert stored is not None
    assert "clear-secret-value-123" not in stored
    assert all("clear-secret-value-123" not in str(row) for row in raw_rows)
    assert BOX.open(stored) == {"access_token": "clear-secret-value-123"}
    # Fernet tokens differ on every seal: an unchanged secret must not be re-sealed.
    apply(session_factory, ORG)
    with session_factory() as session:
        assert session.scalar(select(ChannelAccount.credentials_encrypted)) == stored
    with transaction(session_factory) as session:
        summary = apply_config(session, config_of(ORG), BOX, env={**ENV, "ACME_TOKEN": "rotated"})
    assert nonzero(summary) == {"updated": {"accounts": 1}}
    with session_factory() as session:
        assert BOX.open(session.scalar(select(ChannelAccount.credentials_encrypted))) == {
            "access_token": "rotated"
        }


def test_missing_variable_at_apply_time_writes_nothing(session_factory: sessionmaker[Session]) -> None:
    config = config_of(ORG)
    with pytest.raises(ConfigApplyError, match="ACME_TOKEN"), transaction(session_factory) as session:
        apply_config(session, config, BOX, env={})
    with session_factory() as session:
        assert session.scalars(select(Organization)).all() == []


def test_department_and_location_in_use_are_kept(session_factory: sessionmaker[Session]) -> None:
    apply(session_factory, ORG)
    with transaction(session_factory) as session:
        org = session.scalars(select(Organization)).one()
        sales = session.scalars(select(Department).where(Department.key == "sales")).one()
        account = session.scalars(select(ChannelAccount)).one()
        contact = Contact(org_id=org.id, display_name="Customer")
        session.add(contact)
        session.flush()
        session.add(
            Conversation(
                org_id=org.id,
                account_id=account.id,
                location_id=account.location_id,
                contact_id=contact.id,
                network="instagram",
                department_id=sales.id,
            )
        )
    without_sales = (
        ORG.replace("  - {key: sales, name: Sales}\n", "")
        .replace("[service, sales]", "[service]")
        .replace("departments: [sales],", "departments: [service],")
        .replace("department: sales, priority: high", "department: service, priority: high")
        .replace(
            "          - {key: vanak, kind: location, name: Vanak}\n"
            "          - {key: tajrish, kind: location, name: Tajrish}\n",
            "",
        )
        .replace("        business_hours: office\n        children:\n", "        business_hours: office\n")
        .replace("location: vanak,", "location: iran,")
    )
    summary = apply(session_factory, without_sales)
    assert summary.deleted["departments"] == 0
    assert summary.deleted["locations"] == 1  # tajrish: nothing points at it
    assert any("'sales'" in warning for warning in summary.warnings)
    assert any("'vanak'" in warning for warning in summary.warnings)
    with session_factory() as session:
        assert {d.key for d in session.scalars(select(Department))} == {"service", "sales"}
        assert {loc.key for loc in session.scalars(select(Location))} == {"acme", "iran", "vanak"}
        assert session.scalars(select(Conversation)).one().department_id is not None


def test_handles_can_be_swapped(session_factory: sessionmaker[Session]) -> None:
    swap = ORG.replace("name: Owner, role: owner,", "name: Owner, handle: boss, role: owner,").replace(
        "name: Sara, departments", "name: Sara, handle: sara, departments"
    )
    apply(session_factory, swap)
    swapped = (
        swap.replace("handle: boss", "handle: tmp")
        .replace("handle: sara", "handle: boss")
        .replace("handle: tmp", "handle: sara")
    )
    summary = apply(session_factory, swapped)
    assert nonzero(summary) == {"updated": {"agents": 2}}
    people = users(session_factory)
    assert people["owner@acme.example"].handle == "sara"
    assert people["sara@acme.example"].handle == "boss"


def test_export_round_trips_without_changes(session_factory: sessionmaker[Session]) -> None:
    apply(session_factory, ORG)
    with session_factory() as session:
        exported = export_config(session, "acme")
        with_names = export_config(session, "acme", box=BOX)
        with pytest.raises(UnknownOrganization):
            export_config(session, "nope")
    assert exported["accounts"][0]["credentials"] == "***"
    assert with_names["accounts"][0]["credentials"] == {"access_token": "***"}
    assert "clear-secret-value-123" not in repr(exported) + repr(with_names)
    assert exported["locations"][0]["children"][0]["children"][1]["key"] == "tajrish"
    for document in (exported, with_names):
        config = OrgConfig.model_validate(document)
        with transaction(session_factory) as session:
            assert nonzero(apply_config(session, config, BOX, env={})) == {}
    with session_factory() as session:
        stored = session.scalar(select(ChannelAccount.credentials_encrypted))
    assert BOX.open(stored) == {"access_token": "clear-secret-value-123"}


def _counts(session: Session) -> dict[str, Any]:
    return {
        "locations": len(session.scalars(select(Location)).all()),
        "agents": len(session.scalars(select(User)).all()),
        "accounts": len(session.scalars(select(ChannelAccount)).all()),
    }


def test_demo_applies_and_reapplies_as_a_no_op(session_factory: sessionmaker[Session]) -> None:
    config = load_demo_config().config
    assert config is not None
    with transaction(session_factory) as session:
        first = apply_config(session, config, BOX, env={})
    assert first.created["agents"] >= 14 and first.created["accounts"] >= 9
    with transaction(session_factory) as session:
        assert nonzero(apply_config(session, config, BOX, env={})) == {}
        counts = _counts(session)
        owner = session.scalars(select(User).where(User.email == "owner@saffron.example")).one()
        assert owner.role == "owner" and verify_password("relaydesk", owner.password_hash)
        zones = {loc.timezone for loc in session.scalars(select(Location))}
    assert counts["locations"] >= 10
    assert {"Asia/Tehran", "Asia/Dubai", "Asia/Jerusalem", "Asia/Bangkok", "Europe/London"} <= zones


def test_agent_time_off_is_stored_with_the_shifts_and_exported_back(
    session_factory: sessionmaker[Session],
) -> None:
    with_time_off = ORG.replace(REZA, REZA.replace("}]}", '}], time_off: ["2026-12-24", 2026-12-25]}'))
    assert with_time_off != ORG
    apply(session_factory, with_time_off)
    assert users(session_factory)["reza@acme.example"].shifts == [
        {"days": ["sat"], "start": "22:00", "end": "06:00"},
        {"time_off": ["2026-12-24", "2026-12-25"]},
    ]
    with session_factory() as session:
        exported = export_config(session, "acme")
    reza = next(a for a in exported["agents"] if a["email"] == "reza@acme.example")
    assert reza["shifts"] == [{"days": ["sat"], "start": "22:00", "end": "06:00"}]
    assert reza["time_off"] == ["2026-12-24", "2026-12-25"]
    assert all("time_off" not in a for a in exported["agents"] if a["email"] != "reza@acme.example")
    with transaction(session_factory) as session:
        assert nonzero(apply_config(session, OrgConfig.model_validate(exported), BOX, env={})) == {}


def test_a_pollers_cursor_survives_apply_and_stays_out_of_exports(
    session_factory: sessionmaker[Session],
) -> None:
    apply(session_factory, ORG)
    with transaction(session_factory) as session:
        account = session.scalars(select(ChannelAccount)).first()
        assert account is not None
        account.settings = {**(account.settings or {}), "poll_cursor": "4711"}
        key = account.key
    assert nonzero(apply(session_factory, ORG)) == {}  # the stored cursor is not a change
    with session_factory() as session:
        row = session.scalars(select(ChannelAccount).where(ChannelAccount.key == key)).one()
        assert row.settings["poll_cursor"] == "4711"
        exported = export_config(session, "acme")
    assert all("poll_cursor" not in a.get("settings", {}) for a in exported["accounts"])
    # Naming it in the file still wins: null reads the mailbox / timeline again.
    document = {
        **exported,
        "accounts": [{**a, "settings": {"poll_cursor": None}} for a in exported["accounts"]],
    }
    document["accounts"] = [{**a, "credentials": "***"} for a in document["accounts"]]
    with transaction(session_factory) as session:
        apply_config(session, OrgConfig.model_validate(document), BOX, env={})
    with session_factory() as session:
        row = session.scalars(select(ChannelAccount).where(ChannelAccount.key == key)).one()
        assert row.settings["poll_cursor"] is None
