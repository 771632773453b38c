"""The reports' chart axes: ticks that read easily, never two the same, whole numbers for messages."""
from __future__ import annotations

import pytest

from webapp.dashboard.charts import Axis, line_chart


def y_labels(most: float, **kind) -> list[str]:
    return [tick.label for tick in line_chart("t", ["a", "b"], {"s": [0, most]}, "y", **kind).y_ticks]


@pytest.mark.parametrize(("most", "kind", "labels"), [
    (0.19, {}, ["0", "0.05", "0.1", "0.15", "0.2"]),  # a day's cost in cents: was 0, 0.1, 0.1, 0.2, 0.2
    (2, {"whole": True}, ["0", "1", "2"]),  # two failed messages: was 0, 0.5, 1, 1.5, 2
    (32, {"whole": True}, ["0", "10", "20", "30", "40"]),
    (1234, {"whole": True}, ["0", "500", "1,000", "1,500"]),
    (0, {"whole": True}, ["0", "1"]),
    (87.5, {"percent": True}, ["0%", "25%", "50%", "75%", "100%"]),
    (100, {"percent": True}, ["0%", "25%", "50%", "75%", "100%"]),
    (9.99, {}, ["0", "2.5", "5", "7.5", "10"]),
])
def test_the_y_axis_reads_in_round_steps_from_zero_past_the_largest_value(most, kind, labels):
    assert y_labels(most, **kind) == labels


@pytest.mark.parametrize("whole", [False, True])
def test_no_two_ticks_read_the_same_and_the_top_holds_the_largest_value(whole):
    for most in [n / 1000 for n in range(1, 3000, 7)] + list(range(1, 5000, 13)):
        axis = Axis.above(most, whole)
        labels = [axis.label(value) for value in axis.values()]
        assert len(set(labels)) == len(labels), (most, labels)
        assert most <= axis.top + 1e-9 and axis.steps <= Axis.MOST_STEPS, (most, axis)
        assert not whole or all(float(label.replace(",", "")).is_integer() for label in labels), (most, labels)
