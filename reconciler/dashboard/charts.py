"""Inline SVG charts laid out in Python (pure): the templates only draw the shapes, so a page
needs no charting script and nothing from the network, and prints as it shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a chart, in SVG units."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class BarChart:
    """A bar chart laid out for SVG."""

    width: int
    height: int
    baseline: float
    bars: tuple[Bar, ...]
    title: str


def bar_chart(
    values: Sequence[tuple[str, float, str]], title: str, width: int = 360, height: int = 140
) -> BarChart:
    """Vertical bars, one per (label, value, value as text), scaled to the largest value."""
    label_band = 18.0
    top = 6.0
    plot = height - label_band - top
    biggest = max((v for _, v, _ in values), default=0.0) or 1.0
    slot = width / max(len(values), 1)
    bars = []
    for index, (label, value, text) in enumerate(values):
        h = plot * max(value, 0.0) / biggest
        bars.append(
            Bar(
                round(index * slot + slot * 0.15, 2),
                round(top + plot - h, 2),
                round(slot * 0.7, 2),
                round(h, 2),
                label,
                text,
            )
        )
    return BarChart(width, height, top + plot, tuple(bars), title)


@dataclass(frozen=True, slots=True)
class Trend:
    """A sparkline of a pool's use over time against its size."""

    width: int
    height: int
    points: str  # the SVG polyline's points
    capacity_y: float  # where the pool is full
    first: date
    last: date
    title: str


def trend(
    series: Sequence[tuple[date, int]], size: int, title: str, width: int = 160, height: int = 36
) -> Trend | None:
    """None with fewer than two points: one point is no trend."""
    if len(series) < 2 or size <= 0:
        return None
    first, last = series[0][0], series[-1][0]
    span = max((last - first).days, 1)
    top = max(size, max(used for _, used in series))

    def y(used: int) -> float:
        return round(2 + (height - 4) * (1 - used / top), 2)

    points = " ".join(
        f"{round((day - first).days / span * (width - 4) + 2, 2)},{y(used)}" for day, used in series
    )
    return Trend(width, height, points, y(size), first, last, title)


def full_by(series: Sequence[tuple[date, int]], size: int, window: int = 6) -> date | None:
    """When the pool fills if the recent growth goes on: a least-squares line through the last
    `window` points. None when it is not growing (or there is too little history)."""
    recent = list(series[-window:])
    if len(recent) < 2 or size <= 0:
        return None
    if recent[-1][1] >= size:
        return recent[-1][0]
    origin = recent[0][0]
    xs = [(day - origin).days for day, _ in recent]
    ys = [used for _, used in recent]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    if slope <= 0:
        return None
    days = (size - recent[-1][1]) / slope
    if days > 365 * 50:
        return None  # no forecast worth printing
    return recent[-1][0] + timedelta(days=int(days) + 1)
