"""One grid point of a real-data experiment: one torchbearer ``Trial`` of one optimizer at one (α, β2).

Each run writes one TensorBoard folder ``<Model>_<optimizer>_lr<α>[_beta2-<β2>]/`` with the tags in ``TRAINING_TAGS`` on
one x-axis, the iteration t counted across epochs, and keeps every minibatch's loss in a ``RunResult``. After each epoch
the network is evaluated on the held-out part of the data set (test loss and accuracy).

Determinism: a run's initial weights, data order and dropout masks depend only on the settings' ``seed``. Every
optimizer and grid point sees the same initial weights and the same minibatches.
"""

import math
import os
import time
from dataclasses import dataclass, field

import torchbearer
from torchbearer.callbacks import Callback

from ..engines.tensorboard import IndexedTensorBoard
from ..engines.progress import Progress
from ..engines.trial import StopOnSignal
from ..runs.interrupt import STOP, RunInterrupted

TRAINING_TAGS = {
    "train_loss": "batch/running_loss",  # torchbearer's running mean of the last 50 minibatch losses
    "train_acc": "batch/running_acc",
    "lr": "batch/lr",  # the step size α_t in force at iteration t
    "epoch_train_loss": "epoch/loss",  # mean minibatch loss over the epoch
    "epoch_train_acc": "epoch/acc",
    "epoch_test_loss": "epoch/val_loss",  # on the held-out part, after each epoch
    "epoch_test_acc": "epoch/val_acc",
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


def iteration(state):
    """The iteration t = 1, 2, ... counted across epochs: one x-axis for the whole run, as in Figure 2."""
    return state[torchbearer.EPOCH] * state[torchbearer.TRAIN_STEPS] + state[torchbearer.BATCH] + 1


def batch_scalars(state):
    """Every batch metric as ``batch/<name>``, and ``batch/lr``: the step size of the step just taken (a LambdaLR
    placed after the TensorBoard callback has not stepped yet)."""
    metrics = state[torchbearer.METRICS]
    return [*(("batch/" + name, value) for name, value in metrics.items()),
            (TRAINING_TAGS["lr"], state[torchbearer.OPTIMIZER].param_groups[0]["lr"])]


def epoch_scalars(state):
    """Each epoch metric as ``epoch/<name>`` at the epoch's last iteration."""
    t = (state[torchbearer.EPOCH] + 1) * state[torchbearer.TRAIN_STEPS]
    return [("epoch/" + name, value, t) for name, value in state[torchbearer.METRICS].items()
            if not name.startswith("running_")]


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


def run_label(spec, lr, beta2):
    """The TensorBoard comment of one run; ``repr`` keeps distinct values distinct (0.001 vs 0.0010000001)."""
    label = f"{spec.name.replace(':', '.')}_lr{lr!r}"
    return label if beta2 is None else f"{label}_beta2-{beta2!r}"


def loaders(split, batch_size, seed, device):
    """(train, test) DataLoaders over in-memory tensors on ``device``; only the training order is shuffled.

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
    return train, make(*split.test, SequentialSampler)


def train(experiment, settings, split, spec, lr, beta2, run_dir, device="cpu", stream=None):
    """Trains ``experiment``'s network on ``split`` with one optimizer at one grid point; returns its ``RunResult``.

    Args:
        experiment: A ``realdata.Experiment``: its network and step-size schedule.
        settings: The command's ``RealDataSettings``; reads beta1, beta2 (when ``beta2`` is None), epochs,
            batch_size, seed and log_every.
        split: The data set, as ``datasets.load_dataset`` returns it.
        spec: The optimizer's registry entry.
        lr: The step size α.
        beta2: β2, or None when the optimizer does not read β2.
        run_dir: The run directory the TensorBoard folder goes into.
        device: Where the network and the data live.
        stream: Where each epoch's metrics are printed; None for silence.

    Raises:
        runs.interrupt.RunInterrupted: on Ctrl-C or SIGTERM, after the TensorBoard writer was closed; carries the
        finished epochs.
    """
    import torch
    from torch import nn
    from torchbearer import Trial
    from torchbearer.callbacks import LambdaLR

    from ..experiment import sqrt_decay
    from .networks import build_network

    model = build_network(experiment.network, split.input_shape, split.num_classes, settings.seed).to(device)
    optimizer = spec.build(model.parameters(), settings.hyper(lr, settings.beta2[0] if beta2 is None else beta2))
    comment = run_label(spec, lr, beta2)
    result = RunResult(spec.name, lr, beta2, tb_dir=os.path.join(run_dir, f"{type(model).__name__}_{comment}"))
    board = IndexedTensorBoard(run_dir, comment, settings.log_every, iteration, batch_scalars, epoch_scalars,
                               per_epoch=False)
    recorder = Recorder(result, stream, settings.epochs)
    total = settings.epochs * math.ceil(len(split.train[1]) / settings.batch_size)
    callbacks = [recorder, board, StopOnSignal(), Progress(comment, total, index=iteration, unit="it")]
    if experiment.schedule == "sqrt":
        callbacks.append(LambdaLR(sqrt_decay, step_on_batch=True))  # α_t = α/√t, t counted across epochs
    trial = Trial(model, optimizer, nn.CrossEntropyLoss(), metrics=["loss", "acc"], callbacks=callbacks, verbose=0)
    train_data, test_data = loaders(split, settings.batch_size, settings.seed, device)
    trial.with_generators(train_data, val_generator=test_data).to(device)
    # Dropout draws from torch's global generator: seed it for this run only, then restore it.
    devices = [torch.device(device).index or 0] if torch.device(device).type == "cuda" else []
    start = time.perf_counter()
    with torch.random.fork_rng(devices=devices), STOP.catching():
        torch.manual_seed(settings.seed)
        trial.run(settings.epochs, verbose=0)
    result.seconds, result.interrupted = time.perf_counter() - start, STOP.requested
    if STOP.requested:
        raise RunInterrupted(result)
    return result
