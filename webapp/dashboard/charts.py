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
               percent: bool = False, whole: bool = False) -> Chart:
    """Lines for `series` (name -> one value per label) over the labels, with a y axis from 0 to a round number
    (whole numbers only for counts: `whole`)."""
    axis = Axis.above(max((value for values in series.values() for value in values), default=0), whole)
    if percent and axis.top > 100:
        axis = Axis(25, 4)  # a rate reaches 100 % at most
    top = axis.top
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
    y_ticks = [Tick(y(value), axis.label(value, percent)) for value in axis.values()]
    return Chart(title, lines, x_ticks, y_ticks, y_label)


@dataclass(frozen=True)
class Axis:
    """A value axis from 0 in `steps` equal steps of `step`: 1, 2, 2.5 or 5 × 10ⁿ, so that every tick reads
    easily and no two read the same."""

    step: float
    steps: int

    NICE = (1, 2, 2.5, 5, 10)
    MOST_STEPS = 4

    @classmethod
    def above(cls, most: float, whole: bool = False) -> Axis:
        """The axis of the fewest round steps (at most four) reaching `most`; a step of at least 1 for counts."""
        most = most if most > 0 else 1
        wanted = most / cls.MOST_STEPS
        magnitude = 10 ** math.floor(math.log10(wanted))
        step = next(factor * magnitude for factor in cls.NICE if wanted <= factor * magnitude * (1 + 1e-9))
        if whole and step != int(step):  # 0.5 messages, 2.5 messages: the next whole round step
            step = next(factor for factor in cls.NICE if factor >= max(step, 1) and factor == int(factor))
        return cls(step, max(1, math.ceil(most / step - 1e-9)))

    @property
    def top(self) -> float:
        return self.step * self.steps

    def values(self) -> list[float]:
        return [self.step * n for n in range(self.steps + 1)]

    @property
    def decimals(self) -> int:
        """As many as the step needs: 0.05 two, 2.5 one, 25 none."""
        places = 0
        while round(self.step, places) != round(self.step, 12) and places < 12:
            places += 1
        return places

    def label(self, value: float, percent: bool = False) -> str:
        """The value with the step's decimals, less its trailing zeros: 0, 0.05, 0.1, 0.15."""
        text = f"{value:,.{self.decimals}f}"
        text = text.rstrip("0").rstrip(".") if "." in text else text
        return f"{text}%" if percent else text
