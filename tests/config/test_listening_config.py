"""`listening:` in relaydesk.yaml: checked as the page checks it, applied, exported and applied back
unchanged; a file without the section leaves the queries (made in the browser) alone; the poller's
cursor survives an apply."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from relaydesk.config.schemas import OrgConfig
from relaydesk.config.service import apply_config, export_config
from relaydesk.db import transaction
from relaydesk.models import ListeningQuery
from tests.config.test_apply import BOX, ORG, apply, nonzero
from tests.config.test_loader import BASE, load, only

LISTENING = """\
listening:
  - name: Acme brand
    keywords: [acme coffee, "@acmecoffee", قهوه اکمه]
    exclude: [acme anvil]
    languages: [fa, EN]
    networks: [x]
    location: acme
  - {name: paused one, keywords: [espresso], active: false}
"""


def queries(factory: sessionmaker[Session]) -> dict[str, ListeningQuery]:
    with factory() as session:
        return {q.name: q for q in session.scalars(select(ListeningQuery))}


def test_problems_are_located_in_the_section() -> None:
    result = load(
        BASE
        + "listening:\n"
        + "  - {name: a, keywords: [ok], languages: ['??']}\n"
        + "  - {name: b, keywords: [ok, ' '], location: nowhere}\n"
        + "  - {name: a, keywords: [again]}\n"
    )
    assert "not a language code" in only(result, "listening[0].languages[0]").message
    assert "must not be empty" in only(result, "listening[1].keywords[1]").message
    assert "nowhere" in only(result, "listening[1].location").message
    assert only(result, "listening[2].name").message


def test_apply_export_apply_back_and_a_file_without_the_section(
    session_factory: sessionmaker[Session],
) -> None:
    apply(session_factory, ORG + LISTENING)
    rows = queries(session_factory)
    brand = rows["Acme brand"]
    assert brand.keywords == ["acme coffee", "@acmecoffee", "قهوه اکمه"] and brand.languages == ["en", "fa"]
    assert brand.brand_location_id is not None and not rows["paused one"].active
    with transaction(session_factory) as session:
        session.get(ListeningQuery, brand.id).cursor = {"x": "1900"}  # type: ignore[union-attr]
    with session_factory() as session:
        exported = export_config(session, "acme")
    assert exported["listening"] == [
        {
            "name": "Acme brand",
            "keywords": ["acme coffee", "@acmecoffee", "قهوه اکمه"],
            "exclude": ["acme anvil"],
            "languages": ["en", "fa"],
            "networks": ["x"],
            "location": "acme",
        },
        {"name": "paused one", "keywords": ["espresso"], "active": False},
    ]
    with transaction(session_factory) as session:
        assert nonzero(apply_config(session, OrgConfig.model_validate(exported), BOX, env={})) == {}
    assert queries(session_factory)["Acme brand"].cursor == {"x": "1900"}  # runtime state kept
    # A file that leaves the section out leaves the queries as they are...
    apply(session_factory, ORG)
    assert set(queries(session_factory)) == {"Acme brand", "paused one"}
    # ...and `listening: []` says "none".
    apply(session_factory, ORG + "listening: []\n")
    assert queries(session_factory) == {}
