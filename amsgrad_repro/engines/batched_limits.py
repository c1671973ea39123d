"""T = ∞ verdicts of the batched torch engine (``engines.batched``): R candidates as the R elements of one float32
parameter, stepped by the real optimizer class, each verdict with a certificate.

The class's own arithmetic (its step counter, its bias corrections, whether it reads x) is not visible here, so the
certificate is weaker than the fused engine's (``engines.limits``), which knows its kernel:

- Online family (``online_limits``), certificate *periodic-K*: after a shared burn-in, at each of candidate r's
  period boundaries (t ≡ 0 mod P_r) its full state, x and its element of every per-element optimizer state tensor,
  is compared bit for bit with the state at its previous boundary. State shared by all elements (torch's scalar
  ``step`` tensor) is not compared: the burn-in lasts until every β the param groups hold has β^t < 2^−54, so that
  bias corrections 1 − β^t computed in float64 from that counter are 1.0 (``engines.limits.one_from``); a class
  whose update still reads t after that (AdaBound, RAdam's rectifier when it has not settled) can fake a repeat
  of K periods that later ends. Once the state has repeated over K ≥ 3 consecutive periods, the run is taken to
  repeat for ever: the limit tail x is the mean of x_t over its last period, and R_T/T the period's mean of
  a_t·x_t − x*·a_t (x* = −1), in float64. Cycles longer than one period are not looked for (undecided).
  Whether the update reads x (weight decay, AdamW) is detected once, from the burned-in state (``reads_x``), and
  recorded in each certificate as ``x_dependent``; the full-state check holds either way. The push and the
  predicted steps are not measured (NaN).
- Stochastic family (``stochastic_limits``), certificate *drift-interval*: the drift of x per step, as
  ``engines.limits.stochastic_limits``, from a copy of the run on the whole line (no clamp), for classes whose
  update does not read x.

Under α/√t no verdict is built (undecided).
"""

import copy
import math

import numpy as np
import torch

from .. import families
from ..runs.outcome import LimitOutcome
from ..runs.verdict import limit_outcome
from .batched import BLOCK, _one_thread, _Runs
from .fused import chunks
from .limits import (
    SEARCH_DRIFT_STEPS,
    SETTLE,
    Limit,
    check_candidates,
    drift_limit,
    half_ulps,
    one_from,
    regression_estimate,
    undecided,
)

MAX_STEPS = 1 << 20  # online: the steps after which a candidate without a certificate is undecided
REPEATS = 3  # K: consecutive periods over which the state must repeat
SPREAD = 0.5  # reads_x: the second starting point is this far from x, towards the middle of F
SQRT_REASON = "the batched engine has no T = ∞ verdict under α/√t (not built)"


def _bits(tensor):
    """The tensor's bits, as integers of its element size, for bitwise comparison (−0.0 differs from 0.0)."""
    if tensor.dtype == torch.bool:
        return tensor.view(torch.uint8)
    return tensor.view({1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}[tensor.element_size()])


def burn_in(optimizer):
    """Steps until every β of ``optimizer``'s param groups (``_betas``) has 1.0 − β^t == 1.0 in float64; 0 when
    it holds none."""
    return max([0] + [one_from(beta) for beta in _betas(optimizer)])


@torch.no_grad()
def reads_x(spec, hyper, runs):
    """Whether the update of ``runs``' optimizer, from its present state, depends on x: one step with the common
    gradient −s from x and from x moved ``SPREAD`` towards 0, both in float64 (the state copied into a float64
    optimizer), compared element by element; equal to float64 rounding (2 ulps of 1 per run) means it does not.
    The runs themselves are not touched (a stochastic run's draws are read in order)."""
    state = runs.optimizer.state_dict()
    gradient = torch.from_numpy(-runs.candidates.scale)
    start = runs.x.detach().double()
    moves = []
    for x in (start, torch.where(start > 0, start - SPREAD, start + SPREAD)):
        probe = x.clone().requires_grad_(True)
        probe.grad = gradient.clone()
        optimizer = spec.build([probe], hyper)
        optimizer.load_state_dict(copy.deepcopy(state))  # floating state is cast to the probe's float64
        optimizer.step()
        moves.append(probe.detach() - x)
    return bool((moves[0] - moves[1]).abs().max() > 4 * np.spacing(1.0))


class _Boundaries:
    """Candidate r's state at its period boundaries, and how many consecutive periods it has repeated over.

    ``step(k)`` is ``_Runs.advance``'s ``after_step``: at step ``t0 + k`` it compares the runs with a boundary there
    (``due``, (n, R) for the block from ``t0``) with their previous boundary, in a few tensor ops for all of them."""

    def __init__(self, runs, period, repeats):
        self.runs, self.period, self.repeats = runs, period, repeats
        self.saved = [_bits(tensor).clone() for tensor in runs.elements()]
        self.seen = np.zeros(len(period), bool)
        self.streak = np.zeros(len(period), np.int64)
        self.certified = np.zeros(len(period), np.int64)  # the step of the certifying boundary; 0: none yet

    def block(self, t0, n):
        self.t0 = t0
        t = np.arange(t0, t0 + n)[:, None]
        self.due = (t % self.period == 0) & (self.certified == 0)
        self.any = self.due.any(axis=1)

    def step(self, k):
        if not self.any[k]:
            return
        rows = np.flatnonzero(self.due[k])
        index = torch.from_numpy(rows)
        same = torch.ones(len(rows), dtype=torch.bool)
        for saved, tensor in zip(self.saved, self.runs.elements()):
            bits = _bits(tensor)[index]
            same &= bits == saved[index]
            saved[index] = bits
        repeated = same.numpy() & self.seen[rows]
        self.seen[rows] = True
        self.streak[rows] = np.where(repeated, self.streak[rows] + 1, 0)
        self.certified[rows[self.streak[rows] >= self.repeats]] = self.t0 + k


def online_limits(spec, hyper, candidates, schedule="constant", K=REPEATS, max_steps=MAX_STEPS, progress=None):
    """One ``engines.limits.Limit`` per online candidate, all run as one tensor (``batched._Runs``).

    Args:
        spec: a registry entry (``optim.registry``); its ``build`` makes the real optimizer.
        hyper: ``registry.Hyper``.
        candidates: ``families.Candidates`` of the online family, each with x* = −1.
        schedule: "constant"; under "sqrt" every candidate is undecided.
        K: the consecutive periods over which a candidate's state must repeat, at least 3.
        max_steps: a candidate without a certificate by then is undecided.
        progress: called as ``progress(steps_done, max_steps)`` after every block.
    """
    check_candidates(candidates, families.ONLINE)
    if K < 3:
        raise ValueError(f"K = {K}: a periodic-K certificate takes K >= 3 repeated periods")
    if schedule == "sqrt":
        return [undecided(SQRT_REASON)] * len(candidates)
    runs, period = _Runs(spec, hyper, candidates, schedule), candidates.period.astype(np.int64)
    with _one_thread():
        runs.advance(1)  # builds the optimizer's state
        start = burn_in(runs.optimizer)
        if start + K * period.max() > max_steps:
            return [undecided(f"its burn-in ({start} steps) and {K} periods do not fit in {max_steps} steps")] * len(
                candidates)
        for _, n in chunks(max(start - 1, 0), BLOCK):
            runs.advance(n)
        x_dependent = reads_x(spec, hyper, runs)
        watch, history = _Boundaries(runs, period, K), []
        tail, regret = np.full(len(candidates), np.nan), np.full(len(candidates), np.nan)
        while not watch.certified.all() and runs.t < max_steps:
            n = min(BLOCK, max_steps - runs.t)
            watch.block(runs.t + 1, n)
            history.append((runs.t + 1, *runs.advance(n, watch.step)))
            fresh = np.flatnonzero(watch.certified > runs.t - n)
            if len(fresh):
                _period_means(history, watch.certified, period, fresh, tail, regret)
            history = [block for block in history if block[0] + len(block[1]) > runs.t - period.max()]
            if progress is not None:
                progress(runs.t, max_steps)
    limits = []
    for r, (end, p) in enumerate(zip(watch.certified, period)):
        if end == 0:
            limits.append(undecided(f"its state did not repeat over {K} consecutive periods of {p} steps within "
                                    f"{max_steps} steps"))
            continue
        certificate = {"kind": "periodic-K", "t0": int(end - K * p + 1), "k": K, "period": int(p),
                       "burn_in": start, "x_dependent": x_dependent}
        limits.append(Limit(limit_outcome(tail[r]), tail[r], regret[r], math.nan, math.nan, certificate))
    return limits


def _period_means(history, end, period, runs, tail, regret):
    """Fills ``tail`` and ``regret`` of ``runs`` with the means of x_t and of a_t·x_t − x*·a_t (x* = −1), in
    float64, over the period t = end − P + 1 .. end of each, from ``history``: (t0, a_t, x_t) blocks, (n, R) each."""
    first = history[0][0]
    a, xs = np.concatenate([block[1] for block in history]), np.concatenate([block[2] for block in history])
    for r in runs:
        steps = slice(end[r] - period[r] + 1 - first, end[r] + 1 - first)
        x, coef = xs[steps, r].astype(np.float64), a[steps, r].astype(np.float64)
        tail[r], regret[r] = x.mean(), (coef * x).mean() + coef.mean()


def stochastic_limits(spec, hyper, candidates, schedule="constant", steps=SEARCH_DRIFT_STEPS, blocks=32):
    """One ``engines.limits.Limit`` per stochastic candidate, from the drift of x per step, as
    ``engines.limits.stochastic_limits`` measures it, for a class whose update does not read x (``reads_x``).

    After the burn-in (``burn_in``, and SETTLE/(1 − β) for the largest β), the run goes on on the whole line (no
    clamp), x set back to 0 every ``batched.BLOCK`` steps (the update does not read x; this keeps its float32
    rounding small), for ``steps`` steps in ``blocks`` blocks. The blocks' drifts, regressed on their shares of rare
    steps, give the drift and its ``CONFIDENCE`` interval, widened by the float32 rounding of the walk.

    Args:
        spec, hyper: as for ``online_limits``.
        candidates: ``families.Candidates`` of the stochastic family, each with x* = −1.
        schedule: "constant"; under "sqrt" every candidate is undecided.
    """
    check_candidates(candidates, families.STOCHASTIC)
    if schedule == "sqrt":
        return [undecided(SQRT_REASON)] * len(candidates)
    runs, length = _Runs(spec, hyper, candidates, schedule), steps // blocks
    with _one_thread():
        runs.advance(1)
        start = burn_in(runs.optimizer)
        start = math.ceil(max([start] + [SETTLE / (1.0 - beta) for beta in _betas(runs.optimizer)]))
        for _, n in chunks(max(start - 1, 0), BLOCK):
            runs.advance(n)
        if reads_x(spec, hyper, runs):
            return [undecided(f"{spec.name} reads x: x is not a walk of its own")] * len(candidates)
        runs.domain = None
        drift, bound, rare = (np.zeros((blocks, len(candidates))) for _ in range(3))
        for b in range(blocks):
            for _, n in chunks(length, BLOCK):
                runs.x.data.zero_()
                a, xs = runs.advance(n)
                path = np.concatenate([xs, runs.x.detach().numpy()[None]]).T
                drift[b] += path[:, -1]
                bound[b] += half_ulps(path)
                rare[b] += (a > 0).sum(axis=0)  # the rare coefficient s·C is the positive one
    mean, half = regression_estimate(drift / length, rare / length, candidates.p)
    bound = bound.max(axis=0) / length
    low, high = mean - half - bound, mean + half + bound
    return [drift_limit(mean[r], low[r], high[r], {"kind": "drift-interval", "blocks": blocks, "steps": length * blocks,
                                                   "burn_in": start, "rounding": float(bound[r]), "x_dependent": False})
            for r in range(len(candidates))]


def _betas(optimizer):
    """Every β in (0, 1) of ``optimizer``'s param groups (keys ``beta*``, ``betas``, ``momentum``, ``alpha``,
    ``rho``)."""
    found = []
    for group in optimizer.param_groups:
        for key, value in group.items():
            if key.startswith("beta") or key in ("momentum", "alpha", "rho"):
                found += [float(v) for v in np.ravel(value) if isinstance(v, (int, float, np.floating)) and 0 < v < 1]
    return found


def evaluate(spec, hyper, candidates, steps=math.inf, schedule="constant", progress=None):
    """The T = ∞ counterpart of ``batched.evaluate`` for the break search, parallel to ``engines.limits.evaluate``:
    a ``runs.outcome.LimitOutcome`` of ``candidates`` (``online_limits``, or ``stochastic_limits`` over
    ``engines.limits.SEARCH_DRIFT_STEPS``). ``steps`` is taken for the engines' common signature; there is no T."""
    if candidates.family.random:
        return LimitOutcome(stochastic_limits(spec, hyper, candidates, schedule))
    return LimitOutcome(online_limits(spec, hyper, candidates, schedule, progress=progress))
