"""Report rollups: what each conversation adds to per-day counters (pure, no database).

A report over a month of a 1,000-location chain cannot read millions of conversations per page
view, so every conversation *contributes* a vector of counters to a few rows, one per (local day,
location, department, dimension, value), and reports add rows up (analytics/report.py).

* A conversation adds to the row ``("all", "")`` and to one row per breakdown dimension (channel,
  account, intent, language, stage, sentiment, assignee, hour of week). Rows exist per location
  and for the whole organisation (location 0), so an organisation-wide dashboard adds up a few
  hundred rows while a region manager's adds up her locations' rows; the organisation rows also
  break down by location.
* When a conversation changes, the refresher (analytics/rollups.py) subtracts what it added last
  time and adds its new contribution: the rows stay the exact sum of their conversations.
* Durations are counted in fixed bands, so medians and p90 of any sum of rows can be read back
  (interpolated within the band: the error is bounded by the band's width).
* "Answered within W" follows analytics/kpis.py: the denominator holds those answered within W
  plus those whose first message is at least W old when the contribution was computed; the
  refresher recomputes the unanswered ones as they cross each window.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np

from relaydesk.analytics.kpis import RESPONSE_WINDOWS, SLA_TARGETS, ConversationFacts
from relaydesk.core.rollup_fields import COUNTERS, EDGES, FIELDS, HISTOGRAM_FIELDS, HISTOGRAM_PREFIXES

ALL = "all"
ORG_WIDE = 0  # the location id of the organisation-wide rows
NO_DEPARTMENT = 0
UNKNOWN = "unknown"
FIRST_RESPONSE = "first_response"
INDEX = {name: i for i, name in enumerate(FIELDS)}
FR_START = len(COUNTERS)
BANDS = len(EDGES)
HISTOGRAM_START = {name: n * BANDS for n, name in enumerate(HISTOGRAM_PREFIXES)}


def bucket_of(seconds: float) -> int:
    """The band holding ``seconds`` (the last one is open-ended)."""
    return max(0, bisect.bisect_right(EDGES, max(0.0, seconds)) - 1)


def empty_histogram() -> list[int]:
    return [0] * BANDS


def histogram_quantile(histogram: list[int], q: float) -> float | None:
    """The q-quantile read from band counts, linear within the band; None when empty."""
    total = sum(histogram)
    if not total:
        return None
    rank = q * total
    seen = 0
    for index, count in enumerate(histogram):
        if count and seen + count >= rank:
            low = EDGES[index]
            high = EDGES[index + 1] if index + 1 < BANDS else EDGES[index] * 1.5
            return low + (high - low) * max(0.0, rank - seen) / count
        seen += count
    return EDGES[-1]


def _zeros(size: int) -> np.ndarray:
    return np.zeros(size, dtype=np.int64)


class Measures:
    """A row's numbers: the FIELDS vector and the totals-only duration bands (HISTOGRAM_FIELDS).
    Vector adds, not dict walks: folding a busy day touches millions of these."""

    __slots__ = ("bands", "vector")

    def __init__(self, vector: np.ndarray | None = None, bands: np.ndarray | None = None) -> None:
        self.vector = vector if vector is not None else _zeros(len(FIELDS))
        self.bands = bands if bands is not None else _zeros(len(HISTOGRAM_FIELDS))

    def add(self, other: Measures, sign: int = 1) -> None:
        self.vector += sign * other.vector
        self.bands += sign * other.bands

    def __getitem__(self, name: str) -> int:
        return int(self.vector[INDEX[name]])

    def histogram(self, name: str) -> list[int]:
        if name == FIRST_RESPONSE:
            return [int(x) for x in self.vector[FR_START:]]
        start = HISTOGRAM_START[name]
        return [int(x) for x in self.bands[start : start + BANDS]]

    @property
    def empty(self) -> bool:
        return not self.vector.any() and not self.bands.any()


class RowKey(NamedTuple):
    # A tuple, not a frozen dataclass: a fold hashes millions of these, and a tuple's hash is C's.
    day: date
    location_id: int
    department_id: int
    dimension: str
    value: str


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one conversation adds, and to which rows."""

    org_id: int
    day: date
    location_id: int
    department_id: int
    dimensions: tuple[tuple[str, str], ...]
    measures: Measures
    # Its location and every place above it (region, brand), ORG_WIDE last: a subtree's report
    # reads its root's rows only, however many locations are under it.
    places: tuple[int, ...] = (ORG_WIDE,)

    def keys(self) -> Iterator[RowKey]:
        for place in self.places:
            yield RowKey(self.day, place, self.department_id, ALL, "")
            for dimension, value in self.dimensions:
                yield RowKey(self.day, place, self.department_id, dimension, value)
            if place != self.location_id:
                yield RowKey(self.day, place, self.department_id, "location", str(self.location_id))

    def band_keys(self) -> tuple[tuple[int, date, int], ...]:
        """(location, day, department) of the duration-band rows it adds to."""
        return tuple((place, self.day, self.department_id) for place in self.places)

    def stored(self) -> dict[str, Any]:
        """The row that remembers it (report_contributions), non-zero numbers only."""
        return {
            "org_id": self.org_id,
            "day": self.day,
            "location_id": self.location_id,
            "department_id": self.department_id,
            "places": list(self.places),
            "dimensions": [list(pair) for pair in self.dimensions],
            "fields": {str(i): int(v) for i, v in enumerate(self.measures.vector) if v},
            "histograms": {str(i): int(v) for i, v in enumerate(self.measures.bands) if v},
        }


def restored(row: Mapping[str, Any]) -> Contribution:
    """A contribution read back from report_contributions."""
    vector = _zeros(len(FIELDS))
    for index, value in (row["fields"] or {}).items():
        vector[int(index)] = int(value)
    bands = _zeros(len(HISTOGRAM_FIELDS))
    for index, value in (row["histograms"] or {}).items():
        bands[int(index)] = int(value)
    day = row["day"] if isinstance(row["day"], date) else date.fromisoformat(str(row["day"]))
    return Contribution(
        org_id=int(row["org_id"]),
        day=day,
        location_id=int(row["location_id"]),
        department_id=int(row["department_id"]),
        dimensions=tuple((str(d), str(v)) for d, v in row["dimensions"] or ()),
        measures=Measures(vector, bands),
        places=tuple(int(p) for p in row["places"] or (ORG_WIDE,)),
    )


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def hour_of_week(moment: datetime, zone: ZoneInfo) -> str:
    """ "<weekday 0=Monday>-<hour>", local: the staffing view's grid."""
    local = moment.astimezone(zone)
    return f"{local.weekday()}-{local.hour:02d}"


def measures_of_fact(fact: ConversationFacts, now: datetime) -> Measures:
    """The counters one conversation adds to each of its rows."""
    m = Measures()
    v, bands = m.vector, m.bands
    v[INDEX["conversations"]] = 1
    first_response = fact.first_response_seconds
    if fact.first_inbound_at is not None:
        v[INDEX["with_inbound"]] = 1
        if first_response is not None:
            v[INDEX["answered"]] = 1
            v[INDEX["first_response_sum"]] = int(first_response)
            v[FR_START + bucket_of(first_response)] = 1
        for window, span in RESPONSE_WINDOWS.items():
            inside = first_response is not None and first_response <= span.total_seconds()
            v[INDEX[f"answered_{window}"]] = int(inside)
            v[INDEX[f"eligible_{window}"]] = int(inside or now - fact.first_inbound_at >= span)
    resolution = fact.resolution_seconds
    if resolution is not None:
        v[INDEX["resolved"]] = 1
        v[INDEX["resolution_sum"]] = int(resolution)
        bands[HISTOGRAM_START["resolution"] + bucket_of(resolution)] = 1
    if fact.sentiment in ("positive", "neutral", "negative"):
        v[INDEX[fact.sentiment]] = 1
    for target in SLA_TARGETS:
        met = fact.sla_met(target)
        if met is not None:
            v[INDEX[f"sla_{target}_decided"]] = 1
            v[INDEX[f"sla_{target}_met"]] = int(met)
    v[INDEX["approvals_requested"]] = fact.approvals_requested
    v[INDEX["approvals_approved"]] = fact.approvals_approved
    v[INDEX["approvals_rejected"]] = fact.approvals_rejected
    if fact.first_response_business_seconds is not None:
        bands[
            HISTOGRAM_START["first_response_business"] + bucket_of(fact.first_response_business_seconds)
        ] = 1
    for seconds in fact.review_seconds:
        bands[HISTOGRAM_START["review"] + bucket_of(seconds)] += 1
    return m


def dimension_values(
    fact: ConversationFacts, zone: ZoneInfo, account_keys: Mapping[int, str]
) -> tuple[tuple[str, str], ...]:
    """(dimension, value) of every breakdown a conversation counts in."""
    account = account_keys.get(fact.account_id) if fact.account_id is not None else None
    return (
        ("channel", fact.channel or UNKNOWN),
        ("account", (account or UNKNOWN)[:100]),
        ("intent", (fact.intent or UNKNOWN)[:100]),
        ("language", fact.language or UNKNOWN),
        ("stage", fact.stage or UNKNOWN),
        ("sentiment", fact.sentiment or UNKNOWN),
        ("assignee", str(fact.assignee_id) if fact.assignee_id is not None else ""),
        ("policy", (fact.sla_policy or "")[:100]),
        ("hour", hour_of_week(fact.first_inbound_at or fact.created_at, zone)),
    )


def places_of(location_id: int, paths: Mapping[int, str]) -> tuple[int, ...]:
    """The location and the places above it, from its materialised path ("/3/17/204/"), then
    ORG_WIDE; a location not in `paths` counts for itself and the organisation only."""
    path = paths.get(location_id)
    above = [int(part) for part in path.strip("/").split("/") if part.isdigit()] if path else [location_id]
    ordered = list(dict.fromkeys(reversed([*above, location_id])))
    return (*(p for p in ordered if p != ORG_WIDE), ORG_WIDE)


def contribution_of(
    org_id: int,
    fact: ConversationFacts,
    zone: ZoneInfo,
    now: datetime,
    account_keys: Mapping[int, str],
    paths: Mapping[int, str] | None = None,
) -> Contribution:
    location = fact.location_id or ORG_WIDE
    return Contribution(
        org_id=org_id,
        day=local_day(fact.created_at, zone),
        location_id=location,
        department_id=fact.department_id or NO_DEPARTMENT,
        dimensions=dimension_values(fact, zone, account_keys),
        measures=measures_of_fact(fact, now),
        places=places_of(location, paths or {}) if location != ORG_WIDE else (ORG_WIDE,),
    )


@dataclass
class Deltas:
    """Changes to apply to the rollup rows, summed over a batch of conversations."""

    rows: dict[tuple[int, RowKey], Measures]
    bands: dict[tuple[int, int, date, int], np.ndarray]

    @classmethod
    def empty(cls) -> Deltas:
        return cls({}, {})

    def apply(self, contribution: Contribution, sign: int) -> None:
        m = contribution.measures
        delta = m.vector if sign == 1 else -m.vector
        rows = self.rows
        for key in contribution.keys():
            found = rows.get((contribution.org_id, key))
            if found is None:
                rows[(contribution.org_id, key)] = Measures(delta.copy(), _zeros(0))
            else:
                found.vector += delta
        if m.bands.any():
            for place, day, department in contribution.band_keys():
                band_key = (contribution.org_id, place, day, department)
                found_bands = self.bands.get(band_key)
                if found_bands is None:
                    self.bands[band_key] = found_bands = _zeros(len(HISTOGRAM_FIELDS))
                found_bands += sign * m.bands

    def replace(self, old: Contribution | None, new: Contribution | None) -> None:
        if old is not None:
            self.apply(old, -1)
        if new is not None:
            self.apply(new, 1)

    def changed_rows(self) -> Iterable[tuple[tuple[int, RowKey], np.ndarray]]:
        return ((key, m.vector) for key, m in self.rows.items() if m.vector.any())

    def changed_bands(self) -> Iterable[tuple[tuple[int, int, date, int], np.ndarray]]:
        return ((key, bands) for key, bands in self.bands.items() if bands.any())
