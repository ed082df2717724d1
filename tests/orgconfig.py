"""Apply a variant of the test organisation (tests/fixtures/org.yaml) to a container's database."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from ruamel.yaml import YAML

from relaydesk.config.loader import load_config_text
from relaydesk.config.service import apply_config
from relaydesk.container import Container
from relaydesk.db import transaction
from tests.conftest import ORG_YAML


def fixture_config() -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load(ORG_YAML.read_text(encoding="utf-8"))
    return loaded


def config_text(config: dict[str, Any]) -> str:
    buffer = io.StringIO()
    YAML(typ="safe").dump(config, buffer)
    return buffer.getvalue()


def apply_variant(container: Container, change: Callable[[dict[str, Any]], None]) -> None:
    """The fixture organisation with `change` made to it, applied like `config apply` would."""
    config = fixture_config()
    change(config)
    result = load_config_text(config_text(config), "variant.yaml", allow_plain_passwords=True)
    assert result.config is not None, [str(p) for p in result.problems]
    with transaction(container.sessions) as session:
        summary = apply_config(session, result.config, container.box)
    assert summary.org_id is not None
    container.triage.invalidate(summary.org_id)


def agent(config: dict[str, Any], handle: str) -> dict[str, Any]:
    return next(a for a in config["agents"] if a.get("handle") == handle)


def policy(config: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in config["sla_policies"] if p["name"] == name)
