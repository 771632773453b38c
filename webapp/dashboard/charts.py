"""Line charts drawn on the server as inline SVG: the geometry here, the drawing in templates/reports/partials/chart.html.

No JavaScript: the SVG scales with its box (a viewBox), and every chart is followed by its numbers in a table.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 12, 36  # room for the axes' labels
MOST_X_LABELS = 6


@dataclass(frozen=True)
class Tick:
    at: float  # x or y in the viewBox
    label: str


@dataclass(frozen=True)
class Line:
    name: str
    points: str  # "x,y x,y …" for <polyline points>
    dots: list[tuple[float, float]]


@dataclass(frozen=True)
class Chart:
    title: str
    lines: list[Line]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    y_label: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom: float = HEIGHT - BOTTOM
    right: float = WIDTH - RIGHT


def line_chart(title: str, labels: list[str], series: dict[str, list[float]], y_label: str,
               percent: bool = False) -> Chart:
    """Lines for `series` (name -> one value per label) over the labels, with a y axis from 0 to a round number."""
    top = _round_up(max((value for values in series.values() for value in values), default=0) or 1)
    if percent:
        top = min(top, 100)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels) - 1, 1)

    def x(i: int) -> float:
        return round(LEFT + (i * step if len(labels) > 1 else plot_w / 2), 1)

    def y(value: float) -> float:
        return round(TOP + plot_h - plot_h * (value / top), 1)

    lines = []
    for name, values in series.items():
        dots = [(x(i), y(value)) for i, value in enumerate(values)]
        lines.append(Line(name, " ".join(f"{a},{b}" for a, b in dots), dots if len(dots) <= 31 else []))
    every = max(1, math.ceil(len(labels) / MOST_X_LABELS))
    x_ticks = [Tick(x(i), label) for i, label in enumerate(labels) if i % every == 0]
    y_ticks = [Tick(y(top * share / 4), _number(top * share / 4, percent)) for share in range(5)]
    return Chart(title, lines, x_ticks, y_ticks, y_label)


def _round_up(value: float) -> float:
    """The next 1, 2, 2.5 or 5 × 10ⁿ at or above `value`: an axis whose ticks read easily."""
    magnitude = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 2.5, 5, 10):
        if value <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude  # pragma: no cover - the loop ends at 10


def _number(value: float, percent: bool) -> str:
    text = f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"
    return f"{text} %" if percent else text
