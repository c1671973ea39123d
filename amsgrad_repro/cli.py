"""Command line: ``python -m amsgrad_repro PROBLEM`` and the other commands.

Every invalid value ends with exit status 2 and one line naming the flag; Ctrl-C ends with status 130 after writing
a summary marked as interrupted.
"""

import argparse
import os
import sys

from . import experiment, optimizers, runs
from .datasets import DataError
from .settings import RunSettings, flags


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


def build_parser():
    parser = Parser(
        prog="amsgrad-repro",
        description="Adam's failure on the counterexamples of Reddi, Kale & Kumar (ICLR 2018), and beyond.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (cls, params) in experiment.PRESETS.items():
        sub = commands.add_parser(
            name,
            help=f"train each optimizer on the {name} problem ({cls.__name__}, {params})",
            description=f"Train each optimizer on the {name} problem; write TensorBoard runs, summary.json and "
            "figure.png into a fresh run directory under --logdir.",
        )
        add_settings(sub, RunSettings)
        sub.set_defaults(handler=run_problem, settings_cls=RunSettings)
    from . import compare, realdata, sweep
    from .bench import BenchSettings, run_bench

    compare.register(commands)
    sweep.register(commands)
    realdata.register(commands)

    sub = commands.add_parser("bench", help="measure steps/s of every engine in one run (see BENCHMARKS.md)",
                              description="Measure steps/s of the seed-style setup, both engines and a plain loop.")
    add_settings(sub, BenchSettings)
    sub.set_defaults(handler=run_bench, settings_cls=BenchSettings)
    return parser


def choose_engine(settings):
    """The engine that will run: ``auto`` picks fused when every optimizer has a kernel that supports its options.

    Raises:
        UsageError: an optimizer rejects the settings, or ``--engine fused`` cannot run one of them.
    """
    import torch

    from . import fused

    for name in settings.optimizers:
        try:
            optimizers.get(name).build([torch.zeros(1, requires_grad=True)], settings.hyper())
        except (TypeError, ValueError) as error:
            raise UsageError(f"argument --opt-args: {name} does not accept these settings: {error}") from None
    if settings.engine == "torchbearer":
        return "torchbearer"
    try:
        for name in settings.optimizers:
            fused.hyperparameters(optimizers.get(name), settings.hyper())
    except fused.Unsupported as error:
        if settings.engine == "fused":
            raise UsageError(f"argument --engine: {error}") from None
        return "torchbearer"
    return "fused"


def run_problem(command, settings):
    """Runs every optimizer (and seed) on one problem; returns the exit status."""
    from . import fused, plots, trial

    engine = choose_engine(settings)
    runner = fused.run if engine == "fused" else trial.run
    overrides = settings.problem_overrides()
    try:
        reference = experiment.make_problem(command, settings.seed, **overrides)
    except TypeError as error:
        raise UsageError(f"a parameter does not apply to the {command} problem: {error}") from None
    if settings.seeds > 1 and not isinstance(reference, experiment.Stochastic):
        raise UsageError(f"argument --seeds: the {command} problem is deterministic, so more seeds repeat one run")
    try:
        run_dir = runs.new_run_dir(settings.logdir, command)
    except OSError as error:
        raise UsageError(f"argument --logdir: cannot create a run directory in {settings.logdir!r}: {error.strerror}")
    hyper = settings.hyper()
    seeds = range(settings.seed, settings.seed + settings.seeds)
    trajectories, interrupted = [], False
    print(f"run directory: {run_dir} (engine: {engine})")
    try:
        for name in settings.optimizers:
            spec = optimizers.get(name)
            for seed in seeds:
                problem = experiment.make_problem(command, seed, **overrides)
                run_label = runs.label(spec.name, seed, settings.seeds)
                trajectories.append(runner(problem, spec, hyper, settings, run_dir, run_label, seed))
    except runs.RunInterrupted as stop:
        trajectories.append(stop.partial)
        interrupted = True
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
