"""Command line: ``python -m amsgrad_repro COMMAND``. It parses and dispatches; nothing imports it.

The parser is built from the settings dataclasses of ``commands.settings`` and imports no engine, so ``--help`` and
a bad flag answer at once. A command's module is imported only to run it. Every invalid value ends with exit status
2 and one line naming the flag (a missing or malformed data file: naming the file); Ctrl-C (SIGINT) and SIGTERM end
a command with status 130 and 143 after writing a summary marked as interrupted; a run that raised ends it with
status 1 after the other runs.

``main`` runs a command and returns its status; ``run``, the process's entry point, also ends the process.
"""

import argparse
import atexit
import importlib
import os
import sys
from dataclasses import dataclass

from .commands import settings as cs
from .commands import startup
from .errors import UsageError
from .optim import registry
from .presets import PRESETS, describe
from .realdata.datasets import DataError
from .runs.interrupt import STOP


@dataclass(frozen=True)
class Command:
    """One sub-command: its settings dataclass, the module whose ``main(command, settings)`` runs it, and its help."""

    settings: type
    module: str
    help: str
    description: str
    optimizers_epilog: bool = False


def _problem_command(name):
    family = PRESETS[name][0]
    what = f"the {name} problem ({family} family: {describe(name)})"
    return Command(cs.RunSettings, "problem", f"train each optimizer on {what}",
                   f"Train each optimizer on {what}; write TensorBoard runs, summary.json and figure.png into a "
                   "fresh run directory under --logdir.", optimizers_epilog=True)


_REALDATA = {
    "logreg": "multiclass logistic regression on MNIST, alpha_t = alpha/sqrt(t)",
    "mlp": "one hidden layer of 100 ReLU units on MNIST, constant alpha",
    "cifarnet": "CIFARNET on CIFAR-10, constant alpha, training and test loss",
}

COMMANDS = {
    **{name: _problem_command(name) for name in PRESETS},
    "compare": Command(
        cs.CompareSettings, "compare", "run a zoo of optimizers on one problem and rank them by average regret",
        "Run each optimizer (and seed) on one problem, each on the fused engine when it has a kernel, else on "
        "torchbearer; write leaderboard.csv and .png, figure.png, summary.json and overlaid TensorBoard runs into a "
        "fresh compare-<problem>-<time> directory under --logdir, and print the leaderboard.", optimizers_epilog=True),
    "sweep": Command(
        cs.SweepSettings, "sweep",
        "run one optimizer over a beta1 x beta2 (x lr x seed) grid on the fused engine; draw heatmaps",
        "Run one optimizer over a beta1 x beta2 grid (per lr, and per seed on stochastic problems), all runs of one "
        "lr as one fused batch on every core. Grids are " + cs.GRID_SYNTAX + "; 1-log spaces 1 - beta log-evenly "
        "(1-log:1e-1:1e-4:4 = 0.9,0.99,0.999,0.9999). Writes sweep.csv, heatmap_x.png, heatmap_regret.png and "
        "summary.json (and sweep_summary.csv with --seeds > 1) into a fresh sweep-<problem>-<optimizer>-<time> "
        "directory under --logdir."),
    "break": Command(
        cs.BreakSettings, "breaking",
        "search a family of counterexamples for the problem on which one optimizer ends at the wrong point",
        "Search the online (or stochastic) family, both with x* = -1 on [-1, 1], for the problem that fails the "
        "optimizer worst: P (or 1/p) from 2 to --max-period and the mean coefficient from --margin up to C/(P-1) = "
        "100, on log scales; a coarse grid, then rounds of refinement around the worst. By default (--steps inf) "
        "every candidate is judged at T = infinity, with a certificate: on the online family an exact periodic "
        "orbit of the float32 state (or a periodic optimizer state and the push per period that decides where x "
        "goes), on the stochastic family the drift of x per step with its 99 % interval. The outcome is stuck "
        "(limit tail x >= 0.9), breaks (>= 0, or a drift up), converges (or the drift down, with the predicted steps "
        "from +1 to x*), misses, or undecided with the reason; candidates are ranked by outcome, then by the push "
        "per step. With --steps T the search judges each candidate by its tail x (mean x_t over the last 10 %) "
        "after T steps instead, with P up to T/100. s is fixed (--scale): adaptive methods are nearly scale-free. "
        "--betas defaults to the class's own. Optimizers listed below as torchbearer (and at T = infinity those "
        "whose kernel reads t: radam, nadam, adamnc, adamx, adopt, adabound, amsbound) run on the batched torch "
        "engine, once a short check shows the class is coordinate-wise. Writes break.csv, summary.json (with the "
        "replay command of the worst candidate), failure_map.png and the worst candidate re-run by the problem "
        "command into a fresh break-<optimizer>-<family>[-inf]-<time> directory under --logdir.",
        optimizers_epilog=True),
    **{name: Command(cs.CifarnetSettings if name == "cifarnet" else cs.RealDataSettings, "realdata",
                     f"Figure 2: {text}",
                     f"Section 5, Figure 2: {text}. Trains every optimizer at every (lr, beta2) of the grid; writes "
                     "TensorBoard runs, summary.json and figure2.png into a fresh run directory under --logdir.")
       for name, text in _REALDATA.items()},
    "census": Command(
        cs.CensusSettings, "census",
        "judge every optimizer class of pytorch-optimizer and torch.optim with break at T = infinity",
        "Run break at T = infinity (--steps inf, lr 1e-3, each class at its own defaults, P or 1/p up to "
        "--max-period) on every name of pytorch_optimizer.get_supported_optimizers() and every optimizer class of "
        "torch.optim, one row per (class, family), each in a child process with a time and memory limit. Each "
        "finished row is appended to census.csv at once; a re-run with the same --out resumes the latest census "
        "that did not finish and runs only its missing rows. Writes census.csv, summary.json (the plan and the "
        "counts per outcome, library and family), census.png and every break's run directory (failure map, replay "
        "line) under breaks/ in OUT/census-<time>/."),
    "results": Command(
        cs.ResultsSettings, "results", "re-run every experiment behind RESULTS.md and render it from its template",
        "Run every command behind RESULTS.md (each in a child process, into a temporary --logdir), copy their "
        "figures into OUT/docs/ and render OUT/RESULTS.md from --template, every number in it read from the runs' "
        "own summary.json and CSV files. Two runs on one machine write the same bytes."),
    "bench": Command(
        cs.BenchSettings, "bench", "measure steps/s of every engine in one run (see BENCHMARKS.md)",
        "Measure, in one run: steps/s of the seed-style setup, the torchbearer engine and a plain loop; the fused "
        "engine on one run and on a batch of runs (run-steps/s, and the ratio of the two); the 64 x 64 sweep; one "
        "logreg epoch on digits; the wall and CPU time of the default commands and where it goes; the default break "
        "search (fused, and with --break-search both the batched torch engine); and (--compile yes, the default) "
        "each kernel's first-run compile time and SIMD lanes, in fresh processes."),
}


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


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
    for options, f in cs.flags(cls):
        default = f.default
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        parser.add_argument(
            *options,
            dest=f.name,
            type=_type(f.metadata["parse"]),
            default=default,
            metavar=f.name.upper(),
            help=f"{f.metadata['help']} (default: "
                 f"{f.metadata['none'] if default is None else 'none' if shown == '' else shown})",
        )


def optimizer_epilog():
    """The registry as help text: each name, whether it has a fused kernel, and the class it builds."""
    lines = ["optimizers (registry name, engine under --engine auto, class):"]
    for spec in registry.SPECS:
        lines.append(f"  {spec.name:<14} {'fused' if spec.kernel else 'torchbearer':<12} {spec.description}")
    lines.append("  module:Class   torchbearer  any torch.optim.Optimizer subclass by import path")
    return "\n".join(lines)


def build_parser():
    parser = Parser(
        prog="amsgrad-repro",
        description="Adam's failure on the counterexamples of Reddi, Kale & Kumar (ICLR 2018), and beyond.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        sub = subparsers.add_parser(name, help=command.help, description=command.description,
                                    epilog=optimizer_epilog() if command.optimizers_epilog else None,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
        add_settings(sub, command.settings)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    command = COMMANDS[args.command]
    try:
        settings = command.settings(**{f.name: getattr(args, f.name) for _, f in cs.flags(command.settings)})
        module = importlib.import_module(f"{__package__}.commands.{command.module}")
        with STOP.catching():  # Ctrl-C and SIGTERM end the command through its own run-ending path
            return module.main(args.command, settings)
    except (UsageError, DataError) as error:
        print(f"{parser.prog} {args.command}: error: {error}", file=sys.stderr)
        return 2


def run(argv=None):
    """The process's entry point (``python -m amsgrad_repro``): ``main``, then the end of the process.

    Before the command, ``commands.startup.prepare_process`` makes full garbage collections rarer and lets the
    command draw its figure in a child process, which imports matplotlib while the command trains. After a command
    that succeeded, everything it wrote is closed, so the process flushes stdout and stderr, runs the ``atexit``
    handlers (a tensorboardX writer left open, Ray's shutdown, logging) and ends with ``os._exit``, skipping the
    interpreter's teardown: a full collection and the freeing of every module, which change no file. Any other
    status (2, 1, 130, 143) ends through ``sys.exit`` as before, so that a writer left open by a failed run is still
    flushed when the interpreter frees it.
    """
    startup.prepare_process()
    status = main(argv)
    if status == 0:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:  # a closed pipe (``| head``): the interpreter's own ending reports it
            return status
        atexit._run_exitfuncs()  # the interpreter's own call at exit; the atexit module has no public one
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    return status
