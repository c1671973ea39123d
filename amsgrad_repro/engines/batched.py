"""The batched torch engine: R candidate problems as the R elements of one float32 parameter, stepped by the real
optimizer class.

For t = 1..T the engine builds the coefficient vector a_t ∈ R^R (candidate r's a_t, from its family's definition,
``families.Family.coefficients``), makes it the gradient, calls ``optimizer.step()`` once and clamps the tensor onto
F = [−1, 1].
For an optimizer that updates every element from that element's own history (Adam, AMSGrad, RMSprop, Adagrad, ...)
this is exactly R independent one-dimensional runs, at the cost of one step of one tensor: torch's per-call overhead
is shared by all R runs. A norm-based method (LAMB, LARS, ...) couples the elements, so
``check_coordinatewise`` compares a short batched run with the same candidates run one by one before a search
trusts a class.

The evaluation is a pure function of (optimizer, hyperparameters, candidates, steps, schedule): each element's
arithmetic does not depend on its neighbours or on R, so a batch cut into tiles gives the same numbers.
"""

import copy

import numpy as np
import torch

from ..experiment import average_regret, sqrt_decay
from ..runs.outcome import Outcome
from ..runs.trajectory import auto_every
from ..runs.verdict import TailMean
from .fused import chunks

BLOCK = 1024  # steps per coefficient block: an (n, R) float32 block and the x_t of the same steps
CHECK_STEPS = 1000  # steps of the coordinate-wise check: norm-based methods differ from step 2, AdaShift from step 11
CHECK_RUNS = 4  # candidates the check runs one by one


class NotCoordinateWise(ValueError):
    """The optimizer couples the elements of a parameter, so a batch is not R independent runs."""


class _Runs:
    """R candidates advancing together: one parameter of R elements, its optimizer and (for α/√t) its scheduler."""

    def __init__(self, spec, hyper, candidates, schedule):
        self.spec, self.hyper, self.schedule = spec, hyper, schedule
        self.candidates, self.stream = candidates, candidates.family.stream(candidates.seed)
        self.x = torch.zeros(len(candidates), requires_grad=True)  # x_1 = 0
        self.x.grad = torch.zeros(len(candidates))
        self.optimizer = spec.build([self.x], hyper)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, sqrt_decay) if schedule == "sqrt" else None
        self.loss_sum = torch.zeros(len(candidates), dtype=torch.float64)  # Σ a_k·x_k, in step order as the kernels
        self.domain = (-1.0, 1.0)  # F; None: the whole line (``engines.batched_limits`` measures drift there)
        self.t = 0

    def elements(self):
        """x and every optimizer state tensor with one element per run, in a fixed order (the state's keys sorted);
        state shared by all runs (a scalar ``step`` tensor, say) is left out."""
        state = self.optimizer.state.get(self.x, {})
        return [self.x] + [state[key] for key in sorted(state)
                           if torch.is_tensor(state[key]) and state[key].shape == self.x.shape]

    @torch.no_grad()
    def take(self, rows):
        """A copy of runs ``rows`` at the same step: x, the per-element state (``elements``) indexed, every other
        state entry (a scalar ``step``) and the param groups' hyperparameters copied. A coordinate-wise class goes
        on from there exactly as the same runs in the whole tensor would (``tests/test_batched_limits.py``); a
        stochastic copy reads a fork of the draws (``experiment.Stochastic.fork``), the same ones from the same step,
        and leaves the original's stream where it was."""
        if self.scheduler is not None:
            raise ValueError("runs under a learning-rate scheduler are not taken apart")
        index = torch.as_tensor(np.asarray(rows, np.int64))
        part = _Runs(self.spec, self.hyper, self.candidates.take(rows), self.schedule)
        part.stream = self.stream.fork() if self.stream is not None else None
        part.domain, part.t = self.domain, self.t
        part.x.data.copy_(self.x.detach()[index])
        part.loss_sum = self.loss_sum[index].clone()
        for mine, theirs in zip(part.optimizer.param_groups, self.optimizer.param_groups):
            mine.update({key: copy.deepcopy(value) for key, value in theirs.items() if key != "params"})
        part.optimizer.state[part.x] = self._split(self.optimizer.state.get(self.x, {}), index)
        return part

    def _split(self, value, index):
        """``value`` (a state entry) for runs ``index``: a per-element tensor indexed, a dict, list or tuple entry by
        entry (AggMo keeps its buffers in a dict), anything else copied whole."""
        if torch.is_tensor(value) and value.shape == self.x.shape:
            return value[index].clone()
        if isinstance(value, dict):
            return {key: self._split(entry, index) for key, entry in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self._split(entry, index) for entry in value)
        return copy.deepcopy(value)

    def divisible(self):
        """Whether ``take`` splits the optimizer's state by run: every entry, through dicts, lists and tuples, a
        per-element or scalar tensor or a plain number, string or None (not an object holding tensors of its own,
        such as Shampoo's preconditioners, which a copy would keep whole)."""
        return _divisible(self.optimizer.state.get(self.x, {}), self.x.shape)

    @torch.no_grad()
    def advance(self, n, after_step=None):
        """Steps t = self.t + 1 .. self.t + n; returns (a_t, x_t) of those steps as (n, R) float32 arrays.

        ``after_step(k)``, if given, is called after step self.t + k + 1 (k = 0 .. n − 1), once x is clamped."""
        a = self.candidates.family.coefficients(self.candidates, self.stream, self.t + 1, n)
        a_torch = torch.from_numpy(a)
        xs = torch.empty(n, len(self.x))
        for k in range(n):
            xs[k] = self.x
            self.loss_sum.addcmul_(a_torch[k], self.x)  # float64 += float32·float32: exact products
            self.x.grad.copy_(a_torch[k])  # f_t(x) = a_t·x, so the gradient is a_t
            self.optimizer.step()
            if self.scheduler is not None:
                self.scheduler.step()
            if self.domain is not None:
                self.x.clamp_(*self.domain)  # Π_F after the step, as experiment.project_onto_domain
            if after_step is not None:
                after_step(k)
        self.t += n
        return a, xs.numpy()


def evaluate(spec, hyper, candidates, steps, schedule="constant", progress=None):
    """Runs every candidate for ``steps`` steps as one tensor; the same ``Outcome`` as ``fused.evaluate``.

    Args:
        spec: the registry entry (``optim.registry``); its ``build`` makes the real optimizer.
        hyper: ``registry.Hyper``.
        candidates: ``families.Candidates``, one problem per run.
        steps: T.
        schedule: ``constant``, or ``sqrt`` for α_t = α/√t (LambdaLR with ``experiment.sqrt_decay``).
        progress: called as ``progress(steps_done, steps)`` after every block.
    """
    runs = _Runs(spec, hyper, candidates, schedule)
    coef_sum = np.zeros(len(candidates))
    every, tail = auto_every(steps), TailMean(steps)
    with _one_thread():
        for t0, n in chunks(steps, BLOCK):
            a, xs = runs.advance(n)
            coef_sum += a.sum(axis=0, dtype=np.float64)  # float32 values summed in float64: exact in any order
            t = np.arange(t0, t0 + n)
            logged = t % every == 0  # the steps the problem command logs at auto logging
            tail.add(t[logged], xs[logged].T)
            if progress is not None:
                progress(runs.t, steps)
    final_x = runs.x.detach().numpy().astype(np.float64)
    optimum = np.array([candidates.problem(r).optimum for r in range(len(candidates))])
    return Outcome(tail_x=tail.value(final_x), final_x=final_x,
                   average_regret=average_regret(runs.loss_sum.numpy(), coef_sum, optimum, steps))


def trajectories(spec, hyper, candidates, steps, schedule="constant"):
    """x_t for t = 1..steps of every candidate, (steps, R) float32: for the coordinate-wise check and the tests."""
    runs = _Runs(spec, hyper, candidates, schedule)
    with _one_thread():
        return np.concatenate([runs.advance(n)[1] for _, n in chunks(steps, BLOCK)])


def check_coordinatewise(spec, hyper, candidates, schedule="constant", steps=CHECK_STEPS):
    """Compares ``CHECK_RUNS`` candidates stepped as one tensor with the same candidates run one by one.

    A coordinate-wise optimizer gives the same float32 numbers either way (torch's element-wise kernels do not
    depend on the tensor's length); a norm-based one moves each element by an amount that depends on the others.

    Raises:
        NotCoordinateWise: with the largest difference in x_t, if any.
    """
    picks = candidates.take(np.unique(np.linspace(0, len(candidates) - 1, CHECK_RUNS).round().astype(np.int64)))
    together = trajectories(spec, hyper, picks, steps, schedule)
    alone = np.stack([trajectories(spec, hyper, picks.take([r]), steps, schedule)[:, 0] for r in range(len(picks))],
                     axis=1)
    gap = float(np.max(np.abs(together - alone)))
    if not gap <= 0.0:
        raise NotCoordinateWise(
            f"{spec.name} is not coordinate-wise: {len(picks)} candidates stepped as one tensor differ from the same "
            f"runs one by one by up to {gap:.2g} in x_t within {steps} steps, so a batch would not be independent runs")


def _divisible(value, shape):
    if torch.is_tensor(value):
        return value.shape in (shape, ())
    if isinstance(value, dict):
        return all(_divisible(entry, shape) for entry in value.values())
    if isinstance(value, (list, tuple)):
        return all(_divisible(entry, shape) for entry in value)
    return value is None or isinstance(value, (int, float, str))


class _one_thread:
    """torch on one thread inside the step loop: at these sizes an op gains nothing from a second thread, and on a
    loaded machine waiting for it costs milliseconds a call (measured: a 3,072-element sqrt took 11 ms)."""

    def __enter__(self):
        self.threads = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc):
        torch.set_num_threads(self.threads)
