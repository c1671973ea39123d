"""A row of the benchmark table and the two ways rows are made from repeated timings: a rate, and a ratio of two
rows repeat by repeat."""

import statistics
from typing import NamedTuple


class Row(NamedTuple):
    """One measured quantity of the table."""

    name: str
    unit: str  # "steps/s" (the table adds a ratio to the seed-style row), "x", "s", "s wall" or "s cpu"
    median: float  # over ``values``
    values: list  # one per repeat, in the order they ran


def row(name, unit, values):
    """The ``Row`` of ``values``, with their median."""
    values = list(values)
    return Row(name, unit, statistics.median(values), values)


def rate(name, work, seconds_of, repeats):
    """A steps/s row: ``work`` steps over the seconds ``seconds_of()`` returns, called once per repeat."""
    return row(name, "steps/s", [work / seconds_of() for _ in range(repeats)])


def ratio(name, numerator, denominator):
    """Row ``numerator`` over row ``denominator``, repeat i over repeat i (unit "x"): the median of the ratios, which
    compares runs made at about the same time, not the ratio of the medians."""
    return row(name, "x", [a / b for a, b in zip(numerator.values, denominator.values, strict=True)])
