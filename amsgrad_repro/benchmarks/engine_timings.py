"""Seconds of our engines stepping the online problem with Adam, in this process: the torchbearer engine, the plain
torch.optim loop (``engines.reference``) and the fused engine."""

import time

import torch

from .. import experiment
from ..engines import fused, reference, trial
from ..optim import registry


def torchbearer_engine(settings, logdir):
    """Seconds of one run of the torchbearer engine (``engines.trial``) at ``settings`` (a ``RunSettings``: its
    steps, log_every and hyperparameters), without a progress bar; TensorBoard files go under ``logdir``."""
    result = trial.run(experiment.Online(), registry.get("adam"), settings.hyper(), settings, logdir, "bench", 0,
                       progress=False)
    return result.seconds


def plain_loop(steps):
    """Seconds of ``engines.reference.torch_loop``: ``steps`` torch.optim.Adam steps (lr 1e-3, betas (0.9, 0.99))."""
    problem = experiment.Online()
    optimizer = torch.optim.Adam([problem.x], lr=1e-3, betas=(0.9, 0.99))
    start = time.perf_counter()
    reference.torch_loop(problem, optimizer, steps)
    return time.perf_counter() - start


def fused_batch(runs, steps):
    """Seconds for ``runs`` Adam runs of ``steps`` steps on the fused engine, logging only at the end: the scalar
    driver for a few runs, the SIMD driver from ``fused.LANES_FROM`` runs. The driver is loaded (or compiled)
    before the clock starts: the compile has its own table (``first_compile``)."""
    problem = experiment.Online()
    spec = registry.get("adam")
    batch = fused.Batch(spec.kernel, [fused.hyperparameters(spec, registry.Hyper())] * runs, [problem] * runs,
                        "constant", every=steps)
    batch.step(0)
    start = time.perf_counter()
    for _, n in fused.chunks(steps):
        batch.step(n)
    return time.perf_counter() - start
