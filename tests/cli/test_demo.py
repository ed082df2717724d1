"""The demo is loaded once: starting again (`make run` = `init --demo` + `serve`) keeps what the
organisation changed; only the explicit `relaydesk demo --reset` puts demo.yaml back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from relaydesk.cli.demo import describe_discard, init_demo, run_demo
from relaydesk.config.endpoints import dump_yaml
from relaydesk.config.service import ApplySummary
from relaydesk.container import Container
from relaydesk.models import Message, Organization
from tests.api.conftest import login
from tests.cli.test_cli import relaydesk_in_process as relaydesk

OWNER = "owner@saffron.example"


@pytest.fixture
def bare_container(engine: Engine, tmp_path: Path) -> Iterator[Container]:
    """A container on an empty test database (no organisation), as a fresh install has."""
    from relaydesk.container import build_container
    from relaydesk.pipeline.bus.inproc import InProcessBus
    from relaydesk.settings import Settings
    from relaydesk.triage.lexicon import LexiconTriager

    settings = Settings(
        database_url=str(engine.url), data_dir=tmp_path, secret_key="test-secret-key", background_tasks=False
    )
    built = build_container(settings, engine=engine, triager=LexiconTriager(), bus=InProcessBus())
    yield built
    built.bus.close()


def _config(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get("/api/v1/config", headers=headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _change_four_things(config: dict[str, Any]) -> None:
    """What the issue's user changed: the default SLA, an agent's shift, a routing rule, an FAQ."""
    default = next(p for p in config["sla_policies"] if p["name"] == "default")
    default["first_response_minutes"] = 45
    reza = next(a for a in config["agents"] if a["handle"] == "reza")
    reza["shifts"] = [{"days": ["sat", "sun"], "start": "10:00", "end": "18:00"}]
    leads = next(r for r in config["routing_rules"] if r["name"] == "leads")
    leads["then"]["priority"] = "urgent"
    config["faq"].append(
        {"key": "parking", "language": "en", "question": "Can I park?", "answer": "Yes, behind the café."}
    )


def _four_things(config: dict[str, Any]) -> tuple[Any, ...]:
    default = next(p for p in config["sla_policies"] if p["name"] == "default")
    reza = next(a for a in config["agents"] if a["handle"] == "reza")
    leads = next(r for r in config["routing_rules"] if r["name"] == "leads")
    return (
        default["first_response_minutes"],
        reza["shifts"],
        leads["then"]["priority"],
        "parking" in {f["key"] for f in config["faq"]},
    )


CHANGED = (45, [{"days": ["sat", "sun"], "start": "10:00", "end": "18:00"}], "urgent", True)
AS_IN_DEMO_YAML = (
    60,
    [{"days": ["sat", "sun", "mon", "tue", "wed", "thu"], "start": "08:00", "end": "16:00"}],
    "high",
    False,
)


def test_init_demo_again_keeps_what_the_organisation_changed(
    bare_container: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    container = bare_container
    init_demo(container)
    assert "demo organisation loaded" in capsys.readouterr().out
    with container.sessions() as session:
        messages = session.scalar(select(func.count(Message.id)))
    with TestClient(create_app(container)) as client:
        owner = login(client, OWNER)
        config = _config(client, owner)
        assert _four_things(config) == AS_IN_DEMO_YAML
        _change_four_things(config)
        applied = client.put("/api/v1/config", content=dump_yaml(config), headers=owner)
        assert applied.status_code == 200 and applied.json()["applied"] is True, applied.text

        init_demo(container)  # the next `make run`
        assert "demo organisation already present; not reloading it" in capsys.readouterr().out
        assert _four_things(_config(client, owner)) == CHANGED

        run_demo(container, quiet=True)  # `relaydesk demo`: replays the stream, settings untouched
        assert _four_things(_config(client, owner)) == CHANGED
        with container.sessions() as session:
            assert session.scalar(select(func.count(Message.id))) == messages  # nothing replayed twice

        run_demo(container, quiet=True, reset=True, yes=True)  # the deliberate reset
        said = capsys.readouterr().out
        assert "put back as in demo.yaml" in said and "deleted (not in demo.yaml): 1 faq" in said
        assert _four_things(_config(client, owner)) == AS_IN_DEMO_YAML


def test_init_demo_never_loads_the_demo_into_a_database_in_use(
    container: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make run` over a database that holds another organisation adds no demo to it."""
    init_demo(container)
    assert "not loading the demo" in capsys.readouterr().out
    with container.sessions() as session:
        assert session.scalars(select(Organization.key)).all() == ["testco"]


def test_describe_discard_names_each_kind_of_change() -> None:
    summary = ApplySummary()
    summary.updated.update(sla_policies=1, agents=1, routing_rules=1)
    summary.deleted.update(faq=1)
    assert describe_discard(summary) == [
        "put back as in demo.yaml: 1 agents, 1 routing rules, 1 sla policies",
        "deleted (not in demo.yaml): 1 faq",
    ]
    assert describe_discard(ApplySummary()) == []


def test_demo_reset_says_what_it_discards_and_asks_first(tmp_path: Path) -> None:
    """Through the real command: no answer (or "n") changes nothing; "y" resets."""
    assert relaydesk(tmp_path, "init", "--demo").returncode == 0
    again = relaydesk(tmp_path, "init", "--demo")
    assert again.returncode == 0 and "demo organisation already present" in again.stdout
    exported = relaydesk(tmp_path, "config", "export", "--org", "saffron")
    assert exported.returncode == 0, exported.stderr
    config = json.loads(exported.stdout)
    _change_four_things(config)
    (tmp_path / "changed.yaml").write_text(dump_yaml(config), encoding="utf-8")
    applied = relaydesk(tmp_path, "config", "apply", str(tmp_path / "changed.yaml"))
    assert applied.returncode == 0, applied.stdout + applied.stderr

    declined = relaydesk(tmp_path, "demo", "--reset", "--quiet", stdin="n\n")
    assert declined.returncode == 1
    assert "It discards:" in declined.stdout and "1 faq" in declined.stdout
    assert "nothing changed" in declined.stdout
    unanswered = relaydesk(tmp_path, "demo", "--reset", "--quiet", stdin="")
    assert unanswered.returncode == 1 and "nothing changed" in unanswered.stdout
    kept = relaydesk(tmp_path, "config", "export", "--org", "saffron")
    assert _four_things(json.loads(kept.stdout)) == CHANGED

    confirmed = relaydesk(tmp_path, "demo", "--reset", "--quiet", stdin="y\n")
    assert confirmed.returncode == 0, confirmed.stderr
    assert "demo organisation reset to demo.yaml" in confirmed.stdout
    reset = relaydesk(tmp_path, "config", "export", "--org", "saffron")
    assert _four_things(json.loads(reset.stdout)) == AS_IN_DEMO_YAML


def create_app(container: Container) -> Any:
    from relaydesk.app import create_app as factory

    return factory(container.settings, container)


def test_the_demo_names_the_address_the_server_listens_on() -> None:
    from relaydesk.cli.demo import server_url
    from relaydesk.settings import Settings

    assert server_url(Settings(port=8731)) == "http://127.0.0.1:8731"
    assert server_url(Settings(host="0.0.0.0", port=9000)) == "http://127.0.0.1:9000"
    assert server_url(Settings(host="10.1.2.3", port=80)) == "http://10.1.2.3:80"
