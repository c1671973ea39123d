"""Run layout, trajectories and summaries shared by both engines.

Layout: every invocation gets a fresh directory ``<logdir>/<problem>-<YYYYmmdd-HHMMSS>[-k]``; it is created with
``exist_ok=False``, so a re-run never writes into an earlier one. Inside, each optimizer (and seed) has
torchbearer's TensorBoard layout ``<Model>_<label>/epoch-0/`` with the tags in ``TAGS``; the same tags in every run
make TensorBoard overlay all optimizers in one chart. ``summary.json`` and ``figure.png`` sit beside them.
"""

import json
import os
import signal
import threading
import time
from dataclasses import asdict, dataclass, field

import numpy as np

TAGS = {"x": "batch/x", "average_regret": "batch/average_regret"}


class CtrlC:
    """Ctrl-C as a flag: while active, SIGINT sets ``requested`` instead of raising KeyboardInterrupt anywhere.

    The engines look at the flag at safe points (torchbearer: ``STOP_TRAINING`` after a step; fused: between
    chunks), so an interrupt never lands inside tensorboardX's writer. There it can leave ``close()`` waiting forever:
    a run interrupted that way hung in ``EventFileWriter.close``. A second Ctrl-C raises KeyboardInterrupt.
    Outside the main thread, where signal handlers cannot be set, it does nothing.
    """

    def __init__(self):
        self.requested = False

    def __enter__(self):
        self.requested = False
        self._active = threading.current_thread() is threading.main_thread()
        if self._active:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self._active:
            signal.signal(signal.SIGINT, self._previous)


class RunInterrupted(Exception):
    """Ctrl-C during a run; carries the partial result (a ``Trajectory``, or a real-data ``RunResult``)."""

    def __init__(self, partial):
        super().__init__("interrupted")
        self.partial = partial


@dataclass
class Trajectory:
    """What one run of one optimizer produced: the logged curve and the final values."""

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

    def record(self, t, x, average_regret):
        self.steps.append(int(t))
        self.x.append(float(x))
        self.average_regret.append(float(average_regret))

    @property
    def steps_per_s(self):
        return self.steps_done / self.seconds if self.seconds > 0 else float("nan")


def label(optimizer, seed, seeds):
    """The TensorBoard run label of one optimizer (and seed, when there are several)."""
    safe = optimizer.replace(":", ".")
    return safe if seeds == 1 else f"{safe}_seed{seed}"


def tb_dir(run_dir, model, run_label):
    """torchbearer's batch-metric directory for a model and comment: ``<Model>_<comment>/epoch-0``."""
    return os.path.join(run_dir, f"{type(model).__name__}_{run_label}", "epoch-0")


def write_seed_bands(run_dir, model, trajectories):
    """For each optimizer run over several seeds, TensorBoard runs ``<Model>_<optimizer>_{mean,p10,p90}/epoch-0``.

    They carry the same tags as the per-seed runs, at the steps every seed logged, so TensorBoard overlays the mean
    and the 10-90 % band on the seeds' curves. Returns the directories written.
    """
    from tensorboardX import SummaryWriter

    groups = {}
    for tr in trajectories:
        groups.setdefault(tr.optimizer, []).append(tr)
    written = []
    for name, group in groups.items():
        if len(group) < 2:
            continue
        n = min(len(tr.steps) for tr in group)
        curves = {tag: np.array([getattr(tr, key)[:n] for tr in group]) for key, tag in TAGS.items()}
        statistics = {"mean": lambda v: v.mean(axis=0), "p10": lambda v: np.percentile(v, 10, axis=0),
                      "p90": lambda v: np.percentile(v, 90, axis=0)}
        for stat, reduce in statistics.items():
            path = tb_dir(run_dir, model, f"{label(name, 0, 1)}_{stat}")
            with SummaryWriter(path) as writer:
                for tag, values in curves.items():
                    for t, value in zip(group[0].steps[:n], reduce(values).tolist()):
                        writer.add_scalar(tag, value, t)
            written.append(path)
    return written


def new_run_dir(logdir, name):
    """Creates and returns a fresh run directory under ``logdir``; never reuses an existing one."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    os.makedirs(logdir, exist_ok=True)
    for k in range(1, 1000):
        path = os.path.join(logdir, f"{name}-{stamp}" + (f"-{k}" if k > 1 else ""))
        try:
            os.makedirs(path)
            return path
        except FileExistsError:
            continue
    raise OSError(f"no free run directory name under {logdir}")


def tail_x(trajectory, fraction=0.1):
    """Mean of the logged x_t over the last ``fraction`` of the steps (x_T itself when none was logged there).

    On the stochastic problems x_t keeps jumping after each rare gradient, so x_T alone is a noisy verdict.
    """
    steps, x, _ = as_arrays(trajectory)
    tail = x[steps > (1 - fraction) * trajectory.steps_done]
    return float(tail.mean()) if len(tail) else trajectory.final_x


def converged(trajectory, optimum, tolerance=0.1):
    """The verdict: the last 10 % of x_t average within ``tolerance`` (5 % of the width of [-1, 1]) of x*."""
    return abs(tail_x(trajectory) - optimum) <= tolerance


def write_summary(run_dir, settings, engine, problem, trajectories, interrupted, **extra):
    """Writes ``summary.json``: settings, engine, problem, per run the final values, speed and TB location, and
    ``extra`` keys (compare's leaderboard)."""
    summary = {
        "interrupted": interrupted,
        "engine": engine,
        "settings": asdict(settings),
        "problem": {
            "class": type(problem).__name__,
            "optimum": problem.optimum,
            "mean_coefficient": problem.mean_coefficient,
            "domain": list(problem.domain),
        },
        "runs": [
            {
                "optimizer": tr.optimizer,
                "seed": tr.seed,
                "steps_done": tr.steps_done,
                "final_x": tr.final_x,
                "tail_mean_x": tail_x(tr),
                "final_average_regret": tr.final_average_regret,
                "converged": converged(tr, problem.optimum),
                "steps_per_s": tr.steps_per_s,
                "interrupted": tr.interrupted,
                "tensorboard_dir": os.path.relpath(tr.tb_dir, run_dir),
                "tags": TAGS,
            }
            for tr in trajectories
        ],
    }
    summary.update(extra)
    with open(os.path.join(run_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2, default=float)
    return summary


def format_table(problem, trajectories):
    """The stdout table: one row per run and a one-line verdict."""
    lines = [f"{'optimizer':<22}{'seed':>5}{'steps':>11}{'final x':>9}{'tail x':>9}{'R_T/T':>9}{'steps/s':>13}  "
             "verdict (tail x = mean x_t over the last 10 %)"]
    for tr in trajectories:
        verdict = "reached x*" if converged(tr, problem.optimum) else f"missed x* = {problem.optimum:+g}"
        if tr.interrupted:
            verdict += " (interrupted)"
        lines.append(
            f"{tr.optimizer:<22}{tr.seed:>5}{tr.steps_done:>11}{tr.final_x:>+9.4f}{tail_x(tr):>+9.4f}"
            f"{tr.final_average_regret:>9.4f}{tr.steps_per_s:>13,.0f}  {verdict}"
        )
    return "\n".join(lines)


def as_arrays(trajectory):
    """(steps, x, average_regret) as numpy arrays."""
    return tuple(np.asarray(a) for a in (trajectory.steps, trajectory.x, trajectory.average_regret))
