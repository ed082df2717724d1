"""Crisis alerts over the API: the same service as the /alerts pages, the same limits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from relaydesk.core.errors import Conflict
from relaydesk.crisis.alert_service import alert_service
from relaydesk.crisis.playbook_service import playbook_service
from relaydesk.crisis.schemas import (
    AlertActionIn,
    AlertDetailOut,
    AlertOut,
    HoldingStatementsIn,
    PlaybookIn,
    PlaybookOut,
    TopicOut,
)
from relaydesk.crisis.topic_service import alert_topics
from relaydesk.db import reading, transaction
from relaydesk.deps import ContainerDep, ScopeDep

router = APIRouter(prefix="/api/v1/alerts", tags=["crisis alerts"])


@router.get("", response_model=list[AlertOut])
def list_alerts(
    container: ContainerDep,
    scope: ScopeDep,
    status: Annotated[str, Query(pattern="^(|open|acknowledged|resolved)$")] = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[AlertOut]:
    """Newest activity first, 50 a page; without `status` the ones not resolved yet."""
    with reading(container.sessions) as session:
        return alert_service.page(session, scope, status, offset)[0]


@router.get("/playbook", response_model=PlaybookOut)
def get_playbook(
    container: ContainerDep, scope: ScopeDep, place: Annotated[str, Query(max_length=64)] = ""
) -> PlaybookOut:
    """The playbook of a brand (its key) or, without `place`, of the whole organisation; `own` says
    whether the brand has its own or follows the organisation's."""
    with reading(container.sessions) as session:
        return playbook_service.get(session, scope, place or None)


@router.put("/playbook", response_model=PlaybookOut)
def put_playbook(
    body: PlaybookIn,
    container: ContainerDep,
    scope: ScopeDep,
    place: Annotated[str, Query(max_length=64)] = "",
) -> PlaybookOut:
    """Who is told (departments, webhooks), whether replies wait for approval while an alert is open,
    the default holding statements and the organisation's own trigger phrases."""
    with transaction(container.sessions) as session:
        return playbook_service.put(session, scope, place or None, body)


@router.get("/{alert_id}", response_model=AlertDetailOut)
def get_alert(alert_id: int, container: ContainerDep, scope: ScopeDep) -> AlertDetailOut:
    with reading(container.sessions) as session:
        return alert_service.get(session, scope, alert_id)


@router.get("/{alert_id}/topics", response_model=list[TopicOut])
def get_alert_topics(alert_id: int, container: ContainerDep, scope: ScopeDep) -> list[TopicOut]:
    """The messages behind the alert (those the caller may read) grouped by meaning across
    languages, largest first, each with its most telling words per language. 409 without the
    triage model (the keyword triager reads no meaning)."""
    with reading(container.sessions) as session:
        found = alert_topics(session, scope, alert_id)
    if found is None:
        raise Conflict("topics need the triage model; this installation runs the keyword triager")
    topics, ids = found
    return [
        TopicOut(messages=[ids[i] for i in t.members], terms={k: list(v) for k, v in t.terms.items()})
        for t in topics
    ]


@router.post("/{alert_id}/actions", response_model=AlertOut)
def act_on_alert(alert_id: int, body: AlertActionIn, container: ContainerDep, scope: ScopeDep) -> AlertOut:
    """acknowledge, escalate (tells the owners and admins again), resolve, reopen; 409 when the
    alert is not in a state for it."""
    with transaction(container.sessions) as session:
        return alert_service.act(session, scope, alert_id, body.action, body.note)


@router.put("/{alert_id}/statements", response_model=AlertOut)
def put_statements(
    alert_id: int, body: HoldingStatementsIn, container: ContainerDep, scope: ScopeDep
) -> AlertOut:
    """The holding statement per language, offered in the reply box of the conversations under the alert."""
    with transaction(container.sessions) as session:
        return alert_service.set_statements(session, scope, alert_id, body.statements)
