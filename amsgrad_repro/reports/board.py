"""Self-describing TensorBoard runs: each run's settings as hparams (with its results as the metrics), and the
command's table and figure as text and image summaries.

Events are written as whole protos (``engines.events.EventFile``), into a file of their own
(suffix ``.card``) beside the run's scalars, so they never mix with or overwrite another writer's file. tensorboardX's
``add_hparams`` would instead open a new run named by the time for every call.
"""

import os

import numpy as np

METRIC = "hparams/{}"  # the scalar tag of a metric shown in the HParams dashboard
REPORT = "report"  # the TensorBoard run, beside the optimizers' runs, that holds the table and the figure


def _write(directory, summaries, step):
    """``summaries`` at ``step`` in an event file of their own, suffix ``.card``."""
    from ..engines.events import EventFile

    events = EventFile(directory, suffix=".card")
    events.write_summaries(summaries, step)
    events.close()


def _scalar(tag, value):
    from tensorboardX.proto.summary_pb2 import Summary

    return Summary(value=[Summary.Value(tag=tag, simple_value=float(value))])


def write_hparams(directory, hparams, metrics, step):
    """The HParams plugin's session start and end for one run, and each metric as the scalar ``hparams/<name>`` at
    ``step``. ``hparams`` values are str, bool or numbers (None is left out); a metric may be NaN (a diverged run).

    No experiment summary is written: TensorBoard then builds the experiment from every session it finds (the
    union of their hparams, and their scalar tags as metrics), so runs of different commands in one ``--logdir``
    all show up. With an experiment summary in each run, it would pick one run's arbitrarily.
    """
    from tensorboardX.summary import hparams as hparams_summaries

    names = {METRIC.format(name): value for name, value in metrics.items()}
    _, start, end = hparams_summaries({k: v for k, v in hparams.items() if v is not None}, names)
    _write(directory, [start, end, *(_scalar(tag, value) for tag, value in names.items())], step)


def write_report(run_dir, table, figures):
    """The run directory's ``report`` run: ``table`` (monospaced text) as the text summary ``table``, and each PNG
    of ``figures`` ({tag: path}) as an image summary."""
    from tensorboardX.proto.summary_pb2 import Summary
    from tensorboardX.summary import text

    summaries = [text("table", "\n".join("    " + line for line in table.splitlines()))]  # Markdown code block
    for tag, path in figures.items():
        if not os.path.exists(path):
            continue
        with open(path, "rb") as f:
            png = f.read()
        height, width = _png_size(png)
        image = Summary.Image(height=height, width=width, colorspace=4, encoded_image_string=png)
        summaries.append(Summary(value=[Summary.Value(tag=tag, image=image)]))
    _write(os.path.join(run_dir, REPORT), summaries, 0)


def _png_size(png):
    """(height, width) from a PNG's IHDR chunk."""
    width, height = np.frombuffer(png[16:24], dtype=">u4")
    return int(height), int(width)


def describe_trajectories(run_dir, problem_name, problem, settings, trajectories, engines, table, figures):
    """hparams of every run of a problem command or ``compare``, and the ``report`` run with the table and figures.

    A run's hparams are its optimizer, engine, lr, betas, schedule, seed, steps and the problem's parameters; its
    metrics are the final x, the tail x (the verdict's mean of x_t over the last 10 %) and R_T/T.
    """
    from ..runs.verdict import tail_x

    shape = {key: getattr(problem, key) for key in ("scale", "C", "period", "p") if hasattr(problem, key)}
    for tr in trajectories:
        hparams = {"optimizer": tr.optimizer, "engine": engines[tr.optimizer], "lr": settings.lr,
                   "beta1": settings.betas[0], "beta2": settings.betas[1], "schedule": settings.schedule,
                   "seed": tr.seed, "steps": settings.steps, "problem": problem_name, **shape}
        metrics = {"final_x": tr.final_x, "tail_x": tail_x(tr), "average_regret": tr.final_average_regret}
        write_hparams(tr.tb_dir, hparams, metrics, tr.steps_done)
    write_report(run_dir, table, figures)


def describe_cells(run_dir, settings, optimizer, results, table, figures):
    """One TensorBoard run per sweep cell, ``cells/beta1=..,beta2=..,lr=..,seed=..``, with the cell's settings as
    hparams and its final x, tail x and R_T/T as metrics, so the HParams dashboard's parallel coordinates show the phase
    boundary; and the ``report`` run with ``table`` and the heatmaps.

    ``results`` is the sweep's list of (lr, final x, tail x, R_T/T), the arrays shaped (|beta1|, |beta2|, seeds).
    """
    for lr, x, tail, regret in results:
        for i, b1 in enumerate(settings.beta1.values):
            for j, b2 in enumerate(settings.beta2.values):
                for k in range(settings.seeds):
                    seed = settings.seed + k
                    hparams = {"optimizer": optimizer, "problem": settings.problem, "beta1": b1, "beta2": b2,
                               "one_minus_beta2": 1.0 - b2, "lr": lr, "seed": seed, "steps": settings.steps,
                               "schedule": settings.schedule}
                    cell = os.path.join(run_dir, "cells", f"beta1={b1:.6g},beta2={b2:.10g},lr={lr:g},seed={seed}")
                    write_hparams(cell, hparams, {"final_x": x[i, j, k], "tail_x": tail[i, j, k],
                                                   "average_regret": regret[i, j, k]},
                                  settings.steps)
    write_report(run_dir, table, figures)


def describe_trials(run_dir, command, dataset, settings, results, table, figures):
    """hparams of every real-data trial (optimizer, α, β1, β2, data set, epochs, batch size, seed) with its last
    epoch's training (and test) loss and accuracy as metrics, and the ``report`` run with the table and Figure 2."""
    for r in results:
        hparams = {"command": command, "optimizer": r.optimizer, "lr": r.lr, "beta1": settings.beta1,
                   "beta2": r.beta2, "dataset": dataset, "epochs": settings.epochs,
                   "batch_size": settings.batch_size, "seed": settings.seed}
        metrics = {name: r.final(key) for name, key in (("train_loss", "loss"), ("train_acc", "acc"),
                                                         ("test_loss", "val_loss"), ("test_acc", "val_acc"))
                   if key in (r.epochs[-1] if r.epochs else {})}
        write_hparams(r.tb_dir, hparams, metrics, len(r.losses))
    write_report(run_dir, table, figures)
