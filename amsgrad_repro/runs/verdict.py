"""Every judgement this package makes of a run: the measure, the thresholds, and their phrases.

The measure is the tail x: the mean of the logged x_t over the last ``TAIL`` of the T steps (x_T itself when none
was logged there). On the stochastic problems x_t jumps after each rare gradient, so x_T alone is a noisy verdict.
Every command judges the tail x, on every engine: a problem command's runs, ``compare``'s leaderboard, a
``sweep``'s cells and ``break``'s candidates, and the reports that read their files.

The thresholds, for a problem whose optimum x* is one end of the feasible set [−1, 1] and whose worst point is the
other:
- *reached x**: the tail x lies within ``TOLERANCE`` of x*;
- *at the worst point* (``break``: *stuck*): within ``TOLERANCE`` of the worst point;
- *breaks* (``break``, x* = −1): the tail x is ≥ ``BREAKS_AT`` = 0, in the wrong half.
"""

import numpy as np

TAIL = 0.1  # the share of the steps whose mean x_t is the measure
TOLERANCE = 0.1  # 5 % of the width of [−1, 1]
BREAKS_AT = 0.0  # the middle of [−1, 1]: a tail x here or above is in the wrong half when x* = −1
WORST = 1.0  # the worst point of the break families (x* = −1 on [−1, 1])


def in_tail(steps, steps_done, fraction=TAIL):
    """Which of the logged ``steps`` lie in the last ``fraction`` of ``steps_done`` steps (a boolean array)."""
    return np.asarray(steps) > (1 - fraction) * steps_done


def tail_x(trajectory, fraction=TAIL):
    """The tail x of one ``runs.trajectory.Trajectory``."""
    steps, x = np.asarray(trajectory.steps), np.asarray(trajectory.x, np.float64)
    tail = x[in_tail(steps, trajectory.steps_done, fraction)]
    return float(tail.mean()) if len(tail) else trajectory.final_x


class TailMean:
    """The tail x of R runs of T steps, fed chunk by chunk by an engine: the same numbers as ``tail_x`` gives for
    the same logged x_t (float32 values summed in float64, pairwise, per run)."""

    def __init__(self, steps):
        self.steps, self.parts = steps, []

    def add(self, logged, x):
        """``logged``: the steps of a chunk's log; ``x``: their x_t, (R, len(logged))."""
        self.parts.append(np.asarray(x)[:, in_tail(logged, self.steps)])

    def value(self, final_x):
        """(R,) float64: each run's tail x, or ``final_x`` where nothing was logged in the tail."""
        tail = np.ascontiguousarray(np.concatenate(self.parts, axis=1), dtype=np.float64)
        return tail.mean(axis=1) if tail.shape[1] else np.asarray(final_x, np.float64).copy()


def near(x, point, tolerance=TOLERANCE):
    """Whether x (a number or an array) lies within ``tolerance`` of ``point``."""
    return np.abs(np.asarray(x) - point) <= tolerance


def reached(trajectory, optimum):
    """A run reached x*: its tail x within ``TOLERANCE`` of x*, and no NaN on the way."""
    return trajectory.diverged_at is None and bool(near(tail_x(trajectory), optimum))


def run_phrase(trajectory, optimum):
    """``reached x*``, ``missed x* = <x*>`` or ``diverged (NaN at t = <t>)``, with ``(interrupted)`` after a
    signal."""
    if trajectory.diverged_at is not None:
        text = f"diverged (NaN at t = {trajectory.diverged_at})"
    else:
        text = "reached x*" if reached(trajectory, optimum) else f"missed x* = {optimum:+g}"
    return text + (" (interrupted)" if trajectory.interrupted else "")


def seeds_phrase(hits, seeds):
    """The verdict of several seeds: ``reached x* in k/n seeds``."""
    return f"reached x* in {hits}/{seeds} seeds"


def position(tail, optimum, worst, show=str):
    """Where a tail x ended: ``reached x* = <x*>``, ``at the worst point <w>`` or ``missed x* = <x*>``; ``show``
    formats the point."""
    if near(tail, optimum):
        return f"reached x* = {show(optimum)}"
    if near(tail, worst):
        return f"at the worst point {show(worst)}"
    return f"missed x* = {show(optimum)}"


def breaks(tail):
    """``break``: a tail x in the wrong half (a number or an array)."""
    return np.asarray(tail) >= BREAKS_AT


def stuck(tail):
    """``break``: a tail x at the worst point (a number or an array)."""
    return np.asarray(tail) >= WORST - TOLERANCE


def break_record(tail):
    """{tail_x, breaks, stuck} of one tail x, as ``summary.json`` and ``break.csv`` hold them."""
    return {"tail_x": float(tail), "breaks": bool(breaks(tail)), "stuck": bool(stuck(tail))}


def break_phrase(tail):
    """How a breaking tail x fails: ``stuck at the worst point`` or ``ends in the wrong half``."""
    return "stuck at the worst point" if stuck(tail) else "ends in the wrong half"


# T = ∞ (``engines.limits``): where x_t ends as t → ∞, with x* = −1, and how sure that is.
LIMIT_OUTCOMES = ("stuck", "breaks", "converges", "misses", "undecided")
"""``stuck``: the limit tail x is at the worst point (``stuck``); ``breaks``: in the wrong half (``breaks``), or on
the stochastic family x drifts up without bound on the whole line, so it piles up at the worst point; ``converges``:
within ``TOLERANCE`` of x*, or drifting down; ``misses``: a limit elsewhere (a wide cycle of a large step size);
``undecided``: no certificate (the record's reason says why)."""


LIMIT_SEVERITY = {"converges": 0, "undecided": 1, "misses": 2, "breaks": 3, "stuck": 4}
"""How badly each T = ∞ outcome fails, for ranking candidates: no certificate lies between converging and missing."""


def limit_outcome(tail):
    """The T = ∞ outcome of a limit tail x (x* = −1)."""
    if stuck(tail):
        return "stuck"
    if breaks(tail):
        return "breaks"
    return "converges" if near(tail, -1.0) else "misses"


def limit_phrase(outcome, steps):
    """A T = ∞ outcome as text, with the predicted steps from the worst point to x* when they are finite."""
    if outcome == "converges" and np.isfinite(steps):
        return f"converges (from +1 to x* in ~{steps:.3g} steps)"
    return {"stuck": "stuck at the worst point for ever", "breaks": "ends in the wrong half for ever",
            "misses": "misses x* for ever", "converges": "converges", "undecided": "undecided"}[outcome]
