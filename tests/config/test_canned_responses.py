"""`canned_responses:` in relaydesk.yaml: checked with positions, applied idempotently, exported back."""

from __future__ import annotations

import textwrap

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from relaydesk.auth.crypto import SecretBox
from relaydesk.config.loader import LoadResult, load_config_text
from relaydesk.config.schemas import OrgConfig
from relaydesk.config.service import apply_config, export_config
from relaydesk.db import transaction
from relaydesk.models import CannedResponse

BOX = SecretBox("test-key-for-canned")

ORG = """\
organization: {key: acme, name: Acme Coffee, timezone: Asia/Tehran}
locations:
  - {key: vanak, kind: location, name: Vanak}
departments:
  - {key: service, name: Service, default: true}
  - {key: sales, name: Sales}
canned_responses:
  - key: refund
    title: Refund on its way
    texts:
      en: "Hi {customer.first_name}, your refund is on its way. {agent.first_name} at {location.name}"
      fa: "سلام {customer.first_name} عزیز، بازپرداخت شما در راه است."
  - key: price_list
    title: Price list
    texts: {en: "Dear {customer.name}, here is our price list."}
    departments: [sales]
"""


def load(text: str) -> LoadResult:
    return load_config_text(textwrap.dedent(text), "relaydesk.yaml", env={})


def config_of(text: str) -> OrgConfig:
    result = load(text)
    assert result.config is not None, [str(p) for p in result.problems]
    return result.config


def stored(factory: sessionmaker[Session]) -> dict[str, CannedResponse]:
    with factory() as session:
        return {r.key: r for r in session.scalars(select(CannedResponse))}


def test_valid_section_has_no_problems() -> None:
    config = config_of(ORG)
    assert [r.key for r in config.canned_responses] == ["refund", "price_list"]
    assert config.canned_responses[1].departments == ["sales"]


def test_unknown_variable_is_refused_with_its_position() -> None:
    text = ORG.replace("{agent.first_name} at", "{agent.nickname} at")
    result = load(text)
    assert result.config is None
    [problem] = [p for p in result.problems if p.severity == "error"]
    assert problem.field == "canned_responses[0].texts.en"
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if "{agent.nickname}" in row)
    assert problem.line == line
    value = "Hi {customer.first_name}, your refund is on its way. {agent.nickname} at {location.name}"
    assert f"unknown variable {{agent.nickname}} at character {value.index('{agent') + 1} " in problem.message
    assert "{customer.first_name}" in problem.message  # what is allowed is listed


def test_every_unknown_variable_and_bad_reference_is_reported() -> None:
    text = (
        ORG.replace("سلام {customer.first_name}", "سلام {مشتری}")
        .replace("Dear {customer.name}", "Dear {customer}")
        .replace("departments: [sales]", "departments: [salez]")
    )
    result = load(text)
    assert result.config is None
    assert sorted(p.field for p in result.problems) == [
        "canned_responses[0].texts.fa",
        "canned_responses[1].departments[0]",
        "canned_responses[1].texts.en",
    ]
    assert any("{مشتری}" in p.message for p in result.problems)


def test_keys_are_shortcuts_and_unique() -> None:
    result = load(ORG.replace("key: price_list", "key: Price.List"))
    assert [p.field for p in result.problems] == ["canned_responses[1].key"]
    assert "not a valid shortcut key" in result.problems[0].message
    result = load(ORG.replace("key: price_list", "key: refund"))
    assert [p.field for p in result.problems] == ["canned_responses[1].key"]
    assert "duplicate saved reply key 'refund'" in result.problems[0].message


def test_a_saved_reply_needs_a_text() -> None:
    result = load(ORG.replace('texts: {en: "Dear {customer.name}, here is our price list."}', "texts: {}"))
    assert [p.field for p in result.problems] == ["canned_responses[1].texts"]


def test_apply_reapply_export_and_removal(session_factory: sessionmaker[Session]) -> None:
    with transaction(session_factory) as session:
        summary = apply_config(session, config_of(ORG), BOX, env={})
    assert summary.created["canned_responses"] == 2
    rows = stored(session_factory)
    assert rows["refund"].texts["fa"].startswith("سلام {customer.first_name}")
    assert rows["refund"].department_keys == []
    assert rows["price_list"].department_keys == ["sales"]

    with transaction(session_factory) as session:
        assert not apply_config(session, config_of(ORG), BOX, env={}).changed

    with session_factory() as session:
        exported = export_config(session, "acme")
    assert exported["canned_responses"] == [
        {
            "key": "refund",
            "title": "Refund on its way",
            "texts": {
                "en": "Hi {customer.first_name}, your refund is on its way. {agent.first_name} at {location.name}",
                "fa": "سلام {customer.first_name} عزیز، بازپرداخت شما در راه است.",
            },
        },
        {
            "key": "price_list",
            "title": "Price list",
            "texts": {"en": "Dear {customer.name}, here is our price list."},
            "departments": ["sales"],
        },
    ]
    with transaction(session_factory) as session:
        assert not apply_config(session, OrgConfig.model_validate(exported), BOX, env={}).changed

    edited = ORG.replace("title: Price list", "title: Prices").split("  - key: refund")[0] + textwrap.dedent(
        """\
          - key: price_list
            title: Prices
            texts: {en: "Dear {customer.name}, here is our price list."}
            departments: [sales]
        """
    )
    with transaction(session_factory) as session:
        summary = apply_config(session, config_of(edited), BOX, env={})
    assert summary.deleted["canned_responses"] == 1
    assert summary.updated["canned_responses"] == 1
    assert set(stored(session_factory)) == {"price_list"}


MACRO = (
    ORG
    + """\
  - key: close_refund
    title: Refund sent, closing
    texts: {en: "The refund is sent."}
    actions: {status: resolved, tags: [refund], priority: high}
"""
)


def test_a_macro_is_checked_applied_and_exported(session_factory: sessionmaker[Session]) -> None:
    with transaction(session_factory) as session:
        apply_config(session, config_of(MACRO), BOX, env={})
    assert stored(session_factory)["close_refund"].actions == {
        "status": "resolved",
        "tags": ["refund"],
        "priority": "high",
    }
    with session_factory() as session:
        exported = export_config(session, "acme")
    assert exported["canned_responses"][2]["actions"] == {
        "status": "resolved",
        "tags": ["refund"],
        "priority": "high",
    }
    assert "actions" not in exported["canned_responses"][0]  # a plain saved reply stays plain
    with transaction(session_factory) as session:
        assert not apply_config(session, OrgConfig.model_validate(exported), BOX, env={}).changed


def test_a_macro_hands_off_or_changes_status_to_a_known_department_with_an_agents_tag() -> None:
    text = MACRO.replace(
        "{status: resolved, tags: [refund], priority: high}", "{status: resolved, transfer: sales}"
    )
    assert [p.field for p in load(text).problems] == ["canned_responses[2].actions"]
    text = MACRO.replace(
        "{status: resolved, tags: [refund], priority: high}", "{transfer: salez, tags: [team:vip]}"
    )
    problems = load(text).problems
    assert sorted(p.field for p in problems) == [
        "canned_responses[2].actions.tags[0]",
        "canned_responses[2].actions.transfer",
    ]
    assert any("is not set by hand" in p.message for p in problems)
    text = MACRO.replace("priority: high", "priority: asap")
    assert [p.field for p in load(text).problems] == ["canned_responses[2].actions.priority"]
