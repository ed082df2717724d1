"""A network identity (page id, user id, phone-number id, bot id...) belongs to one account of the
installation: another organisation cannot claim it and take over its webhooks (issue 8, item 1)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from relaydesk.channels import meta, x
from relaydesk.cli import config_cmd, demo
from relaydesk.config.loader import load_config_text
from relaydesk.config.sections import accounts as account_section
from relaydesk.config.service import apply_config
from relaydesk.container import Container
from relaydesk.db import transaction
from relaydesk.models import ChannelAccount, Department, Location, Message, Organization
from tests.api.conftest import login
from tests.channels.accounts import add_accounts

FIXTURES = Path(__file__).resolve().parents[1] / "channels" / "fixtures"
PAGE, X_USER = "104523781234567", "2244994945"  # the ids the webhook fixtures are addressed to

ATTACKER = """\
organization: {key: evilco, name: Evil Co}
locations:
  - {key: lair, kind: location, name: Lair}
departments:
  - {key: service, name: Service, default: true}
agents:
  - {email: mallory@evil.example, name: Mallory, handle: mallory, role: admin, password: relaydesk}
accounts:
  - {key: own-page, network: facebook, handle: evil, external_id: "999000111", location: lair,
     credentials: {app_secret: evil-meta-secret}}
"""
HIJACK = """\
  - {key: stolen-page, network: facebook, handle: victim, external_id: "104523781234567", location: lair,
     credentials: {app_secret: evil-meta-secret}}
  - {key: stolen-x, network: x, handle: victim, external_id: "2244994945", location: lair,
     credentials: {consumer_secret: evil-x-secret}}
departments:
  - {key: service, name: Service, default: true}
  - {key: loot, name: Loot}
"""


def attacker_yaml(with_hijack: bool) -> str:
    if not with_hijack:
        return ATTACKER
    return ATTACKER.replace("departments:\n  - {key: service, name: Service, default: true}\n", "").replace(
        "credentials: {app_secret: evil-meta-secret}}\n",
        "credentials: {app_secret: evil-meta-secret}}\n" + HIJACK,
        1,
    )


def apply_yaml(container: Container, yaml_text: str) -> None:
    result = load_config_text(textwrap.dedent(yaml_text), allow_plain_passwords=True)
    assert result.config is not None, [str(p) for p in result.problems]
    with transaction(container.sessions) as session:
        apply_config(session, result.config, container.box)


@pytest.fixture
def victim(container: Container) -> dict[str, int]:
    """The test organisation's Facebook page and X user, the identities the attacker wants."""
    return add_accounts(
        container,
        "victim-",
        {
            "fb": ("facebook", PAGE, {"app_secret": "victim-meta-secret"}),
            "x": ("x", X_USER, {"consumer_secret": "victim-x-secret"}),
        },
    )


@pytest.fixture
def attacker(container: Container) -> None:
    """Another organisation of the same installation, with an admin and a page of its own."""
    apply_yaml(container, ATTACKER)


def stored(container: Container, account_id: int) -> int:
    with container.sessions() as session:
        return int(
            session.scalar(select(func.count(Message.id)).where(Message.account_id == account_id)) or 0
        )


def holders(container: Container, network: str, external_id: str) -> list[tuple[str, str]]:
    with container.sessions() as session:
        rows = session.execute(
            select(Organization.key, ChannelAccount.key)
            .join(Organization, Organization.id == ChannelAccount.org_id)
            .where(ChannelAccount.network == network, ChannelAccount.external_id == external_id)
        )
        return [(org, key) for org, key in rows]


def assert_victim_webhooks_still_route_to_the_victim(
    client: TestClient, container: Container, victim: dict[str, int]
) -> None:
    body = (FIXTURES / "meta" / "page_messaging.json").read_bytes()
    response = client.post(
        "/webhooks/meta", content=body, headers={"X-Hub-Signature-256": meta.sign(body, "victim-meta-secret")}
    )
    assert response.status_code == 200, response.text
    assert stored(container, victim["fb"]) >= 1
    tweet = (FIXTURES / "x" / "tweet_create.json").read_bytes()
    response = client.post(
        "/webhooks/x",
        content=tweet,
        headers={"x-twitter-webhooks-signature": x.signature(tweet, "victim-x-secret")},
    )
    assert response.status_code == 200, response.text
    assert stored(container, victim["x"]) >= 1


def assert_conflict_named_without_the_holder(detail: str) -> None:
    assert f"facebook page {PAGE} is already connected to another organisation" in detail
    assert f"x user {X_USER} is already connected to another organisation" in detail
    assert "accounts.stolen-page.external_id" in detail
    for secret in ("testco", "Test Co", "victim-fb", "victim-x"):
        assert secret not in detail


# -- through the API -----------------------------------------------------------------------------


def test_put_config_claiming_another_orgs_identities_is_409_and_webhooks_stay_with_the_victim(
    app_client: TestClient, container: Container, victim: dict[str, int], attacker: None
) -> None:
    mallory = login(app_client, "mallory@evil.example")
    response = app_client.put("/api/v1/config", content=attacker_yaml(with_hijack=True), headers=mallory)

    assert response.status_code == 409, response.text
    assert_conflict_named_without_the_holder(response.json()["detail"])
    assert holders(container, "facebook", PAGE) == [("testco", "victim-fb")]
    assert holders(container, "x", X_USER) == [("testco", "victim-x")]
    with container.sessions() as session:
        # All or nothing: the rest of the refused file was not applied either.
        assert session.scalars(select(Department).where(Department.key == "loot")).first() is None
    assert_victim_webhooks_still_route_to_the_victim(app_client, container, victim)
    # The attacker's own config, without the stolen identities, still applies.
    assert app_client.put("/api/v1/config", content=ATTACKER, headers=mallory).status_code == 200


def test_a_concurrent_claim_that_passes_the_check_is_refused_by_the_constraint(
    app_client: TestClient,
    container: Container,
    victim: dict[str, int],
    attacker: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As if the victim's apply committed between the attacker's check and its write: the first
    # check sees nothing, later ones see the database as it is.
    check = account_section.refuse_foreign_claims
    checks: list[int] = []

    def first_check_misses(applier: Any, claims: Any) -> None:
        checks.append(1)
        if len(checks) > 1:
            check(applier, claims)

    monkeypatch.setattr(account_section, "refuse_foreign_claims", first_check_misses)
    mallory = login(app_client, "mallory@evil.example")
    response = app_client.put("/api/v1/config", content=attacker_yaml(with_hijack=True), headers=mallory)

    assert response.status_code == 409, response.text
    assert_conflict_named_without_the_holder(response.json()["detail"])
    assert len(checks) == 2
    assert holders(container, "facebook", PAGE) == [("testco", "victim-fb")]
    assert_victim_webhooks_still_route_to_the_victim(app_client, container, victim)


# -- through `relaydesk config apply` ------------------------------------------------------------------


def test_cli_config_apply_claiming_another_orgs_identities_exits_2(
    app_client: TestClient,
    container: Container,
    victim: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    @contextmanager
    def opened(*_args: Any, **_kwargs: Any) -> Iterator[Container]:
        yield container

    monkeypatch.setattr(config_cmd, "opened", opened)
    path = tmp_path / "evil.yaml"
    path.write_text(attacker_yaml(with_hijack=True), encoding="utf-8")

    result = CliRunner().invoke(config_cmd.app, ["apply", str(path)])

    assert result.exit_code == 2, result.output
    output = " ".join(result.output.split())  # Rich wraps long lines
    assert_conflict_named_without_the_holder(output)
    with container.sessions() as session:
        assert session.scalars(select(Organization).where(Organization.key == "evilco")).first() is None
    assert holders(container, "facebook", PAGE) == [("testco", "victim-fb")]
    assert_victim_webhooks_still_route_to_the_victim(app_client, container, victim)


# -- the database itself -------------------------------------------------------------------------------


def test_the_database_refuses_a_second_holder_of_an_identity_but_not_of_null(
    container: Container, victim: dict[str, int], attacker: None
) -> None:
    with container.sessions() as session:
        lair = session.scalars(select(Location).where(Location.key == "lair")).one()
        org_id, location_id = lair.org_id, lair.id

    def insert(key: str, network: str, external_id: str | None) -> None:
        with transaction(container.sessions) as session:
            session.add(
                ChannelAccount(
                    org_id=org_id,
                    location_id=location_id,
                    key=key,
                    network=network,
                    handle=key,
                    external_id=external_id,
                    active=False,  # even an inactive account may not hold a taken identity
                )
            )

    with pytest.raises(IntegrityError):
        insert("stolen", "facebook", PAGE)
    insert("not-yet-1", "facebook", None)
    insert("not-yet-2", "facebook", None)
    insert("same-id-other-network", "instagram", PAGE)
    assert holders(container, "facebook", PAGE) == [("testco", "victim-fb")]


# -- within one organisation -----------------------------------------------------------------------


def accounts_of(container: Container, org_key: str) -> dict[str, tuple[str | None, bool]]:
    with container.sessions() as session:
        rows = session.scalars(
            select(ChannelAccount)
            .join(Organization, Organization.id == ChannelAccount.org_id)
            .where(Organization.key == org_key)
        )
        return {row.key: (row.external_id, row.active) for row in rows}


def test_an_identity_moves_to_another_account_key_of_the_same_org(
    app_client: TestClient, container: Container, attacker: None
) -> None:
    renamed = ATTACKER.replace("key: own-page,", "key: renamed-page,")
    apply_yaml(container, renamed)

    accounts = accounts_of(container, "evilco")
    assert accounts["renamed-page"] == ("999000111", True)
    # The old key stays (its history) but switched off and without the identity.
    assert accounts["own-page"] == (None, False)
    body = (FIXTURES / "meta" / "page_messaging.json").read_bytes().replace(PAGE.encode(), b"999000111")
    response = app_client.post(
        "/webhooks/meta", content=body, headers={"X-Hub-Signature-256": meta.sign(body, "evil-meta-secret")}
    )
    assert response.status_code == 200, response.text
    with container.sessions() as session:
        renamed_id = session.scalars(
            select(ChannelAccount.id).where(ChannelAccount.key == "renamed-page")
        ).one()
    assert stored(container, renamed_id) >= 1


def test_two_accounts_of_one_org_swap_identities_in_one_apply(container: Container, attacker: None) -> None:
    two = ATTACKER + (
        '  - {key: second, network: facebook, handle: two, external_id: "999000222", location: lair}\n'
    )
    apply_yaml(container, two)
    swapped = (
        two.replace('"999000111"', '"tmp"')
        .replace('"999000222"', '"999000111"')
        .replace('"tmp"', '"999000222"')
    )
    apply_yaml(container, swapped)

    accounts = accounts_of(container, "evilco")
    assert accounts["own-page"] == ("999000222", True)
    assert accounts["second"] == ("999000111", True)


def test_loading_the_demo_beside_an_org_holding_its_page_id_exits_2(
    container: Container, attacker: None
) -> None:
    apply_yaml(container, ATTACKER.replace('"999000111"', '"100000000000001"'))  # the demo's page id

    with pytest.raises(typer.Exit) as exited:
        demo.run_demo(container, quiet=True)

    assert exited.value.exit_code == 2
    with container.sessions() as session:
        assert session.scalars(select(Organization).where(Organization.key == "saffron")).first() is None
