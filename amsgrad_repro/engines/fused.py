"""The fused engine: ``kernels.advance`` driven chunk by chunk, with the torchbearer engine's outputs.

Hyperparameters are read from the param group of the real torch optimizer that the registry builds, so the kernel
runs exactly what torch.optim would run; options a kernel does not implement (weight decay, Nesterov, ...) make
``hyperparameters`` raise ``Unsupported`` instead of being ignored.

Memory is bounded in the number of steps: coefficients and log columns exist for one chunk at a time.
"""

import time

import numpy as np
import torch
from tensorboardX import SummaryWriter

from ..experiment import average_regret
from ..runs.interrupt import STOP, RunInterrupted
from ..runs.layout import TAGS, tb_dir
from ..runs.trajectory import Trajectory
from . import kernels
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
    """(kind, hp row) for ``spec`` built with ``hyper``, read from the torch optimizer's param group."""
    if spec.kernel is None:
        raise Unsupported(f"optimizer {spec.name!r} has no fused kernel; use --engine torchbearer")
    group = spec.build([torch.zeros(1, requires_grad=True)], hyper).param_groups[0]
    assumed, read = _KERNEL_GROUPS[spec.kernel]
    for key, value in {**_COMMON, **assumed}.items():
        if value is not READ and key in group and group[key] != value:
            raise Unsupported(f"the fused {spec.kernel} kernel needs {key}={value!r}, got {group[key]!r}")
    return kernels.KINDS.index(spec.kernel), np.array(read(group), dtype=np.float64)


def chunks(steps, size=CHUNK):
    """(t0, n) blocks covering t = 1 .. steps."""
    for t0 in range(1, steps + 1, size):
        yield t0, min(size, steps + 1 - t0)


class Batch:
    """R runs of one kernel advancing together; run r reads coefficient row ``rows[r]`` of the problems list."""

    def __init__(self, kind, hp, problems, rows, domain, optimum, schedule, every):
        self.kind, self.hp = kind, np.ascontiguousarray(hp, dtype=np.float64)
        self.problems, self.rows = problems, np.asarray(rows, dtype=np.int64)
        runs = len(self.rows)
        # State rows are padded to one 64-byte cache line each: threads writing neighbouring runs' state would
        # otherwise share lines (measured: 2 runs on 2 threads ran at 52M run-steps/s, a third of one run alone).
        self.s32 = np.zeros((runs, 16), np.float32)
        for column in _INITIAL_ACCUMULATOR.get(kernels.KINDS[kind], ()):
            self.s32[:, column] = self.hp[:, 4]
        self.s64 = np.zeros((runs, 8), np.float64)
        self.x = np.zeros(runs, np.float32)  # x_1 = 0
        self.sums = np.zeros((runs, 2), np.float64)
        self.domain = np.asarray(domain, np.float32)
        self.optimum, self.sqrt, self.every = float(optimum), schedule == "sqrt", int(every)
        self.t = 0

    def step(self, n, coefficients=None, every=None):
        """Advances every run by n steps; returns the logged (steps, x (R, L), R_t/t (R, L)) of this chunk.

        ``coefficients`` (K, n) replays a chunk whose coefficients were drawn before; ``every`` overrides the
        logging interval for this chunk.
        """
        t0, every = self.t + 1, every or self.every
        if coefficients is None:
            coefficients = self.coefficients(n)
        logged = np.arange((t0 + every - 1) // every, (t0 + n - 1) // every + 1) * every
        log_x = np.empty((len(self.rows), len(logged)), np.float32)
        log_r = np.empty((len(self.rows), len(logged)), np.float64)
        kernels.advance(
            self.kind, coefficients, self.rows, self.hp, self.s32, self.s64, self.x, self.sums, t0, self.sqrt,
            self.domain, self.optimum, every, log_x, log_r,
        )
        self.t += n
        return logged, log_x, log_r

    def coefficients(self, n):
        """The next n coefficients of every problem, (K, n) float32."""
        return np.stack([p.coefficients(self.t + 1, n) for p in self.problems])

    def state(self):
        """A copy of everything a chunk changes, for ``restore``."""
        return self.s32.copy(), self.s64.copy(), self.x.copy(), self.sums.copy(), self.t

    def restore(self, state):
        self.s32[...], self.s64[...], self.x[...], self.sums[...], self.t = state

    def first_nan(self, state, coefficients):
        """The first t of the chunk that started at ``state`` at which run 0's x_t is NaN, found by replaying the
        chunk with every step logged (the chunk's end state is kept)."""
        end = self.state()
        self.restore(state)
        logged, log_x, _ = self.step(coefficients.shape[1], coefficients, every=1)
        self.restore(end)
        nan = np.flatnonzero(np.isnan(log_x[0]))
        return int(logged[nan[0]]) if len(nan) else self.t + 1  # else x_{T+1}, after the chunk

    def average_regret(self):
        """R_T/T of every run after the steps taken so far."""
        return average_regret(self.sums[:, 0], self.sums[:, 1], self.optimum, max(self.t, 1))


def run(problem, spec, kernel, settings, run_dir, run_label, seed, progress=True):
    """The fused counterpart of ``trial.run``, with the kernel row ``kernel`` = ``hyperparameters(spec, hyper)`` in
    place of the hyperparameters: the same ``Trajectory``, TensorBoard layout and tags.

    Raises:
        RunInterrupted: on Ctrl-C or SIGTERM, at the end of the current chunk, after the writer was closed.
    """
    kind, hp = kernel
    batch = Batch(kind, hp[None, :], [problem], [0], problem.domain, problem.optimum, settings.schedule,
                  settings.every)
    trajectory = Trajectory(spec.name, seed, tb_dir=tb_dir(run_dir, problem, run_label))
    writer = SummaryWriter(trajectory.tb_dir)
    bar = Bar(f"{run_label} [fused]", settings.steps) if progress else None
    start = time.perf_counter()
    with STOP.catching():
        for _, n in chunks(settings.steps):
            if STOP.requested:
                break
            before, coefficients = batch.state(), batch.coefficients(n)
            logged, log_x, log_r = batch.step(n, coefficients)
            if np.isnan(batch.x[0]):  # NaN stays NaN through the projection, as with clamp_
                trajectory.diverged_at = batch.first_nan(before, coefficients)
                keep = logged < trajectory.diverged_at  # no NaN reaches TensorBoard
                logged, log_x, log_r = logged[keep], log_x[:, keep], log_r[:, keep]
            for t, x, r in zip(logged.tolist(), log_x[0].tolist(), log_r[0].tolist()):
                writer.add_scalar(TAGS["x"], x, t)
                writer.add_scalar(TAGS["average_regret"], r, t)
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

