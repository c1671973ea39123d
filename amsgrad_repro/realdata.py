"""The paper's real-data experiments (Reddi et al. 2018, Section 5, Figure 2): ``logreg``, ``mlp`` and ``cifarnet``.

Each command trains its network with one torchbearer ``Trial`` per optimizer and grid point (α, β2), picks each
optimizer's best point by final training loss, as the paper's grid search does, and draws Figure 2 from those runs.

Paper settings (Section 5): β1 = 0.9 and β2 ∈ {0.99, 0.999} chosen with α by grid search; minibatch 128.
Logistic regression on MNIST uses α_t = α/√t; the one-hidden-layer network (100 ReLU units) on MNIST and CIFARNET on
CIFAR-10 use a constant α. CIFARNET also reports the test loss.

Layout of a run directory ``<logdir>/<command>-<YYYYmmdd-HHMMSS>``: one TensorBoard run per optimizer and grid point
(``training``), ``summary.json`` and ``figure2.png`` (``realdata_report``).

Determinism: a run's initial weights, data order and dropout masks depend only on ``--seed`` (and, for ``digits``,
the train/test split does too). Every optimizer and grid point sees the same initial weights and the same
minibatches.
"""

import itertools
import sys
import tempfile
from dataclasses import dataclass

from . import datasets, optimizers
from .realdata_report import FIGURE, draw, format_table, write_summary
from .settings import beta, choice, non_negative_int, optimizer_list, positive_float, positive_int, setting
from .runs import RunInterrupted
from .training import train


def listed(parse, what):
    """A parser of comma lists for ``parse``: a tuple in the given order, repeats dropped."""

    def parse_list(text):
        items = [item.strip() for item in text.split(",") if item.strip()]
        if not items:
            raise ValueError(f"expected a comma-separated list of {what}, got {text!r}")
        return tuple(dict.fromkeys(parse(item) for item in items))

    parse_list.__name__ = f"{parse.__name__}_list"
    return parse_list


positive_float_list = listed(positive_float, "positive numbers")
beta_list = listed(beta, "betas in [0, 1)")


@dataclass(frozen=True)
class RealDataSettings:
    """One invocation of ``python -m amsgrad_repro logreg|mlp|cifarnet``; the defaults are those of ``logreg``."""

    dataset: str = setting(
        "mnist", choice(*datasets.DATASETS), "mnist, cifar10, or digits (8x8 MNIST stand-in bundled with scikit-learn)"
    )
    data_dir: str = setting("data", str, "directory holding the MNIST IDX files or the CIFAR-10 python batches")
    optimizers: tuple = setting(("adam", "amsgrad"), optimizer_list, "comma list of registry names or module:Class")
    lr: tuple = setting((1e-3,), positive_float_list, "comma list of step sizes alpha for the grid search")
    beta1: float = setting(0.9, beta, "beta1 in [0, 1); the paper fixes 0.9")
    beta2: tuple = setting((0.99,), beta_list, "comma list of beta2 for the grid search; the paper's is 0.99,0.999")
    epochs: int = setting(10, positive_int, "passes over the training set")
    batch_size: int = setting(128, positive_int, "minibatch size (the paper's: 128)")
    seed: int = setting(0, non_negative_int, "seed of the initial weights, data order, dropout and the digits split")
    device: str = setting("auto", choice("auto", "cpu", "cuda"), "auto = cuda when available, else cpu")
    log_every: int = setting(10, positive_int, "TensorBoard batch metrics every N iterations")
    logdir: str = setting("logs", str, "directory that holds one run directory per invocation")


@dataclass(frozen=True)
class CifarnetSettings(RealDataSettings):
    """One invocation of ``python -m amsgrad_repro cifarnet``."""

    dataset: str = setting("cifar10", choice(*datasets.DATASETS), "cifar10 (CIFARNET takes 32x32 colour images)")
    epochs: int = setting(5, positive_int, "passes over the training set")


@dataclass(frozen=True)
class Experiment:
    """What distinguishes one real-data command: its network, its step-size schedule and its reported losses."""

    network: str
    schedule: str  # "sqrt": α_t = α/√t; "constant": α_t = α
    test_loss: bool
    settings_cls: type
    description: str


EXPERIMENTS = {
    "logreg": Experiment("logreg", "sqrt", False, RealDataSettings,
                         "multiclass logistic regression on MNIST, alpha_t = alpha/sqrt(t)"),
    "mlp": Experiment("mlp", "constant", False, RealDataSettings,
                      "one hidden layer of 100 ReLU units on MNIST, constant alpha"),
    "cifarnet": Experiment("cifarnet", "constant", True, CifarnetSettings,
                           "CIFARNET on CIFAR-10, constant alpha, training and test loss"),
}


def grid(spec, settings):
    """The (α, β2) points ``spec`` is trained at: every β2 only if the optimizer reads β2, else β2 = None."""
    betas2 = settings.beta2 if "beta2" in spec.uses else (None,)
    return list(itertools.product(settings.lr, betas2))


def resolve_device(name):
    """``auto`` -> cuda when available, else cpu. Raises UsageError when cuda is asked for and absent."""
    import torch

    from .cli import UsageError

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("argument --device: cuda was requested but torch.cuda.is_available() is False")
    return name


def check(command, settings):
    """Rejects combinations the parsers cannot see, before any data is read. Raises UsageError."""
    from .cli import UsageError

    if command == "cifarnet" and settings.dataset != "cifar10":
        raise UsageError(f"argument --dataset: cifarnet takes 32x32 colour images, so only cifar10, "
                         f"got {settings.dataset!r}")


def load(settings):
    """The data set named by ``settings``; a missing or broken file becomes a UsageError naming ``--data-dir``."""
    from .cli import UsageError

    try:
        return datasets.load_dataset(settings.dataset, settings.data_dir, settings.seed)
    except datasets.DataError as error:
        hint = " (--dataset digits needs no files)" if settings.dataset == "mnist" else ""
        raise UsageError(f"argument --data-dir: {error}{hint}") from None


def run_command(command, settings):
    """Runs the grid for every optimizer, then writes summary.json, figure2.png and the table; returns the status."""
    from .cli import check_optimizers, make_run_dir

    check(command, settings)
    experiment = EXPERIMENTS[command]
    device = resolve_device(settings.device)
    split = load(settings)
    specs = [optimizers.get(name) for name in settings.optimizers]
    check_optimizers(settings.optimizers, optimizers.Hyper(lr=settings.lr[0], beta1=settings.beta1,
                                                           beta2=settings.beta2[0]))
    run_dir = make_run_dir(settings.logdir, command, "--logdir")
    print(f"run directory: {run_dir} ({command} on {split.name}, {len(split.train[1])} training examples, {device})")
    results, interrupted = [], False
    try:
        for spec in specs:
            for lr, beta2 in grid(spec, settings):
                print(f"{spec.name} lr={lr:g}" + ("" if beta2 is None else f" beta2={beta2:g}"), file=sys.stderr)
                results.append(train(experiment, settings, split, spec, lr, beta2, run_dir, device, sys.stderr))
    except RunInterrupted as stop:
        results.append(stop.partial)
        interrupted = True
    except KeyboardInterrupt:  # between two runs: nothing partial to keep
        interrupted = True
    write_summary(run_dir, command, experiment, settings, split, device, results, interrupted)
    draw(run_dir, command, experiment, settings, split, results)
    print(format_table(results, experiment.test_loss))
    if interrupted:
        print(f"interrupted: partial TensorBoard logs, summary.json and {FIGURE} are in {run_dir}", file=sys.stderr)
        return 130
    print(f"wrote {run_dir}/summary.json and {FIGURE}; view with: tensorboard --logdir {settings.logdir}")
    return 0


def register(commands):
    """Adds the ``logreg``, ``mlp`` and ``cifarnet`` subcommands to the CLI's subparsers."""
    from .cli import add_settings

    for name, experiment in EXPERIMENTS.items():
        sub = commands.add_parser(
            name,
            help=f"Figure 2: {experiment.description}",
            description=f"Section 5, Figure 2: {experiment.description}. Trains every optimizer at every (lr, beta2) "
            "of the grid; writes TensorBoard runs, summary.json and figure2.png into a fresh run directory under "
            "--logdir.",
        )
        add_settings(sub, experiment.settings_cls)
        sub.set_defaults(handler=run_command, settings_cls=experiment.settings_cls)


def time_logreg_epoch(dataset="digits", seed=0, data_dir="data"):
    """Seconds of one training epoch of ``logreg`` with Adam at the default settings, logging included.

    Data loading and network construction are not timed. For the benchmark harness.
    """
    settings = RealDataSettings(dataset=dataset, data_dir=data_dir, seed=seed, epochs=1, device="cpu")
    split = datasets.load_dataset(dataset, data_dir, seed)
    with tempfile.TemporaryDirectory() as run_dir:
        result = train(EXPERIMENTS["logreg"], settings, split, optimizers.get("adam"), settings.lr[0],
                       settings.beta2[0], run_dir)
    return result.seconds
