"""What a real-data command reports after its grid search: ``summary.json``, the stdout table and Figure 2.

Each optimizer's best grid point is the one with the lowest final training loss, as the paper's grid search picks it
(Reddi et al. 2018, Section 5). Every run also reports its test loss and accuracy on the held-out part.
"""

import math
import os

from ..realdata.training import TRAINING_TAGS
from .summary import write_summary

FIGURE = "figure2.png"


def best_runs(results):
    """{optimizer: its result with the lowest final training loss}; NaN counts as worst, ties go to the first."""
    best = {}
    for r in results:
        loss = r.final("loss")
        key = math.inf if math.isnan(loss) else loss
        if r.optimizer not in best or key < best[r.optimizer][0]:
            best[r.optimizer] = (key, r)
    return {name: r for name, (_, r) in best.items()}


def write_realdata_summary(run_dir, command, experiment, settings, split, device, results, failures, files):
    """Writes ``summary.json`` (``summary.write_summary``): data set, per run the final values and TensorBoard
    folder, the best runs."""

    def row(r):
        values = {"train_loss": r.final("loss"), "train_acc": r.final("acc"), "test_loss": r.final("val_loss"),
                  "test_acc": r.final("val_acc")}
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

    return write_summary(
        run_dir, command, settings, files,
        failed=failures,
        description=experiment.description,
        dataset=split.name,
        train_examples=len(split.train[1]),
        test_examples=len(split.test[1]),
        iterations_per_epoch=math.ceil(len(split.train[1]) / settings.batch_size),
        device=device,
        schedule=experiment.schedule,
        selection="per optimizer, the grid point with the lowest final training loss (mean over the last epoch)",
        tags=TRAINING_TAGS,
        runs=[row(r) for r in results],
        best={name: {"lr": r.lr, "beta2": r.beta2, "train_loss": r.final("loss")}
              for name, r in best_runs(results).items()},
    )


def format_table(results):
    """The stdout table: one row per run; ``*`` marks each optimizer's best grid point."""
    best = {id(r) for r in best_runs(results).values()}
    head = f"{'optimizer':<18}{'lr':>10}{'beta2':>8}{'train loss':>12}{'train acc':>11}"
    lines = [head + f"{'test loss':>11}{'test acc':>10}{'seconds':>9}  best"]
    for r in results:
        line = f"{r.optimizer:<18}{r.lr:>10g}{'-' if r.beta2 is None else f'{r.beta2:g}':>8}"
        line += f"{r.final('loss'):>12.4f}{r.final('acc'):>11.4f}"
        line += f"{r.final('val_loss'):>11.4f}{r.final('val_acc'):>10.4f}"
        line += f"{r.seconds:>9.2f}  {'*' if id(r) in best else ''}{' (interrupted)' if r.interrupted else ''}"
        lines.append(line)
    return "\n".join(lines)


def draw(run_dir, command, experiment, settings, split, results):
    """Figure 2 from each optimizer's best run; returns the PNG's path."""
    from .figure2 import figure2

    best = best_runs(results).values()
    test = None
    if experiment.test_panel:
        test = {r.label: ([e["iteration"] for e in r.epochs], [e.get("val_loss", math.nan) for e in r.epochs])
                for r in best}
    grid_text = f"lr {','.join(f'{a:g}' for a in settings.lr)}, beta2 {','.join(f'{b:g}' for b in settings.beta2)}"
    title = (f"{command} on {split.name}\nbest per optimizer of {grid_text}\n"
             f"batch {settings.batch_size}, seed {settings.seed}")
    return figure2({r.label: r.losses for r in best}, os.path.join(run_dir, FIGURE), title, test=test)
