"""What one run of one optimizer on a synthetic problem produced.

Both engines return a ``Trajectory``; reports and commands read it, and ``runs.verdict`` judges it.
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
    seconds: float = 0.0  # wall time of the run, from its first step to its end (logging included)
    stepping_seconds: float = 0.0  # of those, the time spent stepping; 0: not measured apart (torchbearer)
    load: dict | None = None  # fused engine: how its driver was had before the clock started (``fused.Batch.load``)
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
        """Steps per second of stepping: the fused engine's kernel and draws alone (not its driver's compile or load,
        nor the logging around it); the torchbearer engine's whole Trial loop."""
        seconds = self.stepping_seconds or self.seconds
        return self.steps_done / seconds if seconds > 0 else float("nan")


def by_optimizer(trajectories):
    """{optimizer: [its trajectories, one per seed]} in first-seen order."""
    groups = {}
    for tr in trajectories:
        groups.setdefault(tr.optimizer, []).append(tr)
    return groups


def as_arrays(trajectory):
    """(steps, x, average_regret) as numpy arrays."""
    return tuple(np.asarray(a) for a in (trajectory.steps, trajectory.x, trajectory.average_regret))


def auto_every(steps):
    """The logging interval of a ``steps``-step run at auto logging (``--log-every 0``): about 2000 points."""
    return max(1, steps // 2000)
