"""Command line: ``python -m amsgrad_repro PROBLEM`` and the other commands.

Every invalid value ends with exit status 2 and one line naming the flag; Ctrl-C ends with status 130 after writing
a summary marked as interrupted.
"""

import argparse
import os
import sys

from . import experiment, optimizers, runs
from .datasets import DataError
from .settings import FLOAT32_MAX, RunSettings, flags


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


class UsageError(Exception):
    """A bad value found after parsing; reported like a parser error (so is ``datasets.DataError``)."""


def _type(parse):
    def convert(text):
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = parse.__name__
    return convert


def add_settings(parser, cls):
    """Adds one flag per field of the settings dataclass ``cls``; help shows every default."""
    for flag, f in flags(cls):
        default = f.default
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        parser.add_argument(
            flag,
            dest=f.name,
            type=_type(f.metadata["parse"]),
            default=default,
            metavar=f.name.upper(),
            help=f"{f.metadata['help']} (default: {'preset' if default is None else shown})",
        )


def settings_from(args, cls):
    return cls(**{f.name: getattr(args, f.name) for _, f in flags(cls)})


def optimizer_epilog():
    """The registry as help text: each name, whether it has a fused kernel, and the class it builds."""
    lines = ["optimizers (registry name, engine under --engine auto, class):"]
    for spec in optimizers.SPECS:
        lines.append(f"  {spec.name:<14} {'fused' if spec.kernel else 'torchbearer':<12} {spec.description}")
    lines.append("  module:Class   torchbearer  any torch.optim.Optimizer subclass by import path")
    return "\n".join(lines)


def build_parser():
    parser = Parser(
        prog="amsgrad-repro",
        description="Adam's failure on the counterexamples of Reddi, Kale & Kumar (ICLR 2018), and beyond.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (cls, params) in experiment.PRESETS.items():
        shown = ", ".join(f"{key}={value.__doc__ if callable(value) else value:}" for key, value in params.items())
        sub = commands.add_parser(
            name,
            help=f"train each optimizer on the {name} problem ({cls.__name__}: {shown})",
            description=f"Train each optimizer on the {name} problem ({cls.__name__}: {shown}); write TensorBoard "
            "runs, summary.json and figure.png into a fresh run directory under --logdir.",
            epilog=optimizer_epilog(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        add_settings(sub, RunSettings)
        sub.set_defaults(handler=run_problem, settings_cls=RunSettings)
    from . import compare, realdata, sweep
    from .bench import BenchSettings, run_bench

    compare.register(commands)
    sweep.register(commands)
    realdata.register(commands)

    sub = commands.add_parser("bench", help="measure steps/s of every engine in one run (see BENCHMARKS.md)",
                              description="Measure, in one run, steps/s of the seed-style setup, both engines and a "
                              "plain loop, one logreg epoch on digits, and the wall time of the default commands.")
    add_settings(sub, BenchSettings)
    sub.set_defaults(handler=run_bench, settings_cls=BenchSettings)
    return parser


def check_optimizers(names, hyper):
    """Builds each optimizer once on a dummy parameter, so that a bad class or argument fails before any run.

    Raises:
        UsageError: naming ``--optimizers`` (or ``--opt-args``) and the optimizer's own complaint.
    """
    import torch

    for name in names:
        try:
            optimizers.get(name).build([torch.zeros(1, requires_grad=True)], hyper)
        except (TypeError, ValueError, NotImplementedError) as error:
            flag = "--opt-args" if hyper.extra else "--optimizers"
            raise UsageError(f"argument {flag}: {name} cannot be built with these settings: {error}") from None


def engine_for(spec, hyper, choice):
    """``fused`` or ``torchbearer`` for one optimizer under ``--engine choice`` (``auto`` prefers fused).

    Raises:
        UsageError: ``--engine fused`` and the optimizer has no kernel for its options.
    """
    from . import fused

    if choice == "torchbearer":
        return "torchbearer"
    try:
        fused.hyperparameters(spec, hyper)
    except fused.Unsupported as error:
        if choice == "fused":
            raise UsageError(f"argument --engine: {error}") from None
        return "torchbearer"
    return "fused"


def choose_engine(settings):
    """The engine for a whole run: fused when every optimizer's kernel supports its options (with ``auto``)."""
    check_optimizers(settings.optimizers, settings.hyper())
    engines = {engine_for(optimizers.get(name), settings.hyper(), settings.engine) for name in settings.optimizers}
    return "fused" if engines == {"fused"} else "torchbearer"


def problem_for(name, seed, seeds=1, overrides=None):
    """The preset ``name`` with ``overrides``, checked: each override must be a parameter of the preset, s·C must
    fit float32, and several seeds need a stochastic problem.

    Raises:
        UsageError: naming the flag.
    """
    overrides = overrides or {}
    params = experiment.PRESETS[name][1]
    for key in overrides:
        if key not in params:
            raise UsageError(f"argument --{key}: the {name} problem has no parameter {key} "
                             f"(it has {', '.join(params)})")
    problem = experiment.make_problem(name, seed, **overrides)
    if not abs(problem.scale * problem.C) < FLOAT32_MAX:
        raise UsageError(f"argument --scale/--C: s*C = {problem.scale * problem.C:g} overflows float32")
    if seeds > 1 and not isinstance(problem, experiment.Stochastic):
        raise UsageError(f"argument --seeds: the {name} problem is deterministic, so more seeds repeat one run")
    return problem


def make_run_dir(parent, name, flag):
    """A fresh run directory ``parent/name-<stamp>`` (``runs.new_run_dir``), or a UsageError naming ``flag``."""
    try:
        return runs.new_run_dir(parent, name)
    except OSError as error:
        raise UsageError(f"argument {flag}: cannot create a run directory in {parent!r}: "
                         f"{error.strerror or error}") from None


def train_all(command, specs, engines, settings, run_dir, overrides=None):
    """Runs every optimizer for every seed ``settings.seed`` .. ``settings.seed + settings.seeds − 1`` on a fresh
    ``command`` problem, each on its engine (``engines[name]``, fused or torchbearer).

    Returns:
        (trajectories, interrupted): on Ctrl-C, the runs finished so far plus the partial one, and True.
    """
    from . import fused, trial

    trajectories = []
    try:
        for spec in specs:
            runner = fused.run if engines[spec.name] == "fused" else trial.run
            for seed in range(settings.seed, settings.seed + settings.seeds):
                problem = experiment.make_problem(command, seed, **(overrides or {}))
                run_label = runs.label(spec.name, seed, settings.seeds)
                trajectories.append(runner(problem, spec, settings.hyper(), settings, run_dir, run_label, seed))
    except runs.RunInterrupted as stop:
        return trajectories + [stop.partial], True
    return trajectories, False


def run_problem(command, settings):
    """Runs every optimizer (and seed) on one problem; returns the exit status."""
    from . import plots

    engine = choose_engine(settings)
    overrides = settings.problem_overrides()
    reference = problem_for(command, settings.seed, settings.seeds, overrides)
    run_dir = make_run_dir(settings.logdir, command, "--logdir")
    print(f"run directory: {run_dir} (engine: {engine})")
    specs = [optimizers.get(name) for name in settings.optimizers]
    trajectories, interrupted = train_all(command, specs, dict.fromkeys(settings.optimizers, engine), settings,
                                          run_dir, overrides)
    runs.write_seed_bands(run_dir, reference, trajectories)
    runs.write_summary(run_dir, settings, engine, reference, trajectories, interrupted)
    title = f"{command}: lr={settings.lr:g} ({settings.schedule}), betas={settings.betas}, engine={engine}"
    plots.figure1(reference, trajectories, os.path.join(run_dir, "figure.png"), title)
    print(runs.format_table(reference, trajectories))
    if interrupted:
        print(f"interrupted: partial TensorBoard logs, summary.json and figure.png are in {run_dir}", file=sys.stderr)
        return 130
    print(f"wrote {run_dir}/summary.json and figure.png; view with: tensorboard --logdir {settings.logdir}")
    return 0


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from(args, args.settings_cls)
        return args.handler(args.command, settings)
    except (UsageError, DataError) as error:
        print(f"{parser.prog} {args.command}: error: {error}", file=sys.stderr)
        return 2
