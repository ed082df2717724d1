"""Rollup rows made on the spot from a few conversations' contributions (pure).

A person limited to named channel accounts (a recruiter on the careers page) cannot be served from
the rollups, which are kept per location and department, not per account and every other value at
once. Their conversations are few, so their report folds them here, into the same sums the
database would answer, and the report is built by the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np

from relaydesk.analytics.rollup import ALL, Contribution
from relaydesk.core.rollup_fields import FIELDS, HISTOGRAM_FIELDS


class LiveRows:
    def __init__(self, contributions: Sequence[Contribution]) -> None:
        self.contributions = list(contributions)

    def _within(self, start: date, end: date) -> list[Contribution]:
        return [c for c in self.contributions if start <= c.day <= end]

    def sums(
        self, start: date, end: date, dimension: str, group_by: tuple[str, ...]
    ) -> list[tuple[tuple[Any, ...], list[int]]]:
        """What `rollup_repository.rollup_sums` answers for these conversations."""
        groups: dict[tuple[Any, ...], np.ndarray] = {}
        for c in self._within(start, end):
            values = dict(c.dimensions)
            if dimension == ALL:
                value = ""
            elif dimension == "location":
                value = str(c.location_id)
            elif dimension in values:
                value = values[dimension]
            else:
                continue
            fields = {
                "day": c.day,
                "department_id": c.department_id,
                "location_id": c.location_id,
                "value": value,
            }
            key = tuple(fields[name] for name in group_by)
            found = groups.get(key)
            if found is None:
                groups[key] = found = np.zeros(len(FIELDS), dtype=np.int64)
            found += c.measures.vector
        return [(key, vector.tolist()) for key, vector in groups.items()]

    def bands(self, start: date, end: date) -> list[int]:
        """What `rollup_repository.band_sums` answers for these conversations."""
        total = np.zeros(len(HISTOGRAM_FIELDS), dtype=np.int64)
        for c in self._within(start, end):
            total += c.measures.bands
        return [int(x) for x in total.tolist()]
