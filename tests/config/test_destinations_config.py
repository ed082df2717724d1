"""`notification_destinations:` in relaydesk.yaml: the URL stays a secret (from the environment,
sealed at rest, "***" in the export and kept when applied back), the page's name and URL rules,
and a file without the section leaves the browser's destinations alone."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from relaydesk.config.loader import load_config_text
from relaydesk.config.problems import ConfigApplyError
from relaydesk.config.schemas import OrgConfig
from relaydesk.config.service import apply_config, export_config
from relaydesk.db import transaction
from relaydesk.models import NotificationDestination
from tests.config.test_apply import BOX, ENV, ORG, apply, nonzero
from tests.config.test_loader import BASE, load, only

HOOK = "https://hooks.example.test/services/T0/pr-secret-path"
DESTINATIONS = """\
notification_destinations:
  - {name: pr-desk, url: "${PR_HOOK}"}
  - {name: night-shift, url: "https://hooks.example.test/T1/B2", active: false}
"""


def stored(factory: sessionmaker[Session]) -> dict[str, tuple[str, bool]]:
    with factory() as session:
        return {
            d.name: (BOX.open(d.url_secret)["url"], d.active)
            for d in session.scalars(select(NotificationDestination))
        }


def test_problems_are_located_in_the_section() -> None:
    result = load(
        BASE
        + "notification_destinations:\n"
        + "  - {name: PR Desk, url: 'https://ok.example'}\n"
        + "  - {name: ops, url: 'ftp://files.example'}\n"
        + "  - {name: ops, url: '${NOT_SET_ANYWHERE}'}\n"
    )
    assert "hyphens" in only(result, "notification_destinations[0].name").message
    assert "https://" in only(result, "notification_destinations[1].url").message
    problems = [p for p in result.problems if p.field.startswith("notification_destinations[2]")]
    assert {p.field for p in problems} == {
        "notification_destinations[2].name",
        "notification_destinations[2].url",
    }
    assert any("NOT_SET_ANYWHERE" in p.message for p in problems)


def test_apply_export_apply_back_keeps_the_secret(session_factory: sessionmaker[Session]) -> None:
    env = {**ENV, "PR_HOOK": HOOK}
    config = load_config_text(ORG + DESTINATIONS, env=env).config
    assert config is not None
    with transaction(session_factory) as session:
        apply_config(session, config, BOX, env=env)
    assert stored(session_factory) == {
        "pr-desk": (HOOK, True),
        "night-shift": ("https://hooks.example.test/T1/B2", False),
    }
    with session_factory() as session:
        raw = session.scalar(
            select(NotificationDestination.url_secret).where(NotificationDestination.name == "pr-desk")
        )
        exported = export_config(session, "acme")
    assert "pr-secret-path" not in (raw or "")  # sealed at rest
    assert exported["notification_destinations"] == [
        {"name": "night-shift", "url": "***", "active": False},
        {"name": "pr-desk", "url": "***"},
    ]
    with transaction(session_factory) as session:
        assert nonzero(apply_config(session, OrgConfig.model_validate(exported), BOX, env={})) == {}
    assert stored(session_factory)["pr-desk"] == (HOOK, True)
    # A file without the section leaves them; an empty list says "none".
    apply(session_factory, ORG)
    assert set(stored(session_factory)) == {"pr-desk", "night-shift"}
    summary = apply(session_factory, ORG + "notification_destinations: []\n")
    assert nonzero(summary) == {"deleted": {"notification_destinations": 2}}
    assert stored(session_factory) == {}


def test_keeping_an_address_that_was_never_stored_is_refused(session_factory: sessionmaker[Session]) -> None:
    config = OrgConfig.model_validate(
        {
            "organization": {"key": "acme", "name": "Acme"},
            "notification_destinations": [{"name": "x", "url": "***"}],
        }
    )
    try:
        with transaction(session_factory) as session:
            apply_config(session, config, BOX, env={})
    except ConfigApplyError as exc:
        assert "none is stored" in str(exc)
    else:
        raise AssertionError("applied a destination with no address")
    assert stored(session_factory) == {}
