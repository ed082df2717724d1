from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from relaydesk.routing.assignment import (
    AgentCandidate,
    AssignmentNeed,
    WaitingItem,
    choose_agent,
    drain_queue,
    ineligibility,
)

T0 = datetime(2024, 5, 8, 9, 0, tzinfo=UTC)


def agent(id: int, handle: str, **kw: Any) -> AgentCandidate:
    base = AgentCandidate(
        id=id,
        handle=handle,
        languages=["en", "fa"],
        skills=["billing"],
        online=True,
        on_shift=True,
        open_count=0,
        max_concurrent=5,
        last_assigned_at=None,
    )
    return replace(base, **kw)


NEED = AssignmentNeed(language="en", required_skills=[], sticky_agent_id=None)


# ---------------------------------------------------------------- eligibility


@pytest.mark.parametrize(
    ("changes", "need", "why"),
    [
        ({"active": False}, NEED, "inactive"),
        ({"online": False}, NEED, "offline"),
        ({"on_shift": False}, NEED, "off shift"),
        ({"open_count": 5}, NEED, "at capacity (5/5)"),
        ({"open_count": 0, "max_concurrent": 0}, NEED, "at capacity (0/0)"),
        ({}, AssignmentNeed(language="th"), "no language 'th'"),
        ({}, AssignmentNeed(required_skills=["billing", "refunds"]), "missing skill 'refunds'"),
    ],
)
def test_each_ineligibility_reason(changes: dict[str, Any], need: AssignmentNeed, why: str) -> None:
    candidate = agent(1, "sara", **changes)
    assert ineligibility(candidate, need) == [why]
    choice = choose_agent([candidate], need, "least_loaded")
    assert choice.agent_id is None
    assert f"sara: {why}" in choice.reason


@pytest.mark.parametrize("language", [None, "und", ""])
def test_unknown_language_accepts_anyone(language: str | None) -> None:
    candidate = agent(1, "sara", languages=[])
    assert ineligibility(candidate, AssignmentNeed(language=language)) == []


def test_language_matching_is_case_insensitive_and_covers_regions() -> None:
    candidate = agent(1, "sara", languages=["PT", "en-GB"])
    assert ineligibility(candidate, AssignmentNeed(language="pt-BR")) == []
    assert ineligibility(candidate, AssignmentNeed(language="en")) == ["no language 'en'"]


def test_skills_superset_case_insensitive() -> None:
    candidate = agent(1, "sara", skills=["Billing", "refunds", "vip"])
    assert ineligibility(candidate, AssignmentNeed(required_skills=["billing", "REFUNDS"])) == []
    assert ineligibility(candidate, AssignmentNeed(required_skills=[])) == []


def test_several_reasons_listed_per_agent() -> None:
    agents = [
        agent(1, "sara", online=False),
        agent(2, "omid", languages=["fa"]),
        agent(3, "noa", on_shift=False, open_count=5),
    ]
    choice = choose_agent(agents, AssignmentNeed(language="th"), "least_loaded")
    assert choice.agent_id is None
    assert "sara: offline, no language 'th'" in choice.reason
    assert "omid: no language 'th'" in choice.reason
    assert "noa: off shift, at capacity (5/5), no language 'th'" in choice.reason
    assert len(choice.considered) == 3


def test_empty_candidate_list() -> None:
    for strategy in ("least_loaded", "round_robin"):
        choice = choose_agent([], NEED, strategy)
        assert choice.agent_id is None
        assert "no agents" in choice.reason
        assert choice.considered == []


def test_unknown_strategy_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown assignment strategy"):
        choose_agent([agent(1, "sara")], NEED, "random")


# ---------------------------------------------------------------- strategies


def test_manual_never_assigns() -> None:
    choice = choose_agent([agent(1, "sara")], replace(NEED, sticky_agent_id=1), "manual")
    assert choice.agent_id is None
    assert choice.reason == "department uses manual pull"


def test_least_loaded_uses_ratio_not_count() -> None:
    agents = [
        agent(1, "sara", open_count=3, max_concurrent=4),  # 75%
        agent(2, "omid", open_count=4, max_concurrent=10),  # 40%
        agent(3, "noa", open_count=2, max_concurrent=2),  # full
    ]
    choice = choose_agent(agents, NEED, "least_loaded")
    assert choice.agent_id == 2
    assert "omid" in choice.reason and "4/10" in choice.reason


def test_least_loaded_tie_breaks() -> None:
    # Equal ratio (1/3 vs 2/6): fewer open conversations wins.
    agents = [agent(1, "a", open_count=2, max_concurrent=6), agent(2, "b", open_count=1, max_concurrent=3)]
    assert choose_agent(agents, NEED, "least_loaded").agent_id == 2
    # Equal ratio and count: the one idle longest wins; never assigned counts as idle longest.
    agents = [
        agent(1, "a", open_count=1, last_assigned_at=T0),
        agent(2, "b", open_count=1, last_assigned_at=T0 - timedelta(hours=1)),
    ]
    assert choose_agent(agents, NEED, "least_loaded").agent_id == 2
    agents.append(agent(3, "c", open_count=1, last_assigned_at=None))
    assert choose_agent(agents, NEED, "least_loaded").agent_id == 3
    # Everything equal: lowest id, regardless of input order.
    agents = [agent(9, "z"), agent(4, "y"), agent(7, "x")]
    assert choose_agent(agents, NEED, "least_loaded").agent_id == 4


def test_round_robin_picks_oldest_last_assignment() -> None:
    agents = [
        agent(1, "a", last_assigned_at=T0),
        agent(2, "b", last_assigned_at=T0 - timedelta(minutes=5), open_count=4),
        agent(3, "c", last_assigned_at=T0 - timedelta(minutes=1)),
    ]
    assert choose_agent(agents, NEED, "round_robin").agent_id == 2  # load does not matter
    agents.append(agent(5, "d", last_assigned_at=None))
    agents.append(agent(4, "e", last_assigned_at=None))
    choice = choose_agent(agents, NEED, "round_robin")
    assert choice.agent_id == 4  # never assigned first, then lowest id
    assert "never assigned" in choice.reason


def test_naive_and_aware_timestamps_compare() -> None:
    agents = [
        agent(1, "a", last_assigned_at=datetime(2024, 5, 8, 9, 0)),  # naive = UTC
        agent(2, "b", last_assigned_at=T0 + timedelta(minutes=1)),
    ]
    assert choose_agent(agents, NEED, "round_robin").agent_id == 1


@pytest.mark.parametrize("strategy", ["least_loaded", "round_robin"])
def test_sticky_agent_wins_when_eligible(strategy: str) -> None:
    agents = [agent(1, "sara", open_count=0), agent(2, "omid", open_count=4, last_assigned_at=T0)]
    choice = choose_agent(agents, replace(NEED, sticky_agent_id=2), strategy)
    assert choice.agent_id == 2
    assert "returning customer" in choice.reason


def test_sticky_agent_skipped_when_not_eligible() -> None:
    agents = [agent(1, "sara"), agent(2, "omid", online=False)]
    choice = choose_agent(agents, replace(NEED, sticky_agent_id=2), "least_loaded")
    assert choice.agent_id == 1
    assert any("omid is not available" in line for line in choice.considered)
    # A sticky id that is not in this department changes nothing.
    assert choose_agent(agents, replace(NEED, sticky_agent_id=99), "least_loaded").agent_id == 1


def test_choice_filters_by_language_and_skill() -> None:
    agents = [
        agent(1, "sara", languages=["en"], open_count=0),
        agent(2, "somchai", languages=["th"], skills=["billing"], open_count=3),
        agent(3, "noa", languages=["th"], skills=[], open_count=0),
    ]
    need = AssignmentNeed(language="th", required_skills=["billing"])
    choice = choose_agent(agents, need, "least_loaded")
    assert choice.agent_id == 2
    assert choice.considered == [
        "sara: no language 'th'",
        "somchai: eligible (3/5 open)",
        "noa: missing skill 'billing'",
    ]


def test_choose_does_not_mutate_candidates() -> None:
    agents = [agent(1, "sara")]
    choose_agent(agents, NEED, "least_loaded")
    assert agents[0].open_count == 0 and agents[0].last_assigned_at is None


# ---------------------------------------------------------------- draining


def item(cid: int, minutes_ago: int, **kw: Any) -> WaitingItem:
    return WaitingItem(conversation_id=cid, waiting_since=T0 - timedelta(minutes=minutes_ago), **kw)


def test_drain_orders_by_priority_then_age() -> None:
    waiting = [
        item(1, 10, priority="normal"),
        item(2, 5, priority="urgent"),
        item(3, 30, priority="normal"),
        item(4, 1, priority="high"),
        item(5, 30, priority="bogus"),  # unknown counts as normal; ties by age then id
    ]
    out = drain_queue(waiting, [agent(1, "sara", max_concurrent=100)], "least_loaded")
    assert [cid for cid, _, _ in out] == [2, 4, 3, 5, 1]


@pytest.mark.parametrize("strategy", ["least_loaded", "round_robin"])
def test_drain_spreads_work_and_respects_capacity(strategy: str) -> None:
    agents = [agent(1, "sara", max_concurrent=3), agent(2, "omid", max_concurrent=3)]
    waiting = [item(i, 100 - i) for i in range(1, 9)]
    out = drain_queue(waiting, agents, strategy)
    per_agent = Counter(agent_id for _, agent_id, _ in out)
    assert per_agent == {1: 3, 2: 3}  # 6 assigned, 2 stay waiting
    assert [cid for cid, _, _ in out] == [1, 2, 3, 4, 5, 6]
    # Alternates rather than filling one agent first.
    assert [a for _, a, _ in out[:4]] in ([1, 2, 1, 2], [2, 1, 2, 1])
    assert agents[0].open_count == 0  # the caller's list is untouched


def test_drain_least_loaded_fills_the_emptier_agent_first() -> None:
    agents = [
        agent(1, "busy", open_count=3, max_concurrent=5),
        agent(2, "free", open_count=0, max_concurrent=5),
    ]
    out = drain_queue([item(i, 10 - i) for i in range(1, 5)], agents, "least_loaded")
    assert [a for _, a, _ in out] == [2, 2, 2, 1]


def test_drain_skips_items_nobody_can_take_and_continues() -> None:
    agents = [agent(1, "sara", languages=["en"], max_concurrent=5)]
    waiting = [item(1, 30, language="th"), item(2, 20, language="en"), item(3, 10, required_skills=["legal"])]
    out = drain_queue(waiting, agents, "round_robin")
    assert [(cid, aid) for cid, aid, _ in out] == [(2, 1)]


def test_drain_honours_sticky_agent() -> None:
    agents = [agent(1, "sara"), agent(2, "omid", open_count=2)]
    out = drain_queue([item(1, 5, sticky_agent_id=2)], agents, "least_loaded")
    assert out[0][1] == 2 and "returning customer" in out[0][2]


def test_drain_manual_and_empty() -> None:
    assert drain_queue([item(1, 5)], [agent(1, "sara")], "manual") == []
    assert drain_queue([], [agent(1, "sara")], "least_loaded") == []
    assert drain_queue([item(1, 5)], [], "least_loaded") == []


def test_drain_round_robin_continues_rotation_after_recent_assignments() -> None:
    # Even with `now` earlier than existing timestamps, fresh assignments go to the back.
    agents = [
        agent(1, "a", last_assigned_at=T0 + timedelta(hours=1)),
        agent(2, "b", last_assigned_at=T0),
        agent(3, "c", last_assigned_at=None),
    ]
    out = drain_queue([item(i, 10 - i) for i in range(1, 7)], agents, "round_robin", now=T0)
    assert [a for _, a, _ in out] == [3, 2, 1, 3, 2, 1]


def test_an_agency_agent_only_takes_the_contract_languages() -> None:
    otto = agent(1, "otto", languages=["en", "th"], contract_languages=["th"])
    assert ineligibility(otto, NEED) == ["'en' is outside the agency contract (th)"]
    assert ineligibility(otto, replace(NEED, language="th")) == []
    assert ineligibility(otto, replace(NEED, language="und")) == []  # unknown: nothing to refuse
    choice = choose_agent([otto, agent(2, "sam")], NEED)
    assert choice.agent_id == 2
