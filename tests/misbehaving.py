"""Optimizer classes that misbehave on purpose, given to the CLI as ``misbehaving:Class`` (tests/ is on sys.path)."""

import os
import signal

import torch


class _AtStep(torch.optim.SGD):
    """SGD that calls ``act`` on its parameters at step ``at`` (1-based), instead of stepping."""

    at = 0

    def __init__(self, params, lr=1e-3, **kwargs):
        super().__init__(params, lr=lr, **kwargs)
        self.count = 0

    def step(self, closure=None):
        loss = closure() if closure is not None else None
        self.count += 1
        if self.count == self.at:
            self.act()
        else:
            super().step()
        return loss


class Exploding(_AtStep):
    """Raises at step 50, as a buggy optimizer would."""

    at = 50

    def act(self):
        raise RuntimeError("exploded at step 50")


class NaNAt30(_AtStep):
    """Writes NaN into the parameter at step 30, so x_31 is NaN."""

    at = 30

    @torch.no_grad()
    def act(self):
        for group in self.param_groups:
            for p in group["params"]:
                p.fill_(float("nan"))


class TerminatedAt100(_AtStep):
    """Sends SIGTERM to its own process at step 100, as a batch scheduler would."""

    at = 100

    def act(self):
        os.kill(os.getpid(), signal.SIGTERM)


class ReadyAt100(_AtStep):
    """SGD that, at step 100, creates the file named by $READY_FILE and takes the step: a mark a test can wait for
    before it interrupts the process."""

    at = 100

    def act(self):
        open(os.environ["READY_FILE"], "w").close()
        torch.optim.SGD.step(self)
