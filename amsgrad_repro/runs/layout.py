"""Where a run's files go: fresh run directories, torchbearer's TensorBoard folders and the shared tags.

Every invocation gets a fresh directory ``<logdir>/<name>-<YYYYmmdd-HHMMSS>[-k]``, created with ``exist_ok=False``, so
a re-run never writes into an earlier one. Inside, each optimizer (and seed) has torchbearer's TensorBoard layout
``<Model>_<label>/epoch-0/`` with the tags in ``PROBLEM_TAGS``; the same tags in every run make TensorBoard overlay all
optimizers in one chart.
"""

import os
import time

PROBLEM_TAGS = {"x": "batch/x", "average_regret": "batch/average_regret"}


def label(optimizer, seed, seeds):
    """The TensorBoard run label of one optimizer (and seed, when there are several)."""
    safe = optimizer.replace(":", ".")
    return safe if seeds == 1 else f"{safe}_seed{seed}"


def tb_dir(run_dir, model, run_label):
    """torchbearer's batch-metric directory for a model and comment: ``<Model>_<comment>/epoch-0``."""
    return os.path.join(run_dir, f"{type(model).__name__}_{run_label}", "epoch-0")


def new_run_dir(logdir, name):
    """Creates and returns a fresh run directory under ``logdir``; never reuses an existing one."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    os.makedirs(logdir, exist_ok=True)
    for k in range(1, 1000):
        path = os.path.join(logdir, f"{name}-{stamp}" + (f"-{k}" if k > 1 else ""))
        try:
            os.makedirs(path)
            return path
        except FileExistsError:
            continue
    raise OSError(f"no free run directory name under {logdir}")
