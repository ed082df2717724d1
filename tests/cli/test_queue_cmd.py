"""`relaydesk queue status|dead|retry` on the test database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from relaydesk.cli import common, main, queue_cmd
from relaydesk.container import Container
from relaydesk.models import Message, WorkItem
from tests.api.test_reply_idempotency import add_other_org
from tests.api.test_work_api import bury
from tests.pipeline.test_pipeline import account_id, event

runner = CliRunner()


@pytest.fixture
def cli(container: Container, monkeypatch: pytest.MonkeyPatch) -> Container:
    """The commands open the test container instead of the configured database."""

    @contextmanager
    def opened(*_args: Any, **_kwargs: Any) -> Iterator[Container]:
        yield container

    monkeypatch.setattr(queue_cmd, "opened", opened)
    monkeypatch.setenv("COLUMNS", "200")
    # Rich may have fixed the shared console's width before COLUMNS was set (another test ran first).
    monkeypatch.setattr(common.console, "width", 200)
    container.pipeline._wakers.clear()  # accepted work stays queued until a command retries it
    return container


def queued(container: Container, account_key: str, external_id: str) -> int:
    accepted = container.pipeline.accept(
        account_id(container, account_key), event(external_id, "Where is my order?", author=external_id)
    )
    return accepted.message_id


def state_of(container: Container, item_id: int) -> str | None:
    with container.sessions() as session:
        return session.scalar(select(WorkItem.state).where(WorkItem.id == item_id))


def test_status_dead_and_retry(cli: Container) -> None:
    add_other_org(cli)
    first = queued(cli, "north-generic", "c1")
    second = queued(cli, "north-generic", "c2")
    queued(cli, "north-generic", "c3")
    theirs = queued(cli, "other-generic", "c4")
    dead = bury(cli, first, "ValueError: [bold]not markup[/bold]")
    other_dead = bury(cli, theirs)

    shown = runner.invoke(main.app, ["queue", "status"])
    assert shown.exit_code == 0, shown.output
    assert "pending: 2 (the oldest waiting" in shown.output and "dead: 2" in shown.output
    as_json = json.loads(runner.invoke(main.app, ["queue", "status", "--org", "otherco", "--json"]).output)
    assert (as_json["pending"], as_json["dead"], as_json["oldest_pending_at"]) == (0, 1, None)

    listed = runner.invoke(main.app, ["queue", "dead", "--org", "testco"])
    assert listed.exit_code == 0, listed.output
    assert "[bold]not markup[/bold]" in listed.output and str(first) in listed.output
    assert "otherco" not in listed.output
    everyone = runner.invoke(main.app, ["queue", "dead"]).output
    assert "testco" in everyone and "otherco" in everyone

    # Naming an item that is not set aside (here: another org's) retries nothing at all.
    refused = runner.invoke(main.app, ["queue", "retry", "--org", "testco", str(dead), str(other_dead)])
    assert refused.exit_code == 2
    assert (
        f"no set-aside work item {other_dead} of organisation 'testco'; nothing was retried" in refused.output
    )
    assert state_of(cli, dead) == "dead"

    retried = runner.invoke(main.app, ["queue", "retry", "--org", "testco", str(dead)])
    assert retried.exit_code == 0, retried.output
    assert f"retried 1: {dead}" in retried.output
    assert state_of(cli, dead) == "pending" and state_of(cli, other_dead) == "dead"
    assert runner.invoke(main.app, ["queue", "retry"]).output.strip() == f"retried 1: {other_dead}"
    assert "nothing to retry" in runner.invoke(main.app, ["queue", "retry"]).output
    cli.pipeline.drain()
    with cli.sessions() as session:
        assert session.scalar(select(Message.processed_at).where(Message.id == second)) is not None
    assert "pending: 0\ndead: 0" in runner.invoke(main.app, ["queue", "status"]).output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["queue", "status", "--org", "nope"], "--org: no organisation with key 'nope'"),
        (["queue", "dead", "--org", "nope"], "--org: no organisation with key 'nope'"),
        (["queue", "retry", "--org", "nope"], "--org: no organisation with key 'nope'"),
        (["queue", "retry", "x"], "Invalid value for 'ids': Input should be a valid integer"),
        (["queue", "retry", "0"], "Invalid value for 'ids': Input should be greater than or equal to 1"),
        (["queue", "retry", "9" * 20], "Invalid value for 'ids': Input should be less than or equal to"),
        (["queue", "retry", "424242"], "no set-aside work item 424242; nothing was retried"),
        (["queue", "dead", "--limit", "0"], "Invalid value for '--limit': Input should be greater than"),
    ],
)
def test_bad_input_exits_2_with_what_is_wrong(cli: Container, args: list[str], message: str) -> None:
    result = runner.invoke(main.app, args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.replace("│", " ").split()), result.output
    assert "Traceback" not in result.output
