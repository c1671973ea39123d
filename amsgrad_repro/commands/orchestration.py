"""What every command that trains optimizers shares: checking optimizers and problems, choosing each optimizer's
engine once, making the run directory, training every optimizer and seed, and ending the run.

Errors found here are ``errors.UsageError`` with a message that names the flag.
"""

import sys
from dataclasses import dataclass

from .. import families
from ..errors import UsageError
from ..optim import registry
from ..runs.interrupt import STOP
from ..runs.layout import label, new_run_dir
from .parsers import FLOAT32_MAX


@dataclass(frozen=True)
class EngineChoice:
    """One optimizer of a run: its registry entry, its engine, and for the fused engine its kernel row."""

    spec: registry.OptimizerSpec
    engine: str  # "fused" or "torchbearer"
    kernel: dict | None = None  # fused.hyperparameters(spec, hyper)


def check_buildable(spec, hyper):
    """Builds ``spec`` once on a dummy parameter, so that a bad class or argument fails before any run.

    Raises:
        UsageError: naming ``--optimizers`` (or ``--opt-args``) and the optimizer's own complaint.
    """
    import torch

    try:
        spec.build([torch.zeros(1, requires_grad=True)], hyper)
    except Exception as error:  # noqa: BLE001 - a constructor's complaint (pytorch-optimizer raises its own kinds)
        raise _build_error(spec, hyper, error) from None


def _build_error(spec, hyper, error):
    flag = "--opt-args" if hyper.extra else "--optimizers"
    return UsageError(f"argument {flag}: {spec.name} cannot be built with these settings: {error}")


def choose_engines(names, hyper, choice):
    """An ``EngineChoice`` per optimizer under ``--engine choice``: ``auto`` takes the fused engine when the optimizer
    has a kernel for its options, else torchbearer.

    Raises:
        UsageError: an optimizer cannot be built, or ``--engine fused`` and it has no kernel for its options.
    """
    from ..engines import fused

    plans = []
    for name in names:
        spec = registry.get(name)
        if choice != "torchbearer":
            try:
                plans.append(EngineChoice(spec, "fused", fused.hyperparameters(spec, hyper)))
                continue
            except fused.Unsupported as error:
                if choice == "fused":
                    raise UsageError(f"argument --engine: {error}") from None
            except Exception as error:  # noqa: BLE001 - as in check_buildable
                raise _build_error(spec, hyper, error) from None
        check_buildable(spec, hyper)
        plans.append(EngineChoice(spec, "torchbearer"))
    return plans


def problem_for(name, seed, seeds=1, overrides=None):
    """The preset ``name`` with ``overrides``, checked: each override must be a parameter of the preset, s·C must
    fit float32, and several seeds need a stochastic problem.

    Raises:
        UsageError: naming the flag.
    """
    from ..presets import PRESETS

    overrides = overrides or {}
    params = PRESETS[name][1]
    for key in overrides:
        if key not in params:
            raise UsageError(f"argument --{key}: the {name} problem has no parameter {key} "
                             f"(it has {', '.join(params)})")
    problem = families.make_problem(name, seed, **overrides)
    if not abs(problem.scale * problem.C) < FLOAT32_MAX:
        raise UsageError(f"argument --scale/--C: s*C = {problem.scale * problem.C:g} overflows float32")
    if seeds > 1 and not families.of(problem).random:
        raise UsageError(f"argument --seeds: the {name} problem is deterministic, so more seeds repeat one run")
    return problem


def make_run_dir(parent, name):
    """A fresh run directory ``parent/name-<stamp>`` (``runs.layout.new_run_dir``), or a UsageError naming
    ``--logdir``."""
    try:
        return new_run_dir(parent, name)
    except OSError as error:
        raise UsageError(f"argument --logdir: cannot create a run directory in {parent!r}: "
                         f"{error.strerror or error}") from None


def run_each(executor, items, run_one, describe, run_dir=None, label="runs", num_gpus=0):
    """``run_one(item)`` (or ``run_one(item, run_dir)``) for each item on ``executor`` (``cluster.executor``), until
    a signal (Ctrl-C, SIGTERM) stops the command.

    An exception inside one run is the user's code or settings at fault: its traceback is printed, the run is
    recorded as failed with ``describe(item)`` (a dict) and its error, and the other runs still go on.

    Returns:
        (results, failures), in the order of ``items`` whatever order the runs ended in; in this process a signal
        keeps the interrupted run's partial result as the last result.
    """
    results, failures = [], []
    for index, outcome in sorted(executor.map(run_one, items, run_dir=run_dir, label=label, num_gpus=num_gpus),
                                 key=lambda pair: pair[0]):
        if isinstance(outcome, Exception):
            failures.append({**describe(items[index]), "error": f"{type(outcome).__name__}: {outcome}"})
        else:
            results.append(outcome)
    return results, failures


def train_all(executor, problem_name, plans, settings, run_dir, overrides=None):
    """Runs every planned optimizer for every seed ``settings.seed`` .. ``settings.seed + settings.seeds − 1`` on a
    fresh ``problem_name`` problem, each on its engine, one run per (optimizer, seed) on ``executor``
    (``run_each``: failures are recorded, signals stop).

    Returns:
        (trajectories, failures).
    """
    from ..engines import fused, trial

    def run_one(item, run_dir):
        p, seed = item
        problem = families.make_problem(problem_name, seed, **(overrides or {}))
        run_label = label(p.spec.name, seed, settings.seeds)
        if p.engine == "fused":
            return fused.run(problem, p.spec, p.kernel, settings, run_dir, run_label, seed)
        return trial.run(problem, p.spec, settings.hyper(), settings, run_dir, run_label, seed)

    items = [(p, seed) for p in plans for seed in range(settings.seed, settings.seed + settings.seeds)]
    return run_each(executor, items, run_one, lambda item: {"optimizer": item[0].spec.name, "seed": item[1]},
                    run_dir=run_dir)


def engines_line(plans):
    """``engine: fused`` when every optimizer runs on one engine, else each optimizer's engine."""
    engines = {p.engine for p in plans}
    if len(engines) == 1:
        return f"engine: {engines.pop()}"
    return "engines: " + ", ".join(f"{p.spec.name} {p.engine}" for p in plans)


def finish(run_dir, logdir, files, failures=(), tensorboard=True):
    """The end of every command: the closing line and the exit status: 128 + the signal's number after Ctrl-C (130)
    or SIGTERM (143), 1 when a run failed, else 0."""
    written = ", ".join(files)
    if STOP.requested:
        print(f"interrupted by {STOP.name()}: partial TensorBoard logs and {written} are in {run_dir}",
              file=sys.stderr)
        return STOP.exit_status()
    if failures:
        failed = ", ".join(" ".join(f"{value}" if key == "optimizer" else f"{key} {value}" for key, value in f.items()
                                    if key != "error") for f in failures)
        print(f"{len(failures)} run(s) failed ({failed}); the other runs' results, {written}, are in {run_dir}",
              file=sys.stderr)
        return 1
    print(f"wrote {written} in {run_dir}" + (f"; view with: tensorboard --logdir {logdir}" if tensorboard else ""))
    return 0
