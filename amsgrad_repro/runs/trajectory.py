"""What one run of one optimizer on a synthetic problem produced, and the verdict on it.

Both engines return a ``Trajectory``; reports and commands read it. The verdict measure is ``tail_x``, the mean of
the logged x_t over the last 10 % of the steps.
"""

import time
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Trajectory:
    """The logged curve of one run and its final values."""

    optimizer: str
    seed: int
    tb_dir: str
    steps: list = field(default_factory=list)
    x: list = field(default_factory=list)
    average_regret: list = field(default_factory=list)
    final_x: float = float("nan")
    final_average_regret: float = float("nan")
    steps_done: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    diverged_at: int | None = None  # the first t at which x_t is NaN (an update of ±inf is projected onto F)

    def record(self, t, x, average_regret):
        self.steps.append(int(t))
        self.x.append(float(x))
        self.average_regret.append(float(average_regret))

    def finish(self, start, steps_done, final_x, final_average_regret, interrupted):
        """Final values after ``steps_done`` steps: x_{T+1} (after the last update and projection) and R_T/T;
        ``start`` is the ``time.perf_counter()`` at which stepping began."""
        self.seconds = time.perf_counter() - start
        self.steps_done = int(steps_done)
        self.final_x = float(final_x)
        self.final_average_regret = float(final_average_regret)
        self.interrupted = interrupted

    @property
    def steps_per_s(self):
        return self.steps_done / self.seconds if self.seconds > 0 else float("nan")


def by_optimizer(trajectories):
    """{optimizer: [its trajectories, one per seed]} in first-seen order."""
    groups = {}
    for tr in trajectories:
        groups.setdefault(tr.optimizer, []).append(tr)
    return groups


def as_arrays(trajectory):
    """(steps, x, average_regret) as numpy arrays."""
    return tuple(np.asarray(a) for a in (trajectory.steps, trajectory.x, trajectory.average_regret))


TAIL = 0.1  # the share of the steps whose mean x_t is the verdict measure


def auto_every(steps):
    """The logging interval of a ``steps``-step run at auto logging (``--log-every 0``): about 2000 points."""
    return max(1, steps // 2000)


def in_tail(steps, steps_done, fraction=TAIL):
    """Which of the logged ``steps`` lie in the last ``fraction`` of ``steps_done`` steps (a boolean array)."""
    return np.asarray(steps) > (1 - fraction) * steps_done


def tail_x(trajectory, fraction=TAIL):
    """Mean of the logged x_t over the last ``fraction`` of the steps (x_T itself when none was logged there).

    On the stochastic problems x_t keeps jumping after each rare gradient, so x_T alone is a noisy verdict.
    """
    steps, x, _ = as_arrays(trajectory)
    tail = x[in_tail(steps, trajectory.steps_done, fraction)]
    return float(tail.mean()) if len(tail) else trajectory.final_x


TOLERANCE = 0.1  # of the verdict: 5 % of the width of [-1, 1]


def converged(trajectory, optimum, tolerance=TOLERANCE):
    """The verdict: the last 10 % of x_t average within ``tolerance`` of x*, and no NaN on the way."""
    return trajectory.diverged_at is None and abs(tail_x(trajectory) - optimum) <= tolerance


def verdict(trajectory, optimum):
    """``reached x*``, ``missed x* = <x*>`` or ``diverged (NaN at t = <t>)``, with ``(interrupted)`` after a signal."""
    if trajectory.diverged_at is not None:
        text = f"diverged (NaN at t = {trajectory.diverged_at})"
    else:
        text = "reached x*" if converged(trajectory, optimum) else f"missed x* = {optimum:+g}"
    return text + (" (interrupted)" if trajectory.interrupted else "")
