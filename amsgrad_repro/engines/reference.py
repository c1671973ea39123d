"""The plain reference: torch.optim on a problem with no framework (forward, backward, step, scheduler, clamp).

The tests hold both engines to it step by step, and the benchmark harness times it.
"""

import numpy as np
import torch
import torchbearer

from ..experiment import average_regret, sqrt_decay


def torch_loop(problem, optimizer, steps, schedule="constant"):
    """x_t (t = 1..steps, float32) and R_t/t, from ``optimizer`` stepping ``problem.x``."""
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
        regret[t - 1] = average_regret(loss_sum, coef_sum, problem.optimum, t)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        with torch.no_grad():
            problem.x.clamp_(*problem.domain)
    return xs, regret
