"""The report rollups agree with counting the conversations one by one (real SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from relaydesk.analytics.report import Period, figures, total
from relaydesk.analytics.rollup import histogram_quantile
from relaydesk.auth.scopes import Scope
from relaydesk.auth.service import scope_for
from relaydesk.container import Container
from relaydesk.core.timeutil import utcnow
from relaydesk.db import transaction
from relaydesk.models import Conversation, User, report_histograms, report_rollups
from tests.api.conftest import login
from tests.api.test_webhook_and_inbox import ingest


def _scope(container: Container, email: str) -> Scope:
    with container.sessions() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        return scope_for(session, user)


def _today_period(container: Container, scope: Scope) -> Period:
    from zoneinfo import ZoneInfo

    today = utcnow().astimezone(ZoneInfo(container.reports.zone(scope))).date()
    return Period(today - timedelta(days=6), today)


def _traffic(client: TestClient, container: Container) -> dict[str, int]:
    ids = {
        "order": ingest(client, container, "north-generic", "ru-1", "Where is my order? It is late", "a1"),
        "refund": ingest(client, container, "north-generic", "ru-2", "I want my money back now", "a2"),
        "thai": ingest(client, container, "south-generic", "ru-3", "ร้านเปิดกี่โมงคะ", "a3"),
        "praise": ingest(client, container, "south-generic", "ru-4", "Lovely coffee, thank you!", "a4"),
    }
    admin = login(client, "admin@test.example")
    for name in ("order", "thai"):
        reply = client.post(
            f"/api/v1/conversations/{ids[name]}/reply", json={"text": "Hello!"}, headers=admin
        )
        assert reply.status_code == 201, reply.text
    return ids


def test_rollups_add_up_to_the_same_numbers_as_counting_each_conversation(
    app_client: TestClient, container: Container
) -> None:
    _traffic(app_client, container)
    assert container.rollups.run_once().conversations == 4
    admin = _scope(container, "admin@test.example")
    period = _today_period(container, admin)
    report = container.reports.report(admin, period)
    exact = container.analytics.kpi_summary(admin)

    got = report.totals
    assert got.conversations == exact.conversations == 4
    assert got.with_inbound == exact.response.with_inbound
    assert (got.answered.numerator, got.answered.denominator) == (
        exact.response.answered.numerator,
        exact.response.answered.denominator,
    )
    for window, rate in exact.response.within.items():
        assert (got.within[window].numerator, got.within[window].denominator) == (
            rate.numerator,
            rate.denominator,
        )
    for target, rate in exact.sla.items():
        assert (got.sla[target].numerator, got.sla[target].denominator) == (rate.numerator, rate.denominator)
    assert {k: v for k, v in got.sentiment.items() if v} == {
        k: v for k, v in exact.sentiment.counts.items() if v
    }
    assert got.first_response.count == exact.first_response.count == 2
    # A median from the histogram lies in the bucket of the exact one: under 30 s here.
    assert exact.first_response.median is not None and got.first_response.median is not None
    assert abs(got.first_response.median - exact.first_response.median) <= 30

    by_department = {line.value: line.figures.conversations for line in report.breakdowns["department"]}
    assert by_department == {k: g.conversations for k, g in exact.by_department.items()}
    by_channel = {line.value: line.figures.conversations for line in report.breakdowns["channel"]}
    assert by_channel == {k: g.conversations for k, g in exact.by_channel.items()}
    by_team = {line.value: line.figures.conversations for line in report.breakdowns["team"]}
    assert by_team == {k: g.conversations for k, g in exact.by_team.items()}
    assert sum(point.conversations for point in report.series) == 4
    # Every conversation whose SLA clock started is under the policy that started it.
    policies = {line.value: line.figures.conversations for line in report.breakdowns["policy"]}
    assert sum(policies.values()) == 4 and any(name for name in policies)  # a named policy, not only ""
    assert sum(map(sum, report.hour_of_week)) == 4  # a seven-day period is one week: the counts

    lines = list(container.reports.conversation_lines(admin, period))
    assert len(lines) == got.conversations
    assert sum(1 for fact, _, _ in lines if fact.first_response_at is not None) == got.answered.numerator


def _rows(container: Container) -> list[tuple[object, ...]]:
    with container.sessions() as session:
        rollups = sorted(tuple(row) for row in session.execute(select(report_rollups)))
        bands = sorted(tuple(row) for row in session.execute(select(report_histograms)))
    return [*rollups, ("bands",), *bands]


def test_changes_are_folded_in_and_the_rows_stay_what_a_rebuild_makes(
    app_client: TestClient, container: Container
) -> None:
    ids = _traffic(app_client, container)
    container.rollups.run_once()
    first = _rows(container)
    assert container.rollups.run_once().rows == 0  # nothing changed: nothing added
    assert _rows(container) == first

    admin_headers = login(app_client, "admin@test.example")
    # A reply, a move to another department, a resolution and a spam mark, between passes.
    reply = app_client.post(
        f"/api/v1/conversations/{ids['refund']}/reply", json={"text": "Sorry!"}, headers=admin_headers
    )
    assert reply.status_code == 201
    container.rollups.run_once()
    moved = app_client.post(
        f"/api/v1/conversations/{ids['order']}/transfer",
        json={"department": "sales", "note": "A sales question after all"},
        headers=admin_headers,
    )
    resolved = app_client.post(f"/api/v1/conversations/{ids['thai']}/resolve", json={}, headers=admin_headers)
    assert {moved.status_code, resolved.status_code} == {200}, (moved.text, resolved.text)
    with transaction(container.sessions) as session:  # as an agent's "this is spam" correction does
        praise = session.get(Conversation, ids["praise"])
        assert praise is not None
        praise.tags = [*(praise.tags or []), "spam"]
    container.rollups.run_once()
    incremental = _rows(container)

    admin = _scope(container, "admin@test.example")
    report = container.reports.report(admin, _today_period(container, admin))
    assert report.totals.answered.numerator == 3 and report.totals.conversations == 3  # spam left out
    exact = container.analytics.kpi_summary(admin)
    assert {line.value: line.figures.conversations for line in report.breakdowns["department"]} == {
        k: g.conversations for k, g in exact.by_department.items()
    }
    assert report.totals.resolved == exact.resolution.count

    container.rollups.rebuild()
    assert _rows(container) == incremental


def test_a_region_manager_counts_only_her_departments_and_locations(
    app_client: TestClient, container: Container
) -> None:
    _traffic(app_client, container)
    container.rollups.run_once()
    nora = _scope(container, "nora@test.example")  # service + sales, location north
    period = _today_period(container, nora)
    report = container.reports.report(nora, period, wide=True)
    exact = container.analytics.kpi_summary(nora)
    assert report.totals.conversations == exact.conversations
    assert report.totals.conversations < 4
    assert {line.value for line in report.breakdowns["location"]} <= {"north", "north-shop"}
    assert len(list(container.reports.conversation_lines(nora, period))) == report.totals.conversations
    with container.sessions() as session:
        assert session.scalar(select(func.count()).select_from(report_rollups)) > 0


def test_histogram_quantiles_read_back_within_the_bucket() -> None:
    from relaydesk.analytics.rollup import EDGES, bucket_of, empty_histogram

    values = [10, 20, 45, 70, 100, 200, 400, 1000, 4000, 90000]
    histogram = empty_histogram()
    for v in values:
        histogram[bucket_of(v)] += 1
    median = histogram_quantile(histogram, 0.5)
    assert median is not None
    exact = (100 + 200) / 2
    bucket = bucket_of(exact)
    assert EDGES[bucket] - 60 <= median <= EDGES[bucket + 1] + 60
    assert histogram_quantile(empty_histogram(), 0.5) is None
    assert figures(total([])).conversations == 0


def test_the_table_counts_the_windows_and_targets_the_kpis_define() -> None:
    from relaydesk.analytics.kpis import RESPONSE_WINDOWS, SLA_TARGETS
    from relaydesk.core.rollup_fields import COUNTERS

    for window in RESPONSE_WINDOWS:
        assert f"answered_{window}" in COUNTERS and f"eligible_{window}" in COUNTERS
    for target in SLA_TARGETS:
        assert f"sla_{target}_met" in COUNTERS and f"sla_{target}_decided" in COUNTERS


def test_a_conversation_counts_for_its_place_and_every_place_above_it() -> None:
    from relaydesk.analytics.report_service import _narrower, _place_of
    from relaydesk.analytics.rollup import ORG_WIDE, places_of

    paths = {3: "/3/", 17: "/3/17/", 204: "/3/17/204/"}
    assert places_of(204, paths) == (204, 17, 3, ORG_WIDE)
    assert places_of(99, paths) == (99, ORG_WIDE)  # a place the map does not know: itself and the org
    # A region manager (scope /3/17/) asking for the whole brand sees her region; for a shop, the shop;
    # for another region, nothing.
    assert _place_of(_narrower("/3/17/", "/3/")) == 17
    assert _place_of(_narrower("/3/17/", "/3/17/204/")) == 204
    assert _place_of(_narrower("/3/17/", "/3/18/")) == -1
    assert _place_of(None) == ORG_WIDE


def test_a_tables_top_lines_ranked_first_are_the_lines_summed_in_full(
    app_client: TestClient, container: Container
) -> None:
    # Above the page's limit a dimension is ranked on its conversations, then only the top lines
    # are summed: the lines must be the ones (and the numbers) the full table has.
    _traffic(app_client, container)
    container.rollups.run_once()
    scope = _scope(container, "admin@test.example")
    period = _today_period(container, scope)
    full = container.reports.report(scope, period, limit=None)
    top = container.reports.report(scope, period, limit=1)
    for dimension in ("account", "intent", "language", "channel"):
        assert top.breakdowns[dimension] == full.breakdowns[dimension][:1], dimension
        assert top.sizes[dimension] == full.sizes[dimension] == len(full.breakdowns[dimension])
    assert top.hour_of_week == full.hour_of_week
