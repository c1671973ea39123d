"""Shared references for the tests: a plain torch.optim loop, with no framework, on a problem from the package."""

import os

import numpy as np
import pytest
import torch
import torchbearer

from amsgrad_repro.experiment import sqrt_decay


def torch_loop(problem, optimizer, steps, schedule="constant"):
    """x_t (t = 1..steps, float32) and R_t/t from a plain loop: forward, backward, step, scheduler, clamp."""
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, sqrt_decay) if schedule == "sqrt" else None
    xs = np.empty(steps, np.float32)
    regret = np.empty(steps)
    loss_sum = coef_sum = 0.0
    for t in range(1, steps + 1):
        optimizer.zero_grad()
        loss = problem(None, {torchbearer.BATCH: t - 1})
        loss.backward()
        xs[t - 1] = problem.x_t
        loss_sum += problem.a_t * problem.x_t
        coef_sum += problem.a_t
        regret[t - 1] = (loss_sum - problem.optimum * coef_sum) / t
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        with torch.no_grad():
            problem.x.clamp_(*problem.domain)
    return xs, regret


def run_main(capsys, *argv):
    """``cli.main(argv)`` in-process: (exit status, stdout, stderr), parser errors included."""
    from amsgrad_repro import cli

    try:
        status = cli.main(list(argv))
    except SystemExit as stop:
        status = stop.code
    out, err = capsys.readouterr()
    return status, out, err


def only_run_dir(parent):
    """The one run directory an invocation created under ``parent``."""
    (name,) = os.listdir(parent)
    return os.path.join(parent, name)


@pytest.fixture
def run_cli(tmp_path, capsys):
    """Runs the CLI in-process with --logdir in tmp_path; returns (exit status, stdout, stderr)."""
    from amsgrad_repro import cli

    def run(*argv, logdir=None):
        argv = list(argv)
        if argv and argv[0] not in ("bench",) and "--logdir" not in argv and "--out" not in argv:
            argv += ["--logdir", str(logdir or tmp_path / "logs")]
        status = cli.main(argv)
        out, err = capsys.readouterr()
        return status, out, err

    return run
