"""Settings that used to be accepted and then ignored (issue 9 #8), wired end to end on both databases:
the agency contract's approval and languages, the routing action `team`, and the organisation's
purchase-stage -> department overrides."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from relaydesk.channels.base import InboundEvent
from relaydesk.config.loader import load_config_text
from relaydesk.container import Container
from relaydesk.models import ChannelAccount, Conversation, Department, Organization, TimelineEvent, User
from relaydesk.triage.base import TriageResult
from tests.api.conftest import login
from tests.orgconfig import agent, apply_variant, config_text, fixture_config


def write(container: Container, external_id: str, text: str, author: str = "cust") -> int:
    with container.sessions() as session:
        account = session.scalars(
            select(ChannelAccount.id).where(ChannelAccount.key == "north-generic")
        ).one()
    event = InboundEvent(network="generic", external_id=external_id, author_id=author, text=text)
    return int(container.pipeline.accept(account, event).conversation_id)


def placed(container: Container, conversation_id: int) -> tuple[str | None, str | None]:
    """(department key, assignee handle) of a conversation."""
    with container.sessions() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        department = (
            session.get(Department, conversation.department_id) if conversation.department_id else None
        )
        user = session.get(User, conversation.assignee_id) if conversation.assignee_id else None
        return (department.key if department else None, user.handle if user else None)


def assign_reasons(container: Container, conversation_id: int) -> list[str]:
    with container.sessions() as session:
        return list(
            session.scalars(
                select(TimelineEvent.reason).where(
                    TimelineEvent.conversation_id == conversation_id,
                    TimelineEvent.kind.in_(("assign", "transfer")),
                )
            )
        )


def contract(config: dict[str, Any]) -> dict[str, Any]:
    outco: dict[str, Any] = config["agencies"][0]["contract"]
    return outco


# --- the agency contract: replies need approval -------------------------------------------------


def agency_needs_approval(config: dict[str, Any]) -> None:
    contract(config)["replies_need_approval"] = True
    # OutCo's own team lead: a manager, but of the agency, so not the brand's approver.
    config["agents"].append(
        {
            "email": "olga@outco.example",
            "name": "Olga Outco",
            "handle": "olga",
            "role": "manager",
            "departments": ["first-line"],
            "languages": ["th", "en"],
            "agency": "outco",
            "password": "relaydesk",
        }
    )


def test_an_agency_reply_waits_for_the_brand_when_the_contract_says_so(
    app_client: TestClient, container: Container
) -> None:
    apply_variant(container, agency_needs_approval)
    conv = write(container, "ag-1", "ร้านเปิดกี่โมงคะ")  # a Thai question: the agency's first line
    assert placed(container, conv)[0] == "first-line"
    otto = login(app_client, "otto@outco.example")
    reply = app_client.post(f"/api/v1/conversations/{conv}/reply", json={"text": "10:00 ค่ะ"}, headers=otto)
    assert reply.status_code == 201, reply.text
    held = reply.json()["approval"]
    assert held is not None and "OutCo Social agency need approval under its contract" in held["reason"]
    assert held["people"] == ["@ada"]  # the brand's admin; not Otto, not OutCo's own manager
    message_id = reply.json()["message_id"]
    url = f"/api/v1/conversations/{conv}/messages/{message_id}/approve"
    olga = app_client.post(url, json={}, headers=login(app_client, "olga@outco.example"))
    assert olga.status_code == 403 and "approved by the brand" in olga.json()["detail"]
    assert app_client.post(url, json={}, headers=login(app_client, "admin@test.example")).status_code == 200


# --- the agency contract: languages --------------------------------------------------------------


def agency_in_service_for_thai_only(config: dict[str, Any]) -> None:
    contract(config)["languages"] = ["th"]
    agent(config, "otto")["departments"] = ["first-line", "service"]
    agent(config, "sam")["departments"] = []
    agent(config, "sia")["departments"] = []
    agent(config, "nora")["languages"] = ["ar"]


def test_agency_people_only_get_conversations_in_the_contract_languages(container: Container) -> None:
    apply_variant(container, agency_in_service_for_thai_only)
    english = write(container, "lang-1", "Where is my order?", "en-cust")
    assert placed(container, english) == ("service", None)  # Otto speaks English, the contract does not
    assert any("outside the agency contract (th)" in r for r in assign_reasons(container, english))
    thai = write(container, "lang-2", "พัสดุของฉันยังไม่มาถึง", "th-cust")
    assert placed(container, thai) == ("service", "otto")


def test_a_conversation_outside_the_contract_languages_is_handed_in_house(container: Container) -> None:
    def change(config: dict[str, Any]) -> None:
        contract(config)["languages"] = ["th"]
        rule = next(r for r in config["routing_rules"] if r["name"] == "thai-questions-to-agency")
        rule["when"]["language"] = ["th", "en"]

    apply_variant(container, change)
    conv = write(container, "lang-3", "What time do you open?")
    department, _assignee = placed(container, conv)
    assert department == "service"
    assert any(
        "language en is outside the agency's contract (th)" in r for r in assign_reasons(container, conv)
    )


# --- the routing action `team` -------------------------------------------------------------------


def team_rule(then: dict[str, Any]) -> Any:
    def change(config: dict[str, Any]) -> None:
        agent(config, "otto")["departments"] = ["first-line", "service"]
        rule = {"name": "to-outco", "when": {"keywords": ["teamcode"]}, "then": then, "stop": True}
        config["routing_rules"].insert(0, rule)

    return change


def test_team_narrows_assignment_to_that_teams_people(container: Container) -> None:
    apply_variant(container, team_rule({"department": "service", "team": "outco"}))
    conv = write(container, "team-1", "teamcode where is my order")
    # Sam and Sia are as free as Otto and come first by id; the rule wants OutCo's people.
    assert placed(container, conv) == ("service", "otto")
    with container.sessions() as session:
        conversation = session.get(Conversation, conv)
        assert conversation is not None and "team:outco" in conversation.tags


def test_team_without_a_department_goes_to_the_department_the_team_staffs(container: Container) -> None:
    apply_variant(container, team_rule({"team": "outco"}))
    conv = write(container, "team-2", "teamcode what time do you open?")  # a question: in OutCo's remit
    assert placed(container, conv) == ("first-line", "otto")


# --- purchase-stage overrides --------------------------------------------------------------------


def post_purchase(intent: str | None = None) -> TriageResult:
    return TriageResult(
        lang="en", sentiment="neutral", intent=intent, stage="post_purchase", urgency="normal"
    )


def decide(container: Container, triage: TriageResult) -> str:
    with container.sessions() as session:
        org = session.scalars(select(Organization)).one()
        account = session.scalars(select(ChannelAccount).where(ChannelAccount.key == "north-generic")).one()
        decision = container.pipeline.routing.decide(
            session,
            org_id=org.id,
            location_id=account.location_id,
            account=account,
            text="it arrived broken",
            triage=triage,
            contact={},
            open_count=0,
        )
    assert decision.department_source == "stage"
    return decision.department


def test_the_organisations_stage_overrides_choose_the_department(container: Container) -> None:
    assert decide(container, post_purchase()) == "service"  # the product's default
    apply_variant(container, lambda c: c["organization"].update(stage_departments={"post_purchase": "hr"}))
    assert decide(container, post_purchase()) == "hr"
    exported = app_config_export(container)
    assert exported["organization"]["stage_departments"] == {"post_purchase": "hr"}


def app_config_export(container: Container) -> dict[str, Any]:
    from relaydesk.config.service import export_config

    with container.sessions() as session:
        return export_config(session, "testco")


def test_stage_overrides_naming_unknown_stages_or_departments_are_refused() -> None:
    config = fixture_config()
    config["organization"]["stage_departments"] = {"after_sale": "service", "post_purchase": "nowhere"}
    result = load_config_text(config_text(config), "org.yaml", allow_plain_passwords=True)
    assert result.config is None
    problems = {p.field: p.message for p in result.errors}
    assert "unknown stage 'after_sale'" in problems["organization.stage_departments.after_sale"]
    assert "unknown department 'nowhere'" in problems["organization.stage_departments.post_purchase"]
