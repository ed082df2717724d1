"""The work queue for admins: counts, set-aside (dead) messages and their retry, per organisation."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from relaydesk.container import Container
from relaydesk.db import transaction
from relaydesk.models import Location, Message, User, WorkItem
from tests.api.conftest import login
from tests.api.test_reply_idempotency import add_other_org
from tests.api.test_webhook_and_inbox import account, post_signed


def accept_queued(client: TestClient, container: Container, key: str, secret: str, msg_id: str) -> int:
    """Accept a message whose work stays in the queue (nobody processes it); its message id."""
    payload = {"id": msg_id, "author": {"id": f"author-{msg_id}"}, "text": "Where is my order?"}
    account_id = account(container, key)
    response = post_signed(client, account_id, payload, secret)
    assert response.status_code == 202, response.text  # type: ignore[attr-defined]
    # Nobody woke up: the event waits in the intake queue, not yet a message.
    assert response.json()["accepted"][0]["message_id"] is None  # type: ignore[attr-defined]
    assert container.pipeline.materialise() == 1
    with container.sessions() as session:
        return int(
            session.scalars(
                select(Message.id).where(Message.account_id == account_id, Message.external_id == msg_id)
            ).one()
        )


def bury(container: Container, message_id: int, error: str = "ValueError: a rule cannot read it") -> int:
    """Set the message's work aside as the pipeline does after its fifth failure; the item's id."""
    with transaction(container.sessions) as session:
        session.execute(
            update(WorkItem)
            .where(WorkItem.message_id == message_id)
            .values(state="dead", attempts=5, last_error=error)
        )
        return int(session.scalars(select(WorkItem.id).where(WorkItem.message_id == message_id)).one())


def processed(container: Container, message_id: int) -> bool:
    with container.sessions() as session:
        return session.scalar(select(Message.processed_at).where(Message.id == message_id)) is not None


def test_an_admin_lists_and_retries_the_dead_items_of_their_org_only(
    app_client: TestClient, container: Container
) -> None:
    add_other_org(container)
    wakers = list(container.pipeline._wakers)
    container.pipeline._wakers.clear()
    ours = [accept_queued(app_client, container, "north-generic", "north-secret", f"d{n}") for n in range(3)]
    theirs = accept_queued(app_client, container, "other-generic", "other-secret", "o1")
    dead = [bury(container, ours[0]), bury(container, ours[1], "Boom: <script>x</script>")]
    their_dead = bury(container, theirs)
    admin, olga = login(app_client, "admin@test.example"), login(app_client, "olga@other.example")

    stats = app_client.get("/api/v1/work/stats", headers=admin)
    assert stats.status_code == 200, stats.text
    assert {k: stats.json()[k] for k in ("pending", "dead")} == {"pending": 1, "dead": 2}
    assert stats.json()["oldest_pending_age_seconds"] >= 0 and stats.json()["oldest_pending_at"]

    listed = app_client.get("/api/v1/work/dead", headers=admin)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [(i["id"], i["message_id"], i["attempts"]) for i in items] == [
        (dead[0], ours[0], 5),
        (dead[1], ours[1], 5),
    ]
    assert items[1]["last_error"] == "Boom: <script>x</script>" and items[0]["conversation_id"]
    assert listed.json()["next_after"] is None
    page = app_client.get("/api/v1/work/dead", params={"limit": 1}, headers=admin).json()
    assert [i["id"] for i in page["items"]] == [dead[0]] and page["next_after"] == dead[0]
    rest = app_client.get("/api/v1/work/dead", params={"after": dead[0]}, headers=admin).json()
    assert [i["id"] for i in rest["items"]] == [dead[1]]

    # The other organisation's admin sees none of it, and cannot retry it by id.
    assert [i["id"] for i in app_client.get("/api/v1/work/dead", headers=olga).json()["items"]] == [
        their_dead
    ]
    assert app_client.get("/api/v1/work/stats", headers=olga).json()["dead"] == 1
    refused = app_client.post("/api/v1/work/dead/retry", json={"ids": [dead[0]]}, headers=olga)
    assert refused.status_code == 200 and refused.json() == {"retried": [], "not_retried": [dead[0]]}

    container.pipeline._wakers.extend(wakers)  # the retry wakes the workers (here: drains inline)
    one = app_client.post("/api/v1/work/dead/retry", json={"ids": [dead[1], their_dead]}, headers=admin)
    assert one.status_code == 200, one.text
    assert one.json() == {"retried": [dead[1]], "not_retried": [their_dead]}
    assert processed(container, ours[1]) and processed(container, ours[2])
    assert not processed(container, ours[0]) and not processed(container, theirs)
    everything = app_client.post("/api/v1/work/dead/retry", headers=admin)
    assert everything.json() == {"retried": [dead[0]], "not_retried": []}
    assert processed(container, ours[0]) and not processed(container, theirs)
    assert app_client.get("/api/v1/work/stats", headers=admin).json() == {
        "pending": 0,
        "oldest_pending_at": None,
        "oldest_pending_age_seconds": 0.0,
        "dead": 0,
    }
    with container.sessions() as session:
        assert session.scalar(select(WorkItem.state).where(WorkItem.id == their_dead)) == "dead"


def test_agents_may_not_see_or_retry_the_queue_and_bad_input_is_a_clear_422(
    app_client: TestClient, container: Container
) -> None:
    agent = login(app_client, "sam@test.example")
    for method, path in (
        ("GET", "/api/v1/work/stats"),
        ("GET", "/api/v1/work/dead"),
        ("POST", "/api/v1/work/dead/retry"),
    ):
        answer = app_client.request(method, path, headers=agent)
        assert answer.status_code == 403, path
        assert answer.json()["detail"] == "only owners and admins can see and retry the work queue"
        assert app_client.request(method, path).status_code == 401
    admin = login(app_client, "admin@test.example")
    for body, field in (
        ({"ids": []}, "ids"),
        ({"ids": [0]}, "ids[0]"),
        ({"ids": ["x"]}, "ids[0]"),
        ({"ids": [2**63]}, "ids[0]"),
        ({"ids": list(range(1, 1002))}, "ids"),
        ({"id": [1]}, "id"),
    ):
        answer = app_client.post("/api/v1/work/dead/retry", json=body, headers=admin)
        assert answer.status_code == 422, body
        assert answer.json()["detail"].startswith(f"body.{field}"), answer.json()
    assert app_client.get("/api/v1/work/dead", params={"limit": 0}, headers=admin).status_code == 422
    assert app_client.get("/api/v1/work/dead", params={"after": "9" * 20}, headers=admin).status_code == 422


def test_an_admin_of_one_region_sees_only_its_dead_items(
    app_client: TestClient, container: Container
) -> None:
    container.pipeline._wakers.clear()
    north = accept_queued(app_client, container, "north-generic", "north-secret", "n1")
    south = accept_queued(app_client, container, "south-generic", "south-secret", "s1")
    north_item, south_item = bury(container, north), bury(container, south)
    with transaction(container.sessions) as session:
        admin_row = session.scalars(select(User).where(User.email == "admin@test.example")).one()
        admin_row.location_id = session.scalars(select(Location.id).where(Location.key == "south")).one()
    admin = login(app_client, "admin@test.example")
    assert [i["id"] for i in app_client.get("/api/v1/work/dead", headers=admin).json()["items"]] == [
        south_item
    ]
    assert app_client.get("/api/v1/work/stats", headers=admin).json()["dead"] == 1
    retried = app_client.post("/api/v1/work/dead/retry", headers=admin).json()
    assert retried == {"retried": [south_item], "not_retried": []}
    with container.sessions() as session:
        assert session.scalar(select(WorkItem.state).where(WorkItem.id == north_item)) == "dead"


def test_dead_items_page_with_the_cursor_every_list_uses(
    app_client: TestClient, container: Container
) -> None:
    container.pipeline._wakers.clear()
    ours = [accept_queued(app_client, container, "north-generic", "north-secret", f"c{n}") for n in range(3)]
    dead = [bury(container, message_id) for message_id in ours]
    admin = login(app_client, "admin@test.example")
    seen: list[int] = []
    cursor: str | None = None
    for _ in range(3):
        params: dict[str, str | int] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = app_client.get("/api/v1/work/dead", params=params, headers=admin).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == dead
    first = app_client.get("/api/v1/work/dead", params={"limit": 1}, headers=admin).json()
    both = {"cursor": first["next_cursor"], "after": dead[0]}
    assert app_client.get("/api/v1/work/dead", params=both, headers=admin).status_code == 400
    for bad, status in (("not-a-cursor", 400), ("x" * 500, 422)):
        answer = app_client.get("/api/v1/work/dead", params={"cursor": bad}, headers=admin)
        assert answer.status_code == status, bad
        assert "cursor" in answer.text
