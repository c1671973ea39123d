"""Seed bands as TensorBoard runs: the mean and 10-90 % band of an optimizer run over several seeds."""

import numpy as np

from ..runs.layout import PROBLEM_TAGS, label, tb_dir
from ..runs.trajectory import by_optimizer


def write_seed_bands(run_dir, model, trajectories):
    """For each optimizer run over several seeds, TensorBoard runs ``<Model>_<optimizer>_{mean,p10,p90}/epoch-0``.

    They carry the same tags as the per-seed runs, at the steps every seed logged, so TensorBoard overlays the mean
    and the 10-90 % band on the seeds' curves. Returns the directories written.
    """
    from tensorboardX import SummaryWriter

    statistics = {"mean": lambda v: v.mean(axis=0), "p10": lambda v: np.percentile(v, 10, axis=0),
                  "p90": lambda v: np.percentile(v, 90, axis=0)}
    written = []
    for name, group in by_optimizer(trajectories).items():
        if len(group) < 2:
            continue
        n = min(len(tr.steps) for tr in group)
        curves = {tag: np.array([getattr(tr, key)[:n] for tr in group]) for key, tag in PROBLEM_TAGS.items()}
        for stat, reduce in statistics.items():
            path = tb_dir(run_dir, model, f"{label(name, 0, 1)}_{stat}")
            with SummaryWriter(path) as writer:
                for tag, values in curves.items():
                    for t, value in zip(group[0].steps[:n], reduce(values).tolist()):
                        writer.add_scalar(tag, value, t)
            written.append(path)
    return written
