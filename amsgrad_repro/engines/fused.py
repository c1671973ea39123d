"""The fused engine: the numba drivers of ``kernels`` run chunk by chunk on every core, with the torchbearer
engine's outputs.

Hyperparameters are read from the param group that the registry's torch optimizer class builds (``optim.groups``),
so the kernel runs exactly what torch.optim would run; options a kernel does not implement (weight decay, Nesterov,
...) make ``hyperparameters`` raise ``Unsupported`` instead of being ignored.

A ``Batch`` advances R runs, each with its own hyperparameters and its own problem: a few runs on the scalar driver,
from ``LANES_FROM`` runs on the SIMD driver (the two give the same bits). ``evaluate`` runs R ``families.Candidates``
of a problem family and returns what the break search needs. Memory is bounded in the number of steps: log columns and
bias-correction tables exist for one chunk at a time.
"""

import concurrent.futures
import copy
import functools
import time
import numba
import numpy as np

from .. import families
from ..experiment import average_regret
from ..optim.groups import param_group
from ..runs.interrupt import STOP, RunInterrupted
from ..runs.layout import PROBLEM_TAGS, tb_dir
from ..runs.outcome import Outcome
from ..runs.trajectory import Trajectory, auto_every
from ..runs.verdict import TailMean
from . import kernels
from .events import EventFile
from .progress import Bar

CHUNK = 1 << 17  # steps per ``Batch.step`` of a run (a Ctrl-C is noticed between two)
LANES_FROM = 16  # runs from which a batch takes the SIMD driver (``kernels.advance_lanes``)
LANE_BLOCK = 64  # runs per block of the SIMD driver (a sweep's 64 runs that share β2 fill one, and settle together)
TABLE_ENTRIES = 1 << 17  # bias-correction table entries per driver call (1 MB per table)
NEVER = 1 << 62  # a logging interval that logs nothing


class Unsupported(ValueError):
    """The optimizer has no fused kernel, or uses an option its kernel does not implement."""


_COMMON = {"weight_decay": 0, "maximize": False}  # assumed by every kernel that does not read them


def hyperparameters(spec, hyper):
    """The kernel row of ``spec`` built with ``hyper``: {``kernels.HyperArrays`` field: value}, read from the torch
    optimizer's param group (``optim.groups.param_group``: the constructor's own defaults and checks, without
    building the optimizer).

    Raises:
        Unsupported: ``spec`` has no kernel, or the optimizer was built with an option its kernel does not implement.
    """
    kernel = spec.kernel
    if kernel is None:
        raise Unsupported(f"optimizer {spec.name!r} has no fused kernel; use --engine torchbearer")
    group = param_group(spec, hyper)
    reads = [key for key in kernel.reads if key != "betas"]
    for key, value in {**_COMMON, **kernel.assumes}.items():
        if key not in reads and key in group and group[key] != value:
            raise Unsupported(f"the fused {kernel.name} kernel needs {key}={value!r}, got {group[key]!r}")
    row = {key: float(group[key]) for key in reads}
    if "betas" in kernel.reads:
        row["beta1"], row["beta2"] = map(float, group["betas"])
    return row


def chunks(steps, size=CHUNK):
    """(t0, n) blocks covering t = 1 .. steps."""
    for t0 in range(1, steps + 1, size):
        yield t0, min(size, steps + 1 - t0)


class Batch:
    """R runs of one kernel advancing together, run r with hyperparameters ``rows[r]`` on problem ``models[r]``.

    ``rows`` are ``hyperparameters`` rows of one kernel; ``models`` are ``experiment`` problems of one family on one
    domain (one object may serve many runs). The kernel generates every run's a_t itself (``kernels.coefficient``)
    from float32(s·C), float32(−s) and P, or from the uniform draws, so R runs on R different problems cost no more
    than R runs on one. Stochastic runs whose models share a seed share one stream of draws, read from the first
    such model. Hyperparameters a kernel does not read, and state it does not declare, are NaN: a kernel that used
    them would fail the equivalence tests.

    ``driver``: "runs" (``kernels.advance_runs``), "lanes" (``kernels.advance_lanes``) or None, which takes the lanes
    from ``LANES_FROM`` runs on. ``cores``: the threads a step is split over (None: one per core); 1 lets the caller
    run batches side by side, each in a thread of its own.
    """

    def __init__(self, kernel, rows, models, schedule, every, driver=None, cores=None):
        self.kernel, runs = kernel, len(models)
        if len(rows) != runs:
            raise ValueError(f"{len(rows)} hyperparameter rows for {runs} runs")
        family = families.of(models[0])
        if any(families.of(m) is not family or m.domain != models[0].domain for m in models):
            raise ValueError("a batch holds problems of one family on one domain")
        self.stochastic = family.random
        streams = {}  # seed -> the first model with that seed, whose draws every run with that seed reads
        for m in models if self.stochastic else ():
            streams.setdefault(m.seed, m)
        self.streams, seeds = list(streams.values()), {seed: k for k, seed in enumerate(streams)}
        self.problems = kernels.Problems(
            big=np.array([m.scale * m.C for m in models]).astype(np.float32),
            small=np.array([-m.scale for m in models]).astype(np.float32),
            period=np.array([1 if self.stochastic else m.period for m in models], np.int64),
            p=np.array([m.p if self.stochastic else 0.0 for m in models]),
            stream=np.array([seeds[m.seed] if self.stochastic else 0 for m in models], np.int64),
            optimum=np.array([m.optimum for m in models], np.float64),
        )
        self.hyper = kernels.HyperArrays(**{
            name: np.array([row.get(name, np.nan) for row in rows], np.float64)
            for name in kernels.HyperArrays._fields})
        initial = {name: getattr(self.hyper, value) if isinstance(value, str) else value
                   for name, value in kernel.state.items()}
        self.state = kernels.State(**{name: np.broadcast_to(initial.get(name, np.nan), runs).astype(np.float32)
                                      for name in kernels.State._fields})
        self.runs = kernels.Runs(x=np.zeros(runs, np.float32), phase=np.zeros(runs, np.int64),  # x_1 = 0, t = 1
                                 loss=np.zeros(runs), coef=np.zeros(runs))
        fields, self.step_limit = kernel.bias, kernel.step_limit
        # Bias corrections by distinct β: a 64 x 64 sweep calls pow for 64 values of β2, not 4,096 runs.
        self.betas, self.keys = [], []
        for name in fields:
            values, keys = np.unique(getattr(self.hyper, name) if name else np.zeros(runs), return_inverse=True)
            self.betas.append(values)
            self.keys.append(keys.astype(np.int64).ravel())
        self.settled = [np.zeros(len(values), np.int64) for values in self.betas]
        # The kernel's own per-step scalars by distinct row of the hyperparameters they depend on (none: one row).
        self.own = kernels.OWN.get(kernel.name)
        own_fields = np.stack([getattr(self.hyper, name) for name in kernel.own], axis=1) if self.own else (
            np.zeros((runs, 1)))
        self.own_values, own_keys = np.unique(own_fields, axis=0, return_inverse=True)
        self.keys.append(own_keys.astype(np.int64).ravel())
        widest = max(*(len(values) for values in self.betas), len(self.own_values))
        size = min(CHUNK, max(1024, TABLE_ENTRIES // widest))
        self.tables = [np.empty((size, len(values))) for values in self.betas]  # reused: fresh pages cost faults
        self.own_table = np.zeros((size, len(self.own_values), 2))
        self.domain = tuple(np.float32(bound) for bound in models[0].domain)
        self.sqrt, self.every = schedule == "sqrt", int(every)
        self.driver, self.cores, self.t = driver, cores or numba.get_num_threads(), 0
        self._choose_driver(runs)
        self.load = None  # {driver, how, seconds}: how the first step got that code (``kernels.specialised``)

    def _choose_driver(self, runs):
        self.lanes = runs >= LANES_FROM if self.driver is None else self.driver == "lanes"
        per_core = -(-runs // self.cores)
        self.block = min(LANE_BLOCK, -(-per_core // 8) * 8)  # whole SIMD registers (8 float32), every core busy
        self.code = None  # the driver's machine code for this kernel, found on the first step

    def take(self, runs):
        """A batch of the runs ``runs`` (indices) of this one, in their present state, at the same t; this batch is
        left as it is. Their steps are the same bits as here: both drivers give the same results."""
        part = copy.copy(self)
        part.problems, part.hyper, part.state, part.runs = (
            type(arrays)(*(array[runs] for array in arrays))
            for arrays in (self.problems, self.hyper, self.state, self.runs))
        part.keys = [keys[runs] for keys in self.keys]
        part._choose_driver(len(runs))
        return part

    @property
    def x(self):
        """x_{t+1} of every run after the steps taken so far, float32."""
        return self.runs.x

    def step(self, n, uniforms=None, every=None):
        """Advances every run by n steps; returns the logged (steps, x (R, L), R_t/t (R, L)) of this chunk. With
        n = 0 it only loads the driver, compiling it on its first use.

        ``uniforms`` replays a chunk with the draws it was given before (``draws``); ``every`` overrides the logging
        interval for this chunk.
        """
        t0, every = self.t + 1, every or self.every
        if uniforms is None:
            uniforms = self.draws(n)
        first = (t0 + every - 1) // every
        logged = np.arange(first, (t0 + n - 1) // every + 1) * every
        log_x = np.empty((len(self.x), len(logged)), np.float32)
        log_r = np.empty((len(self.x), len(logged)), np.float64)
        for start, m in list(chunks(n, len(self.tables[0]))) or [(1, 0)]:  # step(0) loads (or compiles) the driver
            tables = [table[:m] for table in self.tables]
            for values, table, settled in zip(self.betas, tables, self.settled):
                kernels.bias_tables(self.t + 1, m, values, self.step_limit, table, settled)
            own = self.own_table[:m]
            if self.own:
                self.own(self.t + 1, m, self.own_values, self.step_limit, own)
            bias = kernels.Corrections(*self.keys, *tables, own, *self.settled)
            window = np.ascontiguousarray(uniforms[:, start - 1:start - 1 + m])
            arguments = (self.hyper, self.state, self.problems, window,
                         self.stochastic, self.runs, bias, self.t + 1, self.sqrt, *self.domain, every, log_x, log_r,
                         first)
            tail = (self.block,) if self.lanes else ()
            if self.code is None:
                driver = kernels.advance_lanes if self.lanes else kernels.advance_runs
                start_load = time.perf_counter()
                self.code, how = kernels.specialised(driver, self.kernel.name, (*arguments, 0, len(self.x), *tail))
                self.load = {"driver": "lanes" if self.lanes else "runs", "how": how,
                             "seconds": time.perf_counter() - start_load}
            _on_every_core(self.code, (self.kernel.name, *arguments), tail, len(self.x), tail[0] if tail else 1,
                           self.cores)
            self.t += m
        return logged, log_x, log_r

    def draws(self, n):
        """The uniform draws of the next n steps, one row per stream (a dummy row for the online family)."""
        if self.stochastic:
            return np.stack([m.draws(self.t + 1, n) for m in self.streams])
        return np.zeros((1, n))

    def snapshot(self):
        """A copy of everything a chunk changes, for ``restore``."""
        return [array.copy() for array in (*self.state, *self.runs)], self.t

    def restore(self, snapshot):
        arrays, self.t = snapshot
        for array, saved in zip((*self.state, *self.runs), arrays):
            array[...] = saved

    def bits(self):
        """(S + 1, R) uint32: the bits of every state array the kernel declares, then of x: two states of a run are
        the same state when these columns are equal (NaN included)."""
        arrays = [getattr(self.state, name) for name in self.kernel.state] + [self.runs.x]
        return np.stack(arrays).view(np.uint32)

    def walk(self, n, path=True):
        """Advances every run by n steps as ``step`` would, but from x = 0 on the whole line (no projection onto F)
        and at α (the schedule's decay left out); returns x along the way, (R, n + 1) float32: x before each step and
        after the last (``path`` false: (R, 1), x after the last step only, which logs nothing and costs what a
        ``step`` costs). x is then put back as it was; the state, t and the draws have moved on n steps.

        The steps are those of α for every x when the kernel reads no x (``optim.registry.Kernel.also_reads``); near
        x = 0 the rounding of x_t − u_t is small, so the differences of the path are −u_t to within an ulp of x_t.
        """
        x, sqrt, domain = self.runs.x.copy(), self.sqrt, self.domain
        self.runs.x[:] = 0
        self.sqrt, self.domain = False, (np.float32(-np.inf), np.float32(np.inf))
        try:
            size = max(1, TABLE_ENTRIES // max(1, len(x))) if path else CHUNK
            parts = [self.step(m, every=1 if path else NEVER)[1] for _, m in chunks(n, size)]
            path = np.concatenate([*parts, self.runs.x[:, None]], axis=1)
        finally:
            self.sqrt, self.domain = sqrt, domain
            self.runs.x[:] = x
        return path

    def first_nan(self, snapshot, uniforms):
        """The first t of the chunk that started at ``snapshot`` at which run 0's x_t is NaN, found by replaying the
        chunk with every step logged (the chunk's end state is kept)."""
        end = self.snapshot()
        self.restore(snapshot)
        logged, log_x, _ = self.step(uniforms.shape[1], uniforms, every=1)
        self.restore(end)
        nan = np.flatnonzero(np.isnan(log_x[0]))
        return int(logged[nan[0]]) if len(nan) else self.t + 1  # else x_{T+1}, after the chunk

    def average_regret(self):
        """R_T/T of every run after the steps taken so far."""
        return average_regret(self.runs.loss, self.runs.coef, self.problems.optimum, max(self.t, 1))


def _on_every_core(code, arguments, tail, runs, unit, cores):
    """``code(*arguments, r0, r1, *tail)`` on disjoint ranges of runs, whole units each, one range per core (of at
    most ``cores``), each in its own thread: the drivers release the GIL."""
    units = -(-runs // unit)
    cores = min(cores, units)
    bounds = [min(runs, units * i // cores * unit) for i in range(cores + 1)]
    if cores == 1:
        code(*arguments, 0, runs, *tail)
        return
    futures = [_threads().submit(code, *arguments, r0, r1, *tail) for r0, r1 in zip(bounds, bounds[1:])]
    for future in futures:
        future.result()


@functools.cache
def _threads():
    return concurrent.futures.ThreadPoolExecutor(numba.get_num_threads(), thread_name_prefix="fused")


def evaluate(spec, hypers, candidates, steps, schedule="constant", progress=None):
    """Runs ``spec`` on every candidate for ``steps`` steps as one batch; returns their ``runs.outcome.Outcome``.

    The tail x is exactly what ``runs.verdict.tail_x`` gives for the problem command at auto logging (x_t logged
    every max(1, T // 2000) steps), so a candidate replayed through ``python -m amsgrad_repro online --period P
    --C C --scale s ...`` shows the same tail x.

    Args:
        spec: a registry entry with a kernel.
        hypers: one ``registry.Hyper`` for every candidate, or a list of R.
        candidates: the problems, as ``families.Candidates``.
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
    models = [candidates.problem(r) for r in range(runs)]
    batch = Batch(spec.kernel, [rows[h] for h in hypers], models, schedule, every=auto_every(steps))
    tail = TailMean(steps)
    for _, n in chunks(steps):
        tail.add(*batch.step(n)[:2])
        if progress is not None:
            progress(batch.t, steps)
    final_x = batch.x.astype(np.float64)
    return Outcome(tail_x=tail.value(final_x), final_x=final_x, average_regret=batch.average_regret())


def run(problem, spec, row, settings, run_dir, run_label, seed, progress=True):
    """The fused counterpart of ``trial.run``, with the kernel row ``row`` = ``hyperparameters(spec, hyper)`` in
    place of the hyperparameters: the same ``Trajectory``, TensorBoard layout and tags.

    Raises:
        RunInterrupted: on Ctrl-C or SIGTERM, at the end of the current chunk, after the writer was closed.
    """
    batch = Batch(spec.kernel, [row], [problem], settings.schedule, settings.every)
    trajectory = Trajectory(spec.name, seed, tb_dir=tb_dir(run_dir, problem, run_label))
    batch.step(0)  # the driver, compiled or loaded before the clock starts: steps/s is the stepping's alone
    trajectory.load = batch.load
    writer = EventFile(trajectory.tb_dir)
    bar = Bar(f"{run_label} [fused]", settings.steps) if progress else None
    start = time.perf_counter()
    with STOP.catching():
        for _, n in chunks(settings.steps):
            if STOP.requested:
                break
            stepping = time.perf_counter()
            before, uniforms = batch.snapshot(), batch.draws(n)
            logged, log_x, log_r = batch.step(n, uniforms)
            trajectory.stepping_seconds += time.perf_counter() - stepping
            if np.isnan(batch.x[0]):  # NaN stays NaN through the projection, as with clamp_
                trajectory.diverged_at = batch.first_nan(before, uniforms)
                keep = logged < trajectory.diverged_at  # no NaN reaches TensorBoard
                logged, log_x, log_r = logged[keep], log_x[:, keep], log_r[:, keep]
            writer.write(logged, {PROBLEM_TAGS["x"]: log_x[0], PROBLEM_TAGS["average_regret"]: log_r[0]})
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
