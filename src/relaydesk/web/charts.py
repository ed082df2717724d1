"""Chart geometry for the reports page (pure): the template draws it as inline SVG.

No chart library: the page works offline and under a strict Content-Security-Policy (no inline
styles or scripts), so bars and lines are SVG shapes whose sizes are attributes computed here.
Every chart also has its numbers as a table beside it, for screen readers and for reading exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 560.0
HEIGHT = 200.0
PAD_TOP = 10.0
PAD_BOTTOM = 4.0


@dataclass(frozen=True, slots=True)
class Bar:
    index: int
    x: float
    y: float
    width: float
    height: float
    value: float | None


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    value: float


@dataclass(frozen=True, slots=True)
class Chart:
    width: float
    height: float
    bars: tuple[Bar, ...]
    line: str  # SVG polyline points; "" when there is nothing to draw
    dots: tuple[tuple[float, float, int], ...]  # (x, y, index) of each point that has a value
    ticks: tuple[Tick, ...]
    top: float


def nice_top(highest: float) -> float:
    """A round number at or above `highest` for the axis (1, 2, 2.5, 5 x 10^n)."""
    if highest <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(highest))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= highest:
            return float(step * power)
    return float(10 * power)


def _ticks(top: float, plot: float) -> tuple[Tick, ...]:
    return tuple(Tick(PAD_TOP + plot - plot * n / 4, top * n / 4) for n in range(5))


def bar_chart(values: Sequence[float | None], width: float = WIDTH, height: float = HEIGHT) -> Chart:
    """One bar per value, left to right in time; missing values draw no bar."""
    plot = height - PAD_TOP - PAD_BOTTOM
    top = nice_top(max((v for v in values if v is not None), default=0.0))
    slot = width / max(1, len(values))
    gap = min(4.0, slot * 0.2)
    bars = []
    for index, value in enumerate(values):
        size = plot * (value or 0.0) / top
        bars.append(
            Bar(
                index,
                round(index * slot + gap / 2, 2),
                round(PAD_TOP + plot - size, 2),
                round(slot - gap, 2),
                round(size, 2),
                value,
            )
        )
    return Chart(width, height, tuple(bars), "", (), _ticks(top, plot), top)


def line_chart(
    values: Sequence[float | None], width: float = WIDTH, height: float = HEIGHT, top: float | None = None
) -> Chart:
    """A line through the values that exist (a gap where a day had none), one slot per value."""
    plot = height - PAD_TOP - PAD_BOTTOM
    ceiling = top if top is not None else nice_top(max((v for v in values if v is not None), default=0.0))
    slot = width / max(1, len(values))
    dots = []
    for index, value in enumerate(values):
        if value is None:
            continue
        x = round(index * slot + slot / 2, 2)
        y = round(PAD_TOP + plot - plot * min(value, ceiling) / ceiling, 2)
        dots.append((x, y, index))
    line = " ".join(f"{x},{y}" for x, y, _ in dots)
    return Chart(width, height, (), line, tuple(dots), _ticks(ceiling, plot), ceiling)


@dataclass(frozen=True, slots=True)
class HeatCell:
    weekday: int
    hour: int
    x: float
    y: float
    size: float
    opacity: float  # 0..1 of the busiest hour
    value: float


def heat_cells(grid: Sequence[Sequence[float]], size: float = 26.0) -> tuple[HeatCell, ...]:
    """A 7 x 24 grid (weekday rows, hour columns) shaded by its share of the busiest cell."""
    busiest = max((v for row in grid for v in row), default=0.0) or 1.0
    return tuple(
        HeatCell(
            day,
            hour,
            hour * size,
            day * size,
            size - 2,
            round(0.08 + 0.92 * value / busiest, 3) if value else 0.0,
            value,
        )
        for day, row in enumerate(grid)
        for hour, value in enumerate(row)
    )
