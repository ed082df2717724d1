"""Crisis detection on a synthetic multi-week stream with surges of known start and size.

A brand with regions and locations (each its own message volume, languages by region: fa, ar,
he, th, en) receives negative messages minute by minute for `--weeks` weeks: a daily shape (quiet
nights, a lunch and an evening peak), a weekly one (a busier weekend), and noise that real series
have (each day's level and each hour's rate vary: a gamma-Poisson mixture, so counts are
overdispersed, not Poisson). The first `--warmup-weeks` only teach the baselines; in the rest,
surges are injected: at single locations and across the whole brand, of 2, 3, 5 or 10 times the
place's normal negative volume for three hours from a random daytime minute. "Normal" is the
place's expected rate at that hour of the week (`--surge-model excess`, the default: a k-times
surge adds k-1 times that rate on top of the day's own noise); `--surge-model multiply` multiplies
the noisy rate instead, so a "3x" surge in an hour that happened to run at 0.7 of normal brings
2.1 times normal, which is how the first runs of this bench counted.

Both detectors see the same counts, minute by minute, for every place (locations, regions, the
brand): RelayDesk's (`crisis/detector.py`: seasonal baseline + negative binomial tail, 15/60
minute windows) and a naive fixed threshold (an hour's count at least 3x the series' mean hourly
count in the warm-up). For each surge size it prints the detection delay (minutes from the surge's
start to the first alert on the surge's own place), the share caught within 15 and 60 minutes,
and the false alerts (raised outside any surge of that place) per place per month, split by how
many negative messages the place normally gets in the surge's hour, because no method sees a 3x
surge in 15 minutes at a shop that gets one negative message an hour.

Last line: `crisis ratio=R value=V unit=min_p50_delay_3x` with V the median delay of 3x surges
at places with >= 40 negative messages an hour at that time, and R the naive threshold's median
delay on the same surges over RelayDesk's (missed surges count as 180 minutes).

`relaydesk bench crisis [--weeks 8] [--warmup-weeks 2] [--locations 24] [--seed 5] [--surge-model excess]`
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from relaydesk.crisis import detector as d

START = datetime(2026, 1, 5)  # a Monday, local time of every place
SIZES = (2.0, 3.0, 5.0, 10.0)
SURGE_MINUTES = 180
MISSED = 180.0
REGION_LANGUAGES = ("fa", "ar", "he", "th", "en")


def daily_shape(hour: int) -> float:
    """Relative negative-message rate by local hour: quiet nights, lunch and evening peaks."""
    shape = (
        0.08, 0.05, 0.04, 0.04, 0.05, 0.08, 0.15, 0.3, 0.5, 0.65, 0.75, 0.85,
        1.0, 0.95, 0.8, 0.75, 0.75, 0.8, 0.9, 1.0, 1.0, 0.8, 0.5, 0.2,
    )  # fmt: skip
    return shape[hour]


def weekly_shape(weekday: int) -> float:
    return (1.0, 0.95, 0.95, 1.0, 1.15, 1.35, 1.25)[weekday]


@dataclass
class Surge:
    place: int  # index into the places
    start: int  # minute
    size: float
    expected_per_hour: float = 0.0  # the place's normal negative count in the surge's first hour
    delay: dict[str, float] = field(default_factory=dict)  # detector name -> minutes (MISSED if not)


@dataclass
class Stream:
    names: list[str]
    parents: list[int | None]  # place index of each place's parent
    counts: np.ndarray  # places x minutes, negative messages
    rates: np.ndarray  # places x minutes, the normal (surge-free) expected rate per minute
    surges: list[Surge]
    languages: list[str]
    minutes: int
    warmup: int


SURGE_MODELS = ("excess", "multiply")


def build_stream(
    weeks: int, warmup_weeks: int, locations: int, seed: int, surge_model: str = "excess"
) -> Stream:
    if surge_model not in SURGE_MODELS:
        raise ValueError(f"surge model {surge_model!r}: one of {', '.join(SURGE_MODELS)}")
    rng = np.random.default_rng(seed)
    minutes = weeks * 7 * 24 * 60
    warmup = warmup_weeks * 7 * 24 * 60
    regions = max(1, min(5, locations // 4))
    names = ["brand"] + [f"region-{r}" for r in range(regions)]
    parents: list[int | None] = [None] + [0] * regions
    languages = ["en"] + [REGION_LANGUAGES[r % len(REGION_LANGUAGES)] for r in range(regions)]
    location_index = []
    for i in range(locations):
        region = 1 + i % regions
        names.append(f"location-{i}")
        parents.append(region)
        languages.append(languages[region])
        location_index.append(len(names) - 1)
    # peak-hour negative messages per location: from a quiet shop to a flagship (log-uniform 1..100)
    peaks = np.exp(rng.uniform(np.log(1.0), np.log(100.0), size=locations))
    hours = np.arange(minutes) // 60
    hour_of_day = hours % 24
    day = hours // 24
    weekday = day % 7
    shape = (
        np.array([daily_shape(h) for h in range(24)])[hour_of_day]
        * np.array([weekly_shape(w) for w in range(7)])[weekday]
    )
    n_days = int(day.max()) + 1
    n_hours = int(hours.max()) + 1
    rates = np.zeros((len(names), minutes))
    surge_factor = np.ones((locations, minutes))
    surges: list[Surge] = []
    scored_days = range(warmup_weeks * 7, weeks * 7)
    # three surges per location over the scored weeks, sizes in turn, plus three brand-wide ones
    plan: list[tuple[int | None, float]] = [
        (i, SIZES[k % len(SIZES)]) for i in range(locations) for k in range(3)
    ]
    plan += [(None, size) for size in (2.0, 3.0, 5.0)]
    taken: dict[int | None, list[int]] = {}
    for where, size in plan:
        for _ in range(100):
            start_day = int(rng.choice(list(scored_days)))
            start = start_day * 1440 + int(rng.integers(9 * 60, 20 * 60))
            if start + SURGE_MINUTES + 600 >= minutes:
                continue
            clash = [s for s in taken.get(where, []) if abs(s - start) < SURGE_MINUTES + 600] + [
                s for s in taken.get(None, []) if abs(s - start) < SURGE_MINUTES + 600
            ]
            if not clash:
                break
        taken.setdefault(where, []).append(start)
        span = slice(start, start + SURGE_MINUTES)
        if where is None:
            surge_factor[:, span] *= size
            surges.append(Surge(0, start, size))
        else:
            surge_factor[where, span] *= size
            surges.append(Surge(location_index[where], start, size))
    counts = np.zeros((len(names), minutes), dtype=np.int64)
    for i, place in enumerate(location_index):
        day_level = rng.gamma(25.0, 1 / 25.0, size=n_days)[day]  # each day's level: CV 0.2
        hour_level = rng.gamma(40.0, 1 / 40.0, size=n_hours)[hours]  # each hour's: CV 0.16
        rates[place] = peaks[i] / 60 * shape
        normal = rates[place] * day_level * hour_level
        if surge_model == "multiply":
            counts[place] = rng.poisson(normal * surge_factor[i])
        else:
            counts[place] = rng.poisson(normal + (surge_factor[i] - 1.0) * rates[place])
    # a place above others counts what its children count
    for place in reversed(range(len(names))):
        parent = parents[place]
        if parent is not None:
            counts[parent] += counts[place]
            rates[parent] += rates[place]
    for surge in surges:
        surge.expected_per_hour = float(rates[surge.place, surge.start : surge.start + 60].sum())
    return Stream(names, parents, counts, rates, surges, languages, minutes, warmup)


class Detector:
    """One way of deciding, for every place, minute by minute."""

    name = ""

    def __init__(self, places: int) -> None:
        self.states = [d.SeriesState() for _ in range(places)]

    def readings(self, place: int, now: datetime, windows: dict[int, int]) -> list[d.Reading]:
        raise NotImplementedError

    def learn(self, place: int, hour_start: datetime, count: int) -> None:
        pass


class RelayDesk(Detector):
    name = "relaydesk"

    def __init__(self, places: int) -> None:
        super().__init__(places)
        self.baselines = [d.Baseline() for _ in range(places)]

    def readings(self, place: int, now: datetime, windows: dict[int, int]) -> list[d.Reading]:
        out = []
        baseline = self.baselines[place]
        for minutes in d.WINDOWS:
            observed = windows[minutes]
            if observed < d.MIN_COUNT:
                continue
            found = d.check_window(observed, baseline.expected(now, minutes), minutes)
            if found is not None:
                out.append(found)
        return out

    def learn(self, place: int, hour_start: datetime, count: int) -> None:
        self.baselines[place].learn(hour_start, count)


class FixedThreshold(Detector):
    """The naive way: an hour's count at least 3x the mean hourly count of the warm-up."""

    name = "fixed_threshold"

    def __init__(self, places: int, warmup_counts: np.ndarray, warmup_hours: int) -> None:
        super().__init__(places)
        self.thresholds = [max(d.MIN_COUNT, 3 * float(c) / warmup_hours) for c in warmup_counts]

    def readings(self, place: int, now: datetime, windows: dict[int, int]) -> list[d.Reading]:
        observed = windows[60]
        if observed < self.thresholds[place]:
            return []
        return [d.Reading(60, observed, self.thresholds[place] / 3, 0.0)]


def replay(stream: Stream) -> tuple[dict[str, list[tuple[int, int]]], dict[str, list[tuple[int, int]]]]:
    """Per detector: every alert raised, and every firing (raised, or an open alert firing again),
    as (place, minute). A surge is caught by a firing: an alert already open on that place is
    where the team is already looking, and it grows with the surge's numbers."""
    places = len(stream.names)
    warm_hours = stream.warmup // 60
    detectors: list[Detector] = [
        RelayDesk(places),
        FixedThreshold(places, stream.counts[:, : stream.warmup].sum(axis=1), warm_hours),
    ]
    cumulative = np.concatenate(
        [np.zeros((places, 1), dtype=np.int64), np.cumsum(stream.counts, axis=1)], axis=1
    )
    raised: dict[str, list[tuple[int, int]]] = {det.name: [] for det in detectors}
    fired: dict[str, list[tuple[int, int]]] = {det.name: [] for det in detectors}
    for minute in range(60, stream.minutes):
        now = START + timedelta(minutes=minute)
        if minute % 60 == 0:
            hour_start = now - timedelta(hours=1)
            finished = cumulative[:, minute] - cumulative[:, minute - 60]
            for det in detectors:
                for place in range(places):
                    det.learn(place, hour_start, int(finished[place]))
        if minute < stream.warmup:
            continue
        sums = {w: cumulative[:, minute] - cumulative[:, max(0, minute - w)] for w in {*d.WINDOWS, 60}}
        for det in detectors:
            for place in range(places):
                windows = {w: int(counts[place]) for w, counts in sums.items()}
                decision = d.decide(det.states[place], now, det.readings(place, now, windows))
                if decision.raised:
                    raised[det.name].append((place, minute))
                if decision.reading is not None:
                    fired[det.name].append((place, minute))
    return raised, fired


def score(
    stream: Stream, raised: dict[str, list[tuple[int, int]]], fired: dict[str, list[tuple[int, int]]]
) -> dict[str, Any]:
    scored_months = (stream.minutes - stream.warmup) / (60 * 24 * 30.44)
    out: dict[str, Any] = {}
    for name, alerts in raised.items():
        false = 0
        for place, minute in alerts:
            inside = any(
                minute >= s.start and minute <= s.start + SURGE_MINUTES + 60 and _affects(stream, s, place)
                for s in stream.surges
            )
            false += not inside
        firings = fired[name]
        for surge in stream.surges:
            hits = [
                m - surge.start
                for p, m in firings
                if p == surge.place and surge.start <= m <= surge.start + SURGE_MINUTES
            ]
            surge.delay[name] = float(min(hits)) if hits else MISSED
        out[name] = {
            "alerts": len(alerts),
            "false_alerts": false,
            "false_alerts_per_place_month": round(false / (len(stream.names) * scored_months), 3),
        }
    out["by_size"] = _by_size(stream, list(raised))
    return out


def _affects(stream: Stream, surge: Surge, place: int) -> bool:
    """Whether a surge at surge.place shows in `place`'s counts (itself, a place above, or below)."""
    at: int | None = surge.place
    while at is not None:
        if at == place:
            return True
        at = stream.parents[at]
    at = place
    while at is not None:
        if at == surge.place:
            return True
        at = stream.parents[at]
    return False


# By the place's normal negative messages an hour at the surge: 15 minutes can only show a 3x
# surge where 15 minutes normally hold ~10 (detector.py says why).
VOLUME_BANDS = ((0.0, 10.0, "<10/h"), (10.0, 40.0, "10-40/h"), (40.0, float("inf"), ">=40/h"))


def _by_size(stream: Stream, names: list[str]) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for size in SIZES:
        for low, high, band in VOLUME_BANDS:
            chosen = [s for s in stream.surges if s.size == size and low <= s.expected_per_hour < high]
            if not chosen:
                continue
            row: dict[str, Any] = {"surges": len(chosen)}
            for name in names:
                delays = [s.delay[name] for s in chosen]
                row[name] = {
                    "median_delay_min": statistics.median(delays),
                    "caught_15min": round(sum(x <= 15 for x in delays) / len(delays), 3),
                    "caught_60min": round(sum(x <= 60 for x in delays) / len(delays), 3),
                    "recall": round(sum(x < MISSED for x in delays) / len(delays), 3),
                }
            table[f"{size:g}x {band}"] = row
    return table


def run_bench(
    weeks: int = 8, warmup_weeks: int = 2, locations: int = 24, seed: int = 5, surge_model: str = "excess"
) -> dict[str, Any]:
    if weeks <= warmup_weeks:
        raise ValueError("--weeks must be more than --warmup-weeks")
    stream = build_stream(weeks, warmup_weeks, locations, seed, surge_model)
    raised, fired = replay(stream)
    result = score(stream, raised, fired)
    target = [s for s in stream.surges if s.size == 3.0 and s.expected_per_hour >= 40]
    ours = statistics.median(s.delay["relaydesk"] for s in target) if target else MISSED
    naive = statistics.median(s.delay["fixed_threshold"] for s in target) if target else MISSED
    result.update(
        {
            "places": len(stream.names),
            "languages": sorted(set(stream.languages)),
            "weeks": weeks,
            "warmup_weeks": warmup_weeks,
            "surges": len(stream.surges),
            "surge_model": surge_model,
            "settings": {
                "alpha": d.ALPHA,
                "dispersion": d.DISPERSION,
                "min_count": d.MIN_COUNT,
                "min_ratio": d.MIN_RATIO,
                "windows_min": list(d.WINDOWS),
            },
            "line": f"crisis ratio={naive / max(ours, 1.0):.2f} value={ours:g} unit=min_p50_delay_3x",
        }
    )
    return result


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps(run_bench(), indent=1))
