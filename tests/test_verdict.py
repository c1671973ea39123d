"""``runs.verdict``: the one measure, the thresholds and their phrases."""

import numpy as np
import pytest

from amsgrad_repro.runs import verdict
from amsgrad_repro.runs.trajectory import Trajectory


def trajectory(x, steps_done=None, **fields):
    tr = Trajectory("adam", 0, "tb", **fields)
    for t, value in enumerate(x, start=1):
        tr.record(t, value, 0.0)
    tr.steps_done = len(x) if steps_done is None else steps_done
    tr.final_x = x[-1] if x else float("nan")
    return tr


def test_the_tail_is_the_last_tenth_of_the_steps():
    tr = trajectory([0.0] * 90 + [1.0] * 5 + [0.5] * 5)  # t = 91..100 are the tail
    assert verdict.tail_x(tr) == pytest.approx(0.75)
    nothing_logged = trajectory([0.3], steps_done=1000)  # t = 1 only: the final x stands in
    assert verdict.tail_x(nothing_logged) == 0.3


def test_the_engines_running_tail_mean_equals_the_trajectory_measure():
    rng = np.random.default_rng(0)
    steps, every = 1000, 7
    logged = np.arange(every, steps + 1, every)
    x = rng.uniform(-1, 1, (3, len(logged))).astype(np.float32)
    tail = verdict.TailMean(steps)
    for part in np.array_split(np.arange(len(logged)), 4):  # fed in chunks, as the engines do
        tail.add(logged[part], x[:, part])
    for r in range(3):
        tr = Trajectory("sgd", 0, "tb", steps=list(logged), x=[float(v) for v in x[r]], steps_done=steps)
        assert tail.value(np.zeros(3))[r] == verdict.tail_x(tr)  # bit for bit


@pytest.mark.parametrize("x, reached, phrase", [
    (-0.95, True, "reached x*"), (-0.85, False, "missed x* = -1"), (0.95, False, "missed x* = -1"),
])
def test_a_run_reaches_x_star_within_the_tolerance(x, reached, phrase):
    tr = trajectory([x] * 10)
    assert verdict.reached(tr, -1.0) is reached
    assert verdict.run_phrase(tr, -1.0) == phrase


def test_a_diverged_or_interrupted_run_says_so():
    tr = trajectory([-1.0] * 10, diverged_at=7)
    assert not verdict.reached(tr, -1.0)
    assert verdict.run_phrase(tr, -1.0) == "diverged (NaN at t = 7)"
    stopped = trajectory([-1.0] * 10, interrupted=True)
    assert verdict.run_phrase(stopped, -1.0) == "reached x* (interrupted)"


@pytest.mark.parametrize("tail, where", [
    (-0.92, "reached x* = -1"), (0.93, "at the worst point +1"), (0.2, "missed x* = -1"),
])
def test_the_position_of_a_tail(tail, where):
    assert verdict.position(tail, -1.0, 1.0, show=lambda v: f"{v:+g}") == where


@pytest.mark.parametrize("tail, breaks, stuck, phrase", [
    (-0.01, False, False, None), (0.0, True, False, "ends in the wrong half"),
    (0.89, True, False, "ends in the wrong half"), (0.9, True, True, "stuck at the worst point"),
])
def test_break_thresholds(tail, breaks, stuck, phrase):
    assert verdict.break_record(tail) == {"tail_x": tail, "breaks": breaks, "stuck": stuck}
    if breaks:
        assert verdict.break_phrase(tail) == phrase
    assert list(verdict.breaks(np.array([tail, -1.0]))) == [breaks, False]
