"""The experiment of Reddi et al. (2018), Section 5, in torchbearer's style.

Everything a torchbearer ``Trial`` needs lives here: the problems as models, the identity loss, the metrics for
x_t and R_t/t, and the projection onto the feasible set as a callback.

A problem is linear, f_t(x) = a_t·x, so its whole definition is the coefficient sequence a_t, produced by
``coefficients(t0, n)``. The torchbearer engine reads it one step at a time through ``forward``; the fused engine
reads the same method in blocks. The problems are never coded twice.
"""

import copy
import math

import numpy as np
import torch
import torchbearer
from torch import nn
from torchbearer.callbacks import on_step_training
from torchbearer.metrics import Metric, to_dict

BLOCK = 4096  # steps of coefficients fetched at a time by the torchbearer path (and the size of one random draw)


class LinearProblem(nn.Module):
    """Base of the paper's counterexamples: f_t(x) = a_t·x on F = [lo, hi], x_1 = 0.

    ``forward(_, state)`` (the batch input is empty) evaluates f_t at the current parameter, with t =
    ``state[torchbearer.BATCH] + 1`` (the paper counts from 1, torchbearer from 0). It records ``a_t`` and the evaluated
    point ``x_t`` for the metrics.

    Subclasses define ``coefficients(t0, n)`` and ``mean_coefficient`` (the per-step average of a_t).
    """

    def __init__(self, domain=(-1.0, 1.0)):
        super().__init__()
        self.domain = (float(domain[0]), float(domain[1]))
        self.x = nn.Parameter(torch.zeros(1))
        self.a_t = 0.0
        self.x_t = 0.0
        self._block_start = 0
        self._block = np.empty(0, dtype=np.float32)

    @property
    def optimum(self):
        """The minimiser of the average loss over F: lo when the average coefficient is positive, else hi."""
        return self.domain[0] if self.mean_coefficient > 0 else self.domain[1]

    def coefficients(self, t0, n):
        """The coefficients a_t for t = t0, ..., t0 + n - 1 as float32."""
        raise NotImplementedError

    def forward(self, _, state):
        t = state[torchbearer.BATCH] + 1
        offset = t - self._block_start
        if offset >= len(self._block) or offset < 0:
            self._block_start, self._block = t, self.coefficients(t, BLOCK)
            offset = 0
        self.a_t = float(self._block[offset])
        self.x_t = self.x.item()
        return self.a_t * self.x


class Online(LinearProblem):
    """Online family: f_t(x) = s·C·x when t mod P = 1, else −s·x (Reddi et al., Section 3 and Section 5).

    The defaults are the paper's Figure 1 problem: 1010·x at t = 1, 102, 203, ..., else −10·x.

    Args:
        scale: s, which multiplies both coefficients.
        C: the size of the rare gradient relative to the common one.
        period: P, the number of steps between two rare gradients.
        domain: the feasible interval F.
    """

    def __init__(self, scale=10.0, C=101.0, period=101, domain=(-1.0, 1.0)):
        super().__init__(domain)
        self.scale, self.C, self.period = float(scale), float(C), int(period)

    @property
    def mean_coefficient(self):
        return self.scale * (self.C - (self.period - 1)) / self.period

    def coefficients(self, t0, n):
        return online_coefficients(np.arange(t0, t0 + n, dtype=np.int64), self.scale, self.C, self.period)


class Stochastic(LinearProblem):
    """Stochastic family: f_t(x) = s·C·x with probability p, else −s·x (Reddi et al., Section 5 and Theorem 3).

    The defaults are the paper's Figure 1 problem: 1010·x with probability 0.01, else −10·x.

    Draws come from a ``torch.Generator`` owned by the model and seeded by ``seed``, in blocks of ``BLOCK`` float64
    uniforms. The draw for step t is the t-th uniform of that stream, so every engine that reads the stream in order
    sees the same draws, whatever block size it asks for.

    Args:
        scale: s, which multiplies both coefficients.
        C: the size of the rare gradient relative to the common one.
        p: the probability of the rare gradient.
        seed: the seed of the model's generator.
        domain: the feasible interval F.
    """

    def __init__(self, scale=10.0, C=101.0, p=0.01, seed=0, domain=(-1.0, 1.0)):
        super().__init__(domain)
        self.scale, self.C, self.p, self.seed = float(scale), float(C), float(p), int(seed)
        self.generator = torch.Generator().manual_seed(self.seed)
        self._draws = np.empty(0)
        self._next_t = 1

    @property
    def mean_coefficient(self):
        return self.scale * (self.p * self.C - (1.0 - self.p))

    def draws(self, t0, n):
        """The uniforms u_t (float64) for t = t0, ..., t0 + n - 1; step t has the rare gradient when u_t < p. The
        stream is read in order, so t0 must follow on from the previous call."""
        if t0 != self._next_t:
            raise ValueError(f"stochastic draws are read in order: expected t0={self._next_t}, got {t0}")
        self._next_t += n
        if len(self._draws) < n:  # whole blocks, drawn in order and joined once
            blocks = -(-(n - len(self._draws)) // BLOCK)
            fresh = [torch.rand(BLOCK, generator=self.generator, dtype=torch.float64).numpy() for _ in range(blocks)]
            self._draws = np.concatenate([self._draws, *fresh])
        out, self._draws = self._draws[:n], self._draws[n:]
        return out

    def fork(self):
        """A copy of the stream at the same step that reads on by itself (its own generator, in the same state)."""
        twin = copy.copy(self)
        twin.generator = torch.Generator().set_state(self.generator.get_state())
        twin._draws = self._draws.copy()
        return twin

    def coefficients(self, t0, n):
        """The next n coefficients (see ``draws``)."""
        return stochastic_coefficients(self.draws(t0, n), self.scale, self.C, self.p)


def online_coefficients(t, scale, C, period):
    """a_t of the online family as float32: s·C when t mod P = 1, else −s. The arguments broadcast, so the batched
    engine gets an (n, R) block from a column of steps and one (s, C, P) per candidate."""
    big, small = np.asarray(np.multiply(scale, C), np.float32), np.asarray(np.negative(scale), np.float32)
    return np.where(t % period == 1 % period, big, small)


def stochastic_coefficients(u, scale, C, p):
    """a_t of the stochastic family as float32 from the uniforms u_t (``Stochastic.draws``): s·C when u_t < p, else
    −s. The arguments broadcast, as in ``online_coefficients``."""
    big, small = np.asarray(np.multiply(scale, C), np.float32), np.asarray(np.negative(scale), np.float32)
    return np.where(u < p, big, small)


def average_regret(loss_sum, coef_sum, optimum, t):
    """R_t/t for a linear problem (Section 2 of the paper): R_t = Σ_{k≤t} f_k(x_k) − Σ_{k≤t} f_k(x*), with
    ``loss_sum`` = Σ a_k·x_k and ``coef_sum`` = Σ a_k, so Σ f_k(x*) = x*·Σ a_k. Works on floats and numpy arrays;
    the fused kernels compile this same function."""
    return (loss_sum - optimum * coef_sum) / t


def identity_loss(y_pred, y_true):
    """The model already returns f_t(x_t); the loss is that value (y_true is unused)."""
    return y_pred


@to_dict
class IterateX(Metric):
    """x_t: the projected iterate at which f_t was evaluated (reads ``state[MODEL].x_t``).

    torchbearer processes metrics after ``optimizer.step()`` and before ``on_step_training`` callbacks, so the
    parameter itself would show the *unprojected* x_{t+1}; the model's record of the evaluated point does not.
    """

    def __init__(self):
        super().__init__("x")

    def process(self, *args):
        return args[0][torchbearer.MODEL].x_t


@to_dict
class AverageRegret(Metric):
    """R_t/t with R_t = Σ_{k≤t} f_k(x_k) − Σ_{k≤t} f_k(x*), x* the problem's optimum (Section 2 of the paper).

    Reads ``state[MODEL].a_t``, ``.x_t`` and ``.optimum``. Sums are Python floats (float64), as in the fused engine.
    """

    def __init__(self):
        super().__init__("average_regret")
        self.loss_sum = self.coef_sum = 0.0
        self.t = 0

    def reset(self, state):
        self.loss_sum = self.coef_sum = 0.0
        self.t = 0

    def process(self, *args):
        model = args[0][torchbearer.MODEL]
        self.loss_sum += model.a_t * model.x_t
        self.coef_sum += model.a_t
        self.t += 1
        return average_regret(self.loss_sum, self.coef_sum, model.optimum, self.t)


@on_step_training
def project_onto_domain(state):
    """Π_F: clamps ``state[MODEL].x`` into the model's domain after each optimiser step."""
    model = state[torchbearer.MODEL]
    with torch.no_grad():
        model.x.clamp_(*model.domain)


def sqrt_decay(epoch):
    """LambdaLR factor for α_t = α/√t: the scheduler's counter is t − 1 at step t (Theorem 4 of the paper)."""
    return 1.0 / math.sqrt(epoch + 1)
