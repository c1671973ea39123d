"""The paper's real-data experiments (Reddi et al. 2018, Section 5, Figure 2): ``logreg``, ``mlp`` and ``cifarnet``.

Each command trains its network with one torchbearer ``Trial`` per optimizer and grid point (α, β2), picks each
optimizer's best point by final training loss, as the paper's grid search does, and draws Figure 2 from those runs.

Paper settings (Section 5): β1 = 0.9 and β2 ∈ {0.99, 0.999} chosen with α by grid search; minibatch 128.
Logistic regression on MNIST uses α_t = α/√t; the one-hidden-layer network (100 ReLU units) on MNIST and CIFARNET on
CIFAR-10 use a constant α. CIFARNET also reports the test loss.

Layout of a run directory ``<logdir>/<command>-<YYYYmmdd-HHMMSS>``: one TensorBoard run per optimizer and grid point,
``<Model>_<optimizer>_lr<α>[_beta2-<β2>]/``, with the tags in ``TAGS`` on one x-axis, the iteration t counted
across epochs; ``summary.json``; ``figure2.png``.

Determinism: a run's initial weights, data order and dropout masks depend only on ``--seed`` (and, for ``digits``,
the train/test split does too). Every optimizer and grid point sees the same initial weights and the same
minibatches.
"""

import itertools
import math
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field

import torchbearer
from torchbearer.callbacks import Callback, TensorBoard

from . import datasets, optimizers, runs
from .settings import beta, choice, non_negative_int, optimizer_list, positive_float, positive_int, setting

TAGS = {
    "train_loss": "batch/running_loss",  # torchbearer's running mean of the last 50 minibatch losses
    "train_acc": "batch/running_acc",
    "lr": "batch/lr",  # the step size α_t in force at iteration t
    "epoch_train_loss": "epoch/loss",  # mean minibatch loss over the epoch
    "epoch_train_acc": "epoch/acc",
    "epoch_test_loss": "epoch/val_loss",  # cifarnet only
    "epoch_test_acc": "epoch/val_acc",  # cifarnet only
}
FIGURE = "figure2.png"


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


@dataclass
class RunResult:
    """One optimizer at one grid point: its curves and its final values (NaN until an epoch has finished)."""

    optimizer: str
    lr: float
    beta2: float | None  # None: the optimizer does not read β2
    tb_dir: str
    losses: list = field(default_factory=list)  # training loss of minibatch t at index t - 1
    epochs: list = field(default_factory=list)  # one dict per finished epoch: iteration, loss, acc[, val_loss, val_acc]
    seconds: float = 0.0
    interrupted: bool = False

    def final(self, key):
        return self.epochs[-1][key] if self.epochs and key in self.epochs[-1] else float("nan")

    @property
    def label(self):
        beta2 = "" if self.beta2 is None else f", β2={self.beta2:g}"
        return f"{self.optimizer} (α={self.lr:g}{beta2})"


class Interrupted(Exception):
    """Ctrl-C during a run; carries the partial ``RunResult`` whose TensorBoard writer was closed."""

    def __init__(self, partial):
        super().__init__("interrupted")
        self.partial = partial


class IterationTensorBoard(TensorBoard):
    """torchbearer's TensorBoard callback with one x-axis for the whole run: the iteration t = 1, 2, ... across epochs.

    The parent writes batch metrics per epoch into ``epoch-<n>/`` folders, each restarting at step 0; this keeps its
    writer and directory handling (``<log_dir>/<Model>_<comment>/``) and writes ``batch/<metric>`` and ``batch/lr``
    every ``every`` iterations and ``epoch/<metric>`` at the epoch's last iteration into that one folder, so every
    optimizer's curves overlay in TensorBoard as in Figure 2.

    State keys read: ``EPOCH``, ``TRAIN_STEPS``, ``BATCH``, ``METRICS``, ``OPTIMIZER``.
    """

    def __init__(self, log_dir, comment, every):
        super().__init__(log_dir=log_dir, write_graph=False, write_batch_metrics=False, write_epoch_metrics=True,
                         comment=comment)
        self.every = every

    @staticmethod
    def iteration(state):
        return state[torchbearer.EPOCH] * state[torchbearer.TRAIN_STEPS] + state[torchbearer.BATCH] + 1

    def on_step_training(self, state):
        t = self.iteration(state)
        if t % self.every == 0:
            for name, value in state[torchbearer.METRICS].items():
                self.add_metric(self.writer.add_scalar, "batch/" + name, value, t)
            # The step just taken used this lr: a LambdaLR placed after this callback has not stepped yet.
            self.writer.add_scalar(TAGS["lr"], state[torchbearer.OPTIMIZER].param_groups[0]["lr"], t)

    def on_end_epoch(self, state):
        t = (state[torchbearer.EPOCH] + 1) * state[torchbearer.TRAIN_STEPS]
        for name, value in state[torchbearer.METRICS].items():
            if not name.startswith("running_"):
                self.add_metric(self.writer.add_scalar, "epoch/" + name, value, t)


class Recorder(Callback):
    """Keeps every minibatch's training loss and each epoch's final metrics in a ``RunResult``.

    Losses are kept as detached tensors and turned into floats once per epoch, so a GPU is not synchronised per step.
    State keys read: ``LOSS`` (each step), ``EPOCH``, ``TRAIN_STEPS``, ``METRICS`` (end of each epoch).
    """

    def __init__(self, result, stream=None, total_epochs=0):
        self.result, self.stream, self.total_epochs = result, stream, total_epochs
        self.pending = []

    def on_step_training(self, state):
        self.pending.append(state[torchbearer.LOSS].detach())

    def flush(self):
        if self.pending:
            import torch

            self.result.losses.extend(torch.stack(self.pending).float().cpu().tolist())
            self.pending = []

    def on_end_training(self, state):
        self.flush()

    def on_end_epoch(self, state):
        metrics = {k: float(v) for k, v in state[torchbearer.METRICS].items() if not k.startswith("running_")}
        epoch = state[torchbearer.EPOCH] + 1
        self.result.epochs.append({"epoch": epoch, "iteration": epoch * state[torchbearer.TRAIN_STEPS], **metrics})
        if self.stream is not None:
            shown = "  ".join(f"{k} {v:.4f}" for k, v in metrics.items())
            print(f"  epoch {epoch}/{self.total_epochs}: {shown}", file=self.stream, flush=True)


def grid(spec, settings):
    """The (α, β2) points ``spec`` is trained at: every β2 only if the optimizer reads β2, else β2 = None."""
    betas2 = settings.beta2 if "beta2" in spec.uses else (None,)
    return list(itertools.product(settings.lr, betas2))


def run_label(spec, lr, beta2):
    """The TensorBoard comment of one run; ``repr`` keeps distinct values distinct (0.001 vs 0.0010000001)."""
    label = f"{spec.name.replace(':', '.')}_lr{lr!r}"
    return label if beta2 is None else f"{label}_beta2-{beta2!r}"


def resolve_device(name):
    """``auto`` -> cuda when available, else cpu. Raises UsageError when cuda is asked for and absent."""
    import torch

    from .cli import UsageError

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("argument --device: cuda was requested but torch.cuda.is_available() is False")
    return name


def loaders(split, batch_size, seed, device, with_test):
    """(train, test or None) DataLoaders over in-memory tensors on ``device``.

    The training order comes from a ``torch.Generator`` seeded with ``seed``: the same permutations as
    ``DataLoader(shuffle=True, generator=...)``. Each minibatch is one indexing of the whole tensors, not 128 single
    lookups and a collate; there are no worker processes.
    """
    import torch
    from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset

    def make(x, y, sampler_for):
        data = TensorDataset(torch.from_numpy(x).to(device), torch.from_numpy(y).to(device))
        batches = BatchSampler(sampler_for(data), batch_size, drop_last=False)
        return DataLoader(data, sampler=batches, batch_size=None, num_workers=0)

    order = torch.Generator().manual_seed(seed)
    train = make(*split.train, lambda d: RandomSampler(d, generator=order))
    test = make(*split.test, SequentialSampler) if with_test else None
    return train, test


def train(command, settings, split, spec, lr, beta2, run_dir, device="cpu", stream=None):
    """Trains ``command``'s network on ``split`` with one optimizer at one grid point; returns its ``RunResult``.

    Raises:
        Interrupted: on Ctrl-C, after the TensorBoard writer was closed; carries the finished epochs.
    """
    import torch
    from torch import nn
    from torchbearer import Trial
    from torchbearer.callbacks import LambdaLR

    from .experiment import sqrt_decay
    from .networks import build_network

    experiment = EXPERIMENTS[command]
    model = build_network(experiment.network, split.input_shape, split.num_classes, settings.seed).to(device)
    hyper = optimizers.Hyper(lr=lr, beta1=settings.beta1, beta2=settings.beta2[0] if beta2 is None else beta2)
    optimizer = spec.build(model.parameters(), hyper)
    comment = run_label(spec, lr, beta2)
    result = RunResult(spec.name, lr, beta2, tb_dir=os.path.join(run_dir, f"{type(model).__name__}_{comment}"))
    board = IterationTensorBoard(run_dir, comment, settings.log_every)
    recorder = Recorder(result, stream, settings.epochs)
    callbacks = [recorder, board]
    if experiment.schedule == "sqrt":
        callbacks.append(LambdaLR(sqrt_decay, step_on_batch=True))  # α_t = α/√t, t counted across epochs
    trial = Trial(model, optimizer, nn.CrossEntropyLoss(), metrics=["loss", "acc"], callbacks=callbacks, verbose=0)
    train_data, test_data = loaders(split, settings.batch_size, settings.seed, device, experiment.test_loss)
    trial.with_generators(train_data, val_generator=test_data).to(device)
    # Dropout draws from torch's global generator: seed it for this run only, then restore it.
    devices = [torch.device(device).index or 0] if torch.device(device).type == "cuda" else []
    start = time.perf_counter()
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(settings.seed)
        try:
            trial.run(settings.epochs, verbose=0)
        except KeyboardInterrupt:
            board.close_writer()
            recorder.flush()
            result.seconds, result.interrupted = time.perf_counter() - start, True
            raise Interrupted(result) from None
    result.seconds = time.perf_counter() - start
    return result


def best_runs(results):
    """{optimizer: its result with the lowest final training loss}; NaN counts as worst, ties go to the first."""
    best = {}
    for r in results:
        loss = r.final("loss")
        key = math.inf if math.isnan(loss) else loss
        if r.optimizer not in best or key < best[r.optimizer][0]:
            best[r.optimizer] = (key, r)
    return {name: r for name, (_, r) in best.items()}


def write_summary(run_dir, command, settings, split, device, results, interrupted):
    """Writes ``summary.json``: settings, data set, per run the final values and TensorBoard folder, the best runs."""
    import json

    def row(r):
        values = {"train_loss": r.final("loss"), "train_acc": r.final("acc")}
        if EXPERIMENTS[command].test_loss:
            values.update(test_loss=r.final("val_loss"), test_acc=r.final("val_acc"))
        return {
            "optimizer": r.optimizer,
            "lr": r.lr,
            "beta2": r.beta2,
            "final": values,
            "epochs_done": len(r.epochs),
            "iterations_done": len(r.losses),
            "seconds": r.seconds,
            "interrupted": r.interrupted,
            "epochs": r.epochs,
            "tensorboard_dir": os.path.relpath(r.tb_dir, run_dir),
        }

    summary = {
        "command": command,
        "description": EXPERIMENTS[command].description,
        "interrupted": interrupted,
        "settings": asdict(settings),
        "dataset": split.name,
        "train_examples": len(split.train[1]),
        "test_examples": len(split.test[1]),
        "iterations_per_epoch": math.ceil(len(split.train[1]) / settings.batch_size),
        "device": device,
        "schedule": EXPERIMENTS[command].schedule,
        "selection": "per optimizer, the grid point with the lowest final training loss (mean over the last epoch)",
        "tags": TAGS,
        "runs": [row(r) for r in results],
        "best": {name: {"lr": r.lr, "beta2": r.beta2, "train_loss": r.final("loss")}
                 for name, r in best_runs(results).items()},
        "figure": FIGURE,
    }
    with open(os.path.join(run_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2, default=float)
    return summary


def format_table(results, with_test):
    """The stdout table: one row per run; ``*`` marks each optimizer's best grid point."""
    best = {id(r) for r in best_runs(results).values()}
    head = f"{'optimizer':<18}{'lr':>10}{'beta2':>8}{'train loss':>12}{'train acc':>11}"
    head += f"{'test loss':>11}{'test acc':>10}" if with_test else ""
    lines = [head + f"{'seconds':>9}  best"]
    for r in results:
        line = f"{r.optimizer:<18}{r.lr:>10g}{'-' if r.beta2 is None else f'{r.beta2:g}':>8}"
        line += f"{r.final('loss'):>12.4f}{r.final('acc'):>11.4f}"
        line += f"{r.final('val_loss'):>11.4f}{r.final('val_acc'):>10.4f}" if with_test else ""
        line += f"{r.seconds:>9.2f}  {'*' if id(r) in best else ''}{' (interrupted)' if r.interrupted else ''}"
        lines.append(line)
    return "\n".join(lines)


def draw(run_dir, command, settings, split, results):
    """Figure 2 from each optimizer's best run; returns the PNG's path."""
    from .figure2 import figure2

    best = best_runs(results).values()
    test = None
    if EXPERIMENTS[command].test_loss:
        test = {r.label: ([e["iteration"] for e in r.epochs], [e.get("val_loss", math.nan) for e in r.epochs])
                for r in best}
    grid_text = f"lr {','.join(f'{a:g}' for a in settings.lr)}, beta2 {','.join(f'{b:g}' for b in settings.beta2)}"
    title = f"{command} on {split.name}\nbest per optimizer of {grid_text}\nbatch {settings.batch_size}, seed {settings.seed}"
    return figure2({r.label: r.losses for r in best}, os.path.join(run_dir, FIGURE), title, test=test)


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
    from .cli import UsageError

    check(command, settings)
    device = resolve_device(settings.device)
    split = load(settings)
    specs = [optimizers.get(name) for name in dict.fromkeys(settings.optimizers)]  # a repeat would share a TB run
    try:
        run_dir = runs.new_run_dir(settings.logdir, command)
    except OSError as error:
        raise UsageError(f"argument --logdir: cannot create a run directory in {settings.logdir!r}: {error.strerror}")
    print(f"run directory: {run_dir} ({command} on {split.name}, {len(split.train[1])} training examples, {device})")
    results, interrupted = [], False
    try:
        for spec in specs:
            for lr, beta2 in grid(spec, settings):
                print(f"{spec.name} lr={lr:g}" + ("" if beta2 is None else f" beta2={beta2:g}"), file=sys.stderr)
                results.append(train(command, settings, split, spec, lr, beta2, run_dir, device, sys.stderr))
    except Interrupted as stop:
        results.append(stop.partial)
        interrupted = True
    except KeyboardInterrupt:  # between two runs: nothing partial to keep
        interrupted = True
    write_summary(run_dir, command, settings, split, device, results, interrupted)
    draw(run_dir, command, settings, split, results)
    print(format_table(results, EXPERIMENTS[command].test_loss))
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
        result = train("logreg", settings, split, optimizers.get("adam"), settings.lr[0], settings.beta2[0], run_dir)
    return result.seconds
