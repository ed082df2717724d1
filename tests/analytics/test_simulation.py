from __future__ import annotations

import pytest

from relaydesk.analytics.simulation import SimulationConfig, simulate


def test_same_seed_same_report() -> None:
    cfg = SimulationConfig(agents=5, rate_per_hour=40, hours=8, seed=3)
    assert simulate(cfg).as_dict() == simulate(cfg).as_dict()


def test_more_agents_never_hurt_attainment_and_shorten_waits() -> None:
    few = simulate(SimulationConfig(agents=3, rate_per_hour=60, hours=12))
    many = simulate(SimulationConfig(agents=12, rate_per_hour=60, hours=12))
    assert few.arrivals == many.arrivals  # the same arrivals, seeded
    assert many.sla_attainment is not None and few.sla_attainment is not None
    assert many.sla_attainment > few.sla_attainment
    assert (many.queue_wait_mean_s or 0) < (few.queue_wait_mean_s or 0)


def test_least_loaded_spreads_work_fairly() -> None:
    report = simulate(SimulationConfig(agents=8, rate_per_hour=80, hours=24, multilingual_share=1.0))
    assert report.assigned + report.still_waiting == report.arrivals
    assert report.load_ratio_max_min is not None and report.load_ratio_max_min < 1.6
    assert sum(report.handled_per_agent.values()) == report.assigned


def test_invalid_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        simulate(SimulationConfig(agents=0))
    with pytest.raises(ValueError):
        simulate(SimulationConfig(hours=0))
