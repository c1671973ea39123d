"""The fused engine: ``kernels.advance`` driven chunk by chunk, with the torchbearer engine's outputs.

Hyperparameters are read from the param group that the registry's torch optimizer class builds (``optim.groups``),
so the kernel runs exactly what torch.optim would run; options a kernel does not implement (weight decay, Nesterov,
...) make ``hyperparameters`` raise ``Unsupported`` instead of being ignored.

Memory is bounded in the number of steps: coefficients and log columns exist for one chunk at a time.
"""

import time
from dataclasses import dataclass, replace

import numba
import numpy as np

from .. import experiment
from ..experiment import average_regret
from ..optim.groups import param_group
from ..runs.interrupt import STOP, RunInterrupted
from ..runs.layout import TAGS, tb_dir
from ..runs.trajectory import Trajectory, auto_every, in_tail
from . import kernels
from .events import EventFile
from .progress import Bar

CHUNK = 1 << 17  # steps per kernel call


class Unsupported(ValueError):
    """The optimizer has no fused kernel, or uses an option its kernel does not implement."""


READ = object()  # in a kernel's assumed values: the kernel reads this key, so any value is fine
_COMMON = {"weight_decay": 0, "maximize": False}
_KERNEL_GROUPS = {
    # kernel: (param-group values the kernel assumes, hp row (lr, a, b, eps, extra...) read from the group)
    "adam": ({"amsgrad": False, "decoupled_weight_decay": False}, lambda g: (g["lr"], *g["betas"], g["eps"], 0.0)),
    "amsgrad": ({"amsgrad": True, "decoupled_weight_decay": False}, lambda g: (g["lr"], *g["betas"], g["eps"], 0.0)),
    "sgd": ({"momentum": 0, "dampening": 0, "nesterov": False}, lambda g: (g["lr"], 0.0, 0.0, 0.0, 0.0)),
    "sgd_momentum": ({"dampening": 0, "nesterov": False}, lambda g: (g["lr"], g["momentum"], 0.0, 0.0, 0.0)),
    "adagrad": ({"lr_decay": 0}, lambda g: (g["lr"], 0.0, 0.0, g["eps"], g["initial_accumulator_value"])),
    "rmsprop": ({"momentum": 0, "centered": False}, lambda g: (g["lr"], 0.0, g["alpha"], g["eps"], 0.0)),
    "adam_paper": ({}, lambda g: (g["lr"], *g["betas"], 0.0, 1.0)),
    "amsgrad_paper": ({}, lambda g: (g["lr"], *g["betas"], 0.0, 1.0)),
    "adamnc": ({}, lambda g: (g["lr"], g["beta1"], 0.0, 0.0, 1.0)),
    "adamx": ({}, lambda g: (g["lr"], *g["betas"], 0.0, g["beta1_decay"])),
    "adamw": ({"amsgrad": False, "decoupled_weight_decay": True, "weight_decay": READ},
              lambda g: (g["lr"], *g["betas"], g["eps"], g["weight_decay"])),
    "adamax": ({}, lambda g: (g["lr"], *g["betas"], g["eps"], 0.0)),
    "radam": ({"decoupled_weight_decay": False}, lambda g: (g["lr"], *g["betas"], g["eps"], 0.0)),
    "nadam": ({"decoupled_weight_decay": False}, lambda g: (g["lr"], *g["betas"], g["eps"], g["momentum_decay"])),
    "adopt": ({"cautious": False, "stable_adamw": False}, lambda g: (g["lr"], *g["betas"], g["eps"], 0.0)),
    "padam": ({}, lambda g: (g["lr"], *g["betas"], g["eps"], g["partial"])),
    "adabelief": ({"rectify": False, "ams_bound": False, "adam_debias": False, "adanorm": False},
                  lambda g: (g["lr"], *g["betas"], g["eps"], 0.0)),
    "adabound": ({"ams_bound": False, "adam_debias": False},
                 lambda g: (g["lr"], *g["betas"], g["eps"], g["final_lr"], g["gamma"])),
    "amsbound": ({"ams_bound": True, "adam_debias": False},
                 lambda g: (g["lr"], *g["betas"], g["eps"], g["final_lr"], g["gamma"])),
    "yogi": ({"adam_debias": False},
             lambda g: (g["lr"], *g["betas"], g["eps"], g["initial_accumulator"])),
}
_INITIAL_ACCUMULATOR = {"adagrad": (0,), "yogi": (0, 1)}  # s32 columns that start at hp[4] instead of 0


def hyperparameters(spec, hyper):
    """(kind, hp row) for ``spec`` built with ``hyper``, read from the torch optimizer's param group
    (``optim.groups.param_group``: the constructor's own defaults and checks, without building the optimizer)."""
    if spec.kernel is None:
        raise Unsupported(f"optimizer {spec.name!r} has no fused kernel; use --engine torchbearer")
    group = param_group(spec, hyper)
    assumed, read = _KERNEL_GROUPS[spec.kernel]
    for key, value in {**_COMMON, **assumed}.items():
        if value is not READ and key in group and group[key] != value:
            raise Unsupported(f"the fused {spec.kernel} kernel needs {key}={value!r}, got {group[key]!r}")
    return kernels.KINDS.index(spec.kernel), np.array(read(group), dtype=np.float64)


def chunks(steps, size=CHUNK):
    """(t0, n) blocks covering t = 1 .. steps."""
    for t0 in range(1, steps + 1, size):
        yield t0, min(size, steps + 1 - t0)


@dataclass(frozen=True)
class Candidates:
    """R problems of the paper's families, one per run (see ``experiment.Online`` and ``experiment.Stochastic``).

    ``family`` is "online" (f_t = s·C·x when t mod P = 1, else −s·x) or "stochastic" (s·C·x when u_t < p, else −s·x,
    every candidate reading the uniform stream of ``experiment.Stochastic(seed=seed)``). ``period`` is read for
    online candidates only, ``p`` for stochastic ones.
    """

    family: str
    period: np.ndarray  # (R,) int64
    C: np.ndarray  # (R,) float64
    scale: np.ndarray  # (R,) float64
    p: np.ndarray  # (R,) float64
    seed: int = 0

    def __len__(self):
        return len(self.C)

    def part(self, start, stop):
        """Candidates ``start`` .. ``stop − 1``, for a tile of a round."""
        return replace(self, period=self.period[start:stop], C=self.C[start:stop], scale=self.scale[start:stop],
                       p=self.p[start:stop])

    def problem(self, r):
        """The ``experiment`` model of candidate r, for replays and tests."""
        if self.family == "online":
            return experiment.Online(scale=self.scale[r], C=self.C[r], period=self.period[r])
        return experiment.Stochastic(scale=self.scale[r], C=self.C[r], p=self.p[r], seed=self.seed)


@dataclass
class Outcome:
    """What ``evaluate`` measured per candidate (each (R,) float64)."""

    tail_x: np.ndarray  # mean of x_t over the logged t in the last 10 % of the steps (``trajectory.tail_x``)
    final_x: np.ndarray  # x_{T+1}
    average_regret: np.ndarray  # R_T/T


class Batch:
    """R runs of one kernel advancing together, run r on problem ``models[r]``.

    ``models`` are ``experiment`` problems of one family on one domain (one object may serve many runs). The kernel
    generates every run's a_t itself (``kernels.coefficient``) from float32(s·C), float32(−s) and P, or from the
    uniform draws, so R runs on R different problems cost no more than R runs on one. Stochastic runs whose models
    share a seed share one stream of draws, read from the first such model.
    """

    def __init__(self, kind, hp, models, schedule, every):
        self.kind, self.hp = kind, np.ascontiguousarray(hp, dtype=np.float64)
        runs = len(models)
        self.stochastic = isinstance(models[0], experiment.Stochastic)
        if any(isinstance(m, experiment.Stochastic) != self.stochastic or m.domain != models[0].domain
               for m in models):
            raise ValueError("a batch holds problems of one family on one domain")
        streams = {}
        if self.stochastic:
            for m in models:
                streams.setdefault(m.seed, m)
        self.streams = list(streams.values())
        seeds = list(streams)
        self.problems = kernels.Problems(
            big=np.array([m.scale * m.C for m in models], np.float64).astype(np.float32),
            small=np.array([-m.scale for m in models], np.float64).astype(np.float32),
            period=np.array([m.period if not self.stochastic else 1 for m in models], np.int64),
            p=np.array([m.p if self.stochastic else 0.0 for m in models], np.float64),
            stream=np.array([seeds.index(m.seed) if self.stochastic else 0 for m in models], np.int64),
            optimum=np.array([m.optimum for m in models], np.float64),
        )
        self.phase = np.zeros(runs, np.int64)  # (t − 1) mod P at the next step t
        # State rows are padded to one 64-byte cache line each: threads writing neighbouring runs' state would
        # otherwise share lines (measured: 2 runs on 2 threads ran at 52M run-steps/s, a third of one run alone).
        self.s32 = np.zeros((runs, 16), np.float32)
        for column in _INITIAL_ACCUMULATOR.get(kernels.KINDS[kind], ()):
            self.s32[:, column] = self.hp[:, 4]
        self.s64 = np.zeros((runs, 8), np.float64)
        self.x = np.zeros(runs, np.float32)  # x_1 = 0
        self.sums = np.zeros((runs, 2), np.float64)
        self.domain = np.asarray(models[0].domain, np.float32)
        self.sqrt, self.every = schedule == "sqrt", int(every)
        self.t = 0

    def step(self, n, uniforms=None, every=None):
        """Advances every run by n steps; returns the logged (steps, x (R, L), R_t/t (R, L)) of this chunk.

        ``uniforms`` replays a chunk with the draws it was given before (``draws``); ``every`` overrides the logging
        interval for this chunk.
        """
        t0, every = self.t + 1, every or self.every
        if uniforms is None:
            uniforms = self.draws(n)
        logged = np.arange((t0 + every - 1) // every, (t0 + n - 1) // every + 1) * every
        log_x = np.empty((len(self.x), len(logged)), np.float32)
        log_r = np.empty((len(self.x), len(logged)), np.float64)
        # At most one thread per run: an idle OpenMP thread spins at the region's barrier (2.5x the CPU time of a
        # 1-run batch measured here, and 2x its wall time when the cores are shared).
        numba.set_num_threads(min(len(self.x), numba.config.NUMBA_NUM_THREADS))
        kernels.advance(
            self.kind, self.problems, uniforms, self.stochastic, self.phase, self.hp, self.s32, self.s64, self.x,
            self.sums, t0, n, self.sqrt, self.domain, every, log_x, log_r,
        )
        self.t += n
        return logged, log_x, log_r

    def draws(self, n):
        """The uniform draws of the next n steps, one row per stream (a dummy row for the online family)."""
        if self.stochastic:
            return np.stack([m.draws(self.t + 1, n) for m in self.streams])
        return np.zeros((1, n))

    def state(self):
        """A copy of everything a chunk changes, for ``restore``."""
        return self.s32.copy(), self.s64.copy(), self.x.copy(), self.sums.copy(), self.phase.copy(), self.t

    def restore(self, state):
        self.s32[...], self.s64[...], self.x[...], self.sums[...], self.phase[...], self.t = state

    def first_nan(self, state, uniforms):
        """The first t of the chunk that started at ``state`` at which run 0's x_t is NaN, found by replaying the
        chunk with every step logged (the chunk's end state is kept)."""
        end = self.state()
        self.restore(state)
        logged, log_x, _ = self.step(uniforms.shape[1], uniforms, every=1)
        self.restore(end)
        nan = np.flatnonzero(np.isnan(log_x[0]))
        return int(logged[nan[0]]) if len(nan) else self.t + 1  # else x_{T+1}, after the chunk

    def average_regret(self):
        """R_T/T of every run after the steps taken so far."""
        return average_regret(self.sums[:, 0], self.sums[:, 1], self.problems.optimum, max(self.t, 1))


def evaluate(spec, hypers, candidates, steps, schedule="constant", progress=None):
    """Runs ``spec`` on every candidate for ``steps`` steps as one batch; returns their ``Outcome``.

    The tail x is exactly what ``runs.trajectory.tail_x`` gives for the problem command at auto logging (x_t logged
    every max(1, T // 2000) steps), so a candidate replayed through ``python -m amsgrad_repro online --period P
    --C C --scale s ...`` shows the same tail x.

    Args:
        spec: a registry entry with a kernel.
        hypers: one ``registry.Hyper`` for every candidate, or a list of R.
        candidates: the problems, as ``Candidates``.
        schedule: "constant" or "sqrt" (α_t = α/√t).
        progress: called as ``progress(steps_done, steps)`` after every chunk.

    Raises:
        Unsupported: ``spec`` has no kernel for these hyperparameters.
    """
    runs = len(candidates)
    hypers = hypers if isinstance(hypers, (list, tuple)) else [hypers] * runs
    rows = {}
    for hyper in hypers:
        if hyper not in rows:
            rows[hyper] = hyperparameters(spec, hyper)
    kind = rows[hypers[0]][0]
    models = [candidates.problem(r) for r in range(runs)]
    batch = Batch(kind, np.stack([rows[h][1] for h in hypers]), models, schedule, every=auto_every(steps))
    tail = []
    for _, n in chunks(steps):
        logged, log_x, _ = batch.step(n)
        tail.append(log_x[:, in_tail(logged, steps)])
        if progress is not None:
            progress(batch.t, steps)
    tail = np.concatenate(tail, axis=1).astype(np.float64)
    final_x = batch.x.astype(np.float64)
    tail_x = tail.mean(axis=1) if tail.shape[1] else final_x.copy()
    return Outcome(tail_x=tail_x, final_x=final_x, average_regret=batch.average_regret())


def run(problem, spec, kernel, settings, run_dir, run_label, seed, progress=True):
    """The fused counterpart of ``trial.run``, with the kernel row ``kernel`` = ``hyperparameters(spec, hyper)`` in
    place of the hyperparameters: the same ``Trajectory``, TensorBoard layout and tags.

    Raises:
        RunInterrupted: on Ctrl-C or SIGTERM, at the end of the current chunk, after the writer was closed.
    """
    kind, hp = kernel
    batch = Batch(kind, hp[None, :], [problem], settings.schedule, settings.every)
    trajectory = Trajectory(spec.name, seed, tb_dir=tb_dir(run_dir, problem, run_label))
    writer = EventFile(trajectory.tb_dir)
    bar = Bar(f"{run_label} [fused]", settings.steps) if progress else None
    start = time.perf_counter()
    with STOP.catching():
        for _, n in chunks(settings.steps):
            if STOP.requested:
                break
            before, uniforms = batch.state(), batch.draws(n)
            logged, log_x, log_r = batch.step(n, uniforms)
            if np.isnan(batch.x[0]):  # NaN stays NaN through the projection, as with clamp_
                trajectory.diverged_at = batch.first_nan(before, uniforms)
                keep = logged < trajectory.diverged_at  # no NaN reaches TensorBoard
                logged, log_x, log_r = logged[keep], log_x[:, keep], log_r[:, keep]
            writer.write(logged, {TAGS["x"]: log_x[0], TAGS["average_regret"]: log_r[0]})
            for t, x, r in zip(logged.tolist(), log_x[0].tolist(), log_r[0].tolist()):
                trajectory.record(t, x, r)
            if bar is not None:
                bar.update(batch.t)
            if trajectory.diverged_at is not None:
                break
    if bar is not None:
        bar.close()
    trajectory.finish(start, batch.t, batch.x[0], batch.average_regret()[0], STOP.requested)
    writer.close()
    if STOP.requested:
        raise RunInterrupted(trajectory)
    return trajectory


