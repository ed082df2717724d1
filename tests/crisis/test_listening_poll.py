"""Listening on X: `relaydesk channels poll` searches X for each query, from a saved since-id.

Driven against an in-memory X API v2 (tests/channels/fakes/x_api.py) that answers
`GET /2/tweets/search/recent` as documented: `data[]`, `includes.users[]`, `meta.newest_id` /
`next_token`, newest first, only posts newer than `since_id`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from relaydesk.channels.polling import Poller, PollReport
from relaydesk.cli import channels_cmd
from relaydesk.crisis.listening import x_search_query
from relaydesk.db import transaction
from relaydesk.models import ListeningItem, ListeningQuery, Location
from tests.channels.accounts import add_account
from tests.channels.fakes.x_api import FakeXApi

KEYWORDS = ["دیجی‌کالا", "digikala"]
EXCLUDE = ["استخدام"]
LANGUAGES = ["fa", "ar", "en"]


def add_query(container: Any, name: str = "brand", networks: list[str] | None = None, **cursor: str) -> int:
    with transaction(container.sessions) as session:
        brand = session.scalars(select(Location).where(Location.key == "brand")).one()
        query = ListeningQuery(
            org_id=brand.org_id,
            name=name,
            brand_location_id=brand.id,
            keywords=KEYWORDS,
            exclude=EXCLUDE,
            languages=LANGUAGES,
            networks=networks or [],
            cursor=dict(cursor),
            active=True,
        )
        session.add(query)
        session.flush()
        return query.id


def x_cursor(container: Any, query_id: int) -> Any:
    with container.sessions() as session:
        query = session.get(ListeningQuery, query_id)
        assert query is not None
        return (query.cursor or {}).get("x")


def items(container: Any, query_id: int) -> list[str]:
    with container.sessions() as session:
        rows = session.scalars(select(ListeningItem).where(ListeningItem.query_id == query_id))
        return sorted(row.external_id for row in rows)


def listening_reports(poller: Poller) -> list[PollReport]:
    return [r for r in asyncio.run(poller.poll_all()) if r.query is not None]


def searches(api: FakeXApi) -> list[Any]:
    return [c for c in api.calls if c.path == "/2/tweets/search/recent"]


def test_x_search_runs_in_poll_and_its_since_id_survives_restarts_and_failed_pages(container: Any) -> None:
    api = FakeXApi(page_size=2)
    add_account(container, "x-listen", "x", api.me, {"access_token": "x-user-token"})
    query_id = add_query(container)
    reza, noor, ann = api.add_user("Reza", "reza"), api.add_user("Noor", "noor"), api.add_user("Ann", "ann")
    first = [
        api.add_post(reza, "سفارشم از دیجی‌کالا هنوز نرسیده", lang="fa"),
        api.add_post(noor, "digikala لم يرسل طلبي", lang="ar"),
        api.add_post(ann, "digikala was fast today", lang="en"),
    ]
    api.add_post(reza, "استخدام در دیجی‌کالا", lang="fa")  # excluded by the search itself

    def new_poller() -> Poller:  # a fresh process: only the database remembers
        return Poller(container, transport=api.transport, x_base_url=api.base_url)

    [report] = listening_reports(new_poller())
    assert report.error is None, report.error
    assert (report.query, report.accepted, report.duplicates) == ("brand", 3, 0)
    assert items(container, query_id) == sorted(first)
    assert x_cursor(container, query_id) == first[-1] == report.cursor
    call = searches(api)[0]
    assert call.params["query"] == x_search_query(KEYWORDS, EXCLUDE, LANGUAGES)
    assert "since_id" not in call.params and call.headers["authorization"] == "Bearer x-user-token"

    later = [api.add_post(noor, f"digikala order {i} still missing", lang="en") for i in range(3)]
    api.fail_next("server_error", after=1)  # the second page of the next search fails
    [failed] = listening_reports(new_poller())
    assert failed.error and x_cursor(container, query_id) == first[-1]  # not moved past the gap
    before = len(searches(api))
    [again] = listening_reports(new_poller())
    assert again.error is None and again.accepted == 3
    assert searches(api)[before].params["since_id"] == first[-1]  # read back from the database
    assert x_cursor(container, query_id) == later[-1]
    assert items(container, query_id) == sorted(first + later)  # each once, none missing
    [quiet] = listening_reports(new_poller())
    assert (quiet.accepted, quiet.duplicates, quiet.error) == (0, 0, None)


def test_posts_the_query_does_not_match_still_move_the_since_id(container: Any) -> None:
    # X compares text as written; the query's own matching normalises it first, so an exclusion
    # written with a short vowel mark still excludes. Such posts are skipped, and must not be
    # asked for again and again.
    api = FakeXApi()
    add_account(container, "x-listen", "x", api.me, {"access_token": "x-user-token"})
    query_id = add_query(container)
    someone = api.add_user("Someone", "someone")
    loose = api.add_post(someone, "اِستخدام فوری در digikala", lang="fa")
    [report] = listening_reports(Poller(container, transport=api.transport, x_base_url=api.base_url))
    assert report.error is None
    assert (report.accepted, report.skipped) == (0, 1) and items(container, query_id) == []
    assert x_cursor(container, query_id) == loose


def test_which_queries_are_searched_and_with_which_account(container: Any) -> None:
    api = FakeXApi()
    add_account(container, "x-sandbox", "x", "3000", {"access_token": "fake"}, sandbox=True)
    named = add_query(container, "named-x", networks=["x"])
    add_query(container, "everywhere")
    add_query(container, "instagram-only", networks=["instagram"])
    reports = listening_reports(Poller(container, transport=api.transport, x_base_url=api.base_url))
    # Only a sandbox account: nothing is searched; the query that names x says why.
    assert [(r.query, r.error) for r in reports] == [
        ("named-x", "no active X account with an access_token to search with (sandbox ones are not used)")
    ]
    assert searches(api) == [] and x_cursor(container, named) is None
    add_account(container, "x-live", "x", api.me, {"access_token": "live-token"})
    reports = listening_reports(Poller(container, transport=api.transport, x_base_url=api.base_url))
    assert sorted(r.query or "" for r in reports) == ["everywhere", "named-x"]
    assert all(r.error is None for r in reports)
    assert {c.headers["authorization"] for c in searches(api)} == {"Bearer live-token"}


def test_a_refused_token_is_reported_without_the_token(container: Any) -> None:
    api = FakeXApi()
    add_account(container, "x-listen", "x", api.me, {"access_token": "secret-token-123"})
    query_id = add_query(container, networks=["x"], x="1700000000000000000")
    api.fail_next("expired_token")
    [report] = listening_reports(Poller(container, transport=api.transport, x_base_url=api.base_url))
    assert report.error and "refused the token" in report.error and "secret-token-123" not in report.error
    assert x_cursor(container, query_id) == "1700000000000000000"


def test_a_since_id_older_than_the_search_window_starts_again_from_the_window(container: Any) -> None:
    # X recent search keeps 7 days and refuses an older since_id: a poller stopped for longer
    # must not fail every round from then on.
    api = FakeXApi()
    add_account(container, "x-listen", "x", api.me, {"access_token": "x-user-token"})
    query_id = add_query(container, x="1700000000000000000")
    reza = api.add_user("Reza", "reza")
    recent = api.add_post(reza, "دیجی‌کالا هنوز جواب نداده", lang="fa")
    api.search_since_floor = recent
    [report] = listening_reports(Poller(container, transport=api.transport, x_base_url=api.base_url))
    assert report.error is None and report.accepted == 1
    assert [c.params.get("since_id") for c in searches(api)] == ["1700000000000000000", None]
    assert x_cursor(container, query_id) == recent and items(container, query_id) == [recent]


@pytest.fixture
def cli_on(container: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    @contextmanager
    def opened(*_args: Any, **_kwargs: Any) -> Iterator[Any]:
        yield container

    monkeypatch.setattr(channels_cmd, "opened", opened)
    return container


def test_cli_channels_poll_searches_x_for_listening(cli_on: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    container = cli_on
    api = FakeXApi()
    add_account(container, "x-listen", "x", api.me, {"access_token": "x-user-token"})
    query_id = add_query(container)
    reza = api.add_user("Reza", "reza")
    posted = api.add_post(reza, "دیجی‌کالا سفارشم رو گم کرد", lang="fa")
    import relaydesk.channels.polling as polling

    class FakeNetworkPoller(Poller):
        def __init__(self, container: Any) -> None:
            super().__init__(container, transport=api.transport, x_base_url=api.base_url)

    monkeypatch.setattr(polling, "Poller", FakeNetworkPoller)
    result = CliRunner().invoke(channels_cmd.app, ["poll"])
    assert result.exit_code == 0, result.output
    assert "listening query 'brand' (x search): 1 new, 0 already had, 0 not matching" in result.output
    assert items(container, query_id) == [posted] and x_cursor(container, query_id) == posted
    again = CliRunner().invoke(channels_cmd.app, ["poll"])
    assert "listening query 'brand' (x search): 0 new" in again.output
    assert searches(api)[-1].params["since_id"] == posted
