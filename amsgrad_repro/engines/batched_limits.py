"""T = ∞ verdicts of the batched torch engine (``engines.batched``): R candidates as the R elements of one float32
parameter, stepped by the real optimizer class, each verdict with a certificate.

The class's own arithmetic (its step counter, its bias corrections, whether it reads x) is not visible here, so the
certificate is weaker than the fused engine's (``engines.limits``), which knows its kernel:

- Online family (``online_limits``), certificate *periodic-K*: after a shared burn-in, at each of candidate r's
  period boundaries (t ≡ 0 mod P_r) its full state, x and its element of every per-element optimizer state tensor,
  is compared bit for bit with the state at its previous boundary. State shared by all elements (torch's scalar
  ``step`` tensor) is not compared: the burn-in lasts until every β the param groups hold has β^t < 2^−54, so that
  bias corrections 1 − β^t computed in float64 from that counter are 1.0 (``engines.limits.one_from``), and then
  until the update no longer reads the step count at all (``settle_t``: two copies, one with its step counters
  moved on by 2^20, step alike bit for bit; t doubles until they do). A class whose update reads t for ever
  (ADOPT's clip at t^(1/4), AdaBound's bounds, AdamNC's β2 = 1 − 1/t) would fake a repeat at the boundaries, so
  it is undecided, in both families. Once the state has repeated over K ≥ 3 consecutive periods, the run is taken to
  repeat for ever: the limit tail x is the mean of x_t over its last period, and R_T/T the period's mean of
  a_t·x_t − x*·a_t (x* = −1), in float64. Cycles longer than one period are not looked for (undecided).
  Whether the update reads x (weight decay, AdamW) is detected once, from the burned-in state (``reads_x``), and
  recorded in each certificate as ``x_dependent``; the full-state check holds either way. For a class that does
  not read x, a run whose optimizer state repeats has its push c/P measured by a walk of a copy of it, and one
  whose push exceeds the rounding is sent to the end of F the push points to (certificate field ``sent_to``),
  where its orbit is then certified; its predicted steps to x* are 2/|c/P|. A candidate has its burn-in and
  ``PATIENCE`` periods (at least ``MIN_PATIENCE`` steps), and a decided one leaves the tensor at once
  (``_Runs.take``; a class whose state ``take`` cannot split by run, ``_Runs.divisible``, keeps it, closed).
- Stochastic family (``stochastic_limits``), certificate *drift-interval*: the drift of x per step, as
  ``engines.limits.stochastic_limits``, from a copy of the run on the whole line (no clamp), for classes whose
  update does not read x; undecided when its steps drew fewer than ``engines.limits.MIN_RARE`` rare gradients.

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
    DRIFT_BLOCKS,
    SEARCH_DRIFT_STEPS,
    SETTLE,
    Limit,
    check_candidates,
    drift_limit,
    half_ulps,
    one_from,
    rare_burn_in,
    walk_sums,
    regression_estimate,
    undecided,
)

MAX_STEPS = 1 << 20  # online: no candidate runs past this step
PATIENCE = 16  # online: periods after the burn-in a candidate has to earn its certificate ...
MIN_PATIENCE = 4 * BLOCK  # ... and at least this many steps
REPEATS = 3  # K: consecutive periods over which the state must repeat
SPREAD = 0.5  # reads_x: the second starting point is this far from x, towards the middle of F
SQRT_REASON = "the batched engine has no T = ∞ verdict under α/√t (not built)"
STEP_SHIFT = 1 << 20  # reads_t: the step counters of the second copy are moved on by this many steps
T_WINDOW = 1 << 14  # reads_t: the most steps compared
PROBES = 8  # settle_t: the runs, spread over the tensor, that probe for the step count


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


def _shift_steps(optimizer, shift):
    """Moves every step counter of ``optimizer`` on by ``shift``: a param group's or a state's ``step``, an int, a
    float or a scalar tensor (a counter under another name is not found)."""
    for holder in [*optimizer.param_groups, *optimizer.state.values()]:
        if not isinstance(holder, dict):  # a class's own bookkeeping (SPAM keeps an int there)
            continue
        value = holder.get("step")
        if torch.is_tensor(value):
            value.add_(shift)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            holder["step"] = value + shift


@torch.no_grad()
def reads_t(runs, steps):
    """Whether the update of ``runs``' optimizer still depends on its step count t: two copies of the runs
    (``_Runs.take``) stepped ``steps`` steps, one with its step counters moved on by ``STEP_SHIFT``, compared bit for
    bit (x at every step, the per-element state at the end). Bias corrections that have settled (1 − β^t == 1.0)
    do not count; a clip that grows with t (ADOPT), step bounds that close in like 1/t (AdaBound) or a β2 of
    1 − 1/t (AdamNC) do. The runs themselves are not touched."""
    rows = np.arange(len(runs.x))
    same, moved = runs.take(rows), runs.take(rows)
    _shift_steps(moved.optimizer, STEP_SHIFT)
    xs, ys = same.advance(steps)[1], moved.advance(steps)[1]
    return not (np.array_equal(_bits(torch.from_numpy(xs)), _bits(torch.from_numpy(ys)))
                and all(torch.equal(_bits(a), _bits(b)) for a, b in zip(same.elements(), moved.elements())))


def settle_t(runs, steps, max_steps=MAX_STEPS):
    """Advances ``runs`` until their update no longer reads the step count (``reads_t`` over ``steps`` steps, on
    ``PROBES`` of them), doubling t; returns None once it does not, else why not (t would pass ``max_steps``).

    A certificate taken while the update still reads t would hold for a map that keeps changing: the state at period
    boundaries can repeat bit for bit (ADOPT's clip only acts right after a rare gradient, whose effect has decayed
    by the next boundary) while x's path within the period does not."""
    rows = np.arange(len(runs.x))
    if runs.divisible():  # else (Shampoo's preconditioner objects) the probe is every run
        rows = np.unique(np.linspace(0, len(rows) - 1, PROBES).round().astype(np.int64))
    probe = runs.take(rows)
    while reads_t(probe, steps):
        if 2 * probe.t > max_steps:
            return (f"its update still reads the step count at t = {probe.t:,} (moving its step counters on by "
                    f"2^{STEP_SHIFT.bit_length() - 1} changes its steps), so no repeat there holds for ever")
        for _, n in chunks(probe.t, BLOCK):
            probe.advance(n)
    for _, n in chunks(probe.t - runs.t, BLOCK):
        runs.advance(n)
    return None


class _Boundaries:
    """The open runs' state at their period boundaries: for each, how many consecutive periods its optimizer state
    (``streak_state``) and its whole state, x too (``streak_full``), have repeated over, bit for bit.

    ``step(k)`` is ``_Runs.advance``'s ``after_step``: at step ``t0 + k`` it compares the runs with a boundary there
    (``due``, (n, R) for the block from ``t0``) with their previous boundary, in a few tensor ops for all of them."""

    def __init__(self, runs, period, repeats):
        self.runs, self.period, self.repeats = runs, period, repeats
        self.saved = [_bits(tensor).clone() for tensor in runs.elements()]  # x first
        self.seen = np.zeros(len(period), bool)
        self.streak_state, self.streak_full = np.zeros(len(period), np.int64), np.zeros(len(period), np.int64)
        self.certified = np.zeros(len(period), np.int64)  # the step of the certifying boundary; 0: none yet

    def take(self, rows):
        """The same record for runs ``rows`` only (after ``_Runs.take``)."""
        part = _Boundaries.__new__(_Boundaries)
        part.runs, part.period, part.repeats = self.runs, self.period[rows], self.repeats
        part.saved = [saved[torch.as_tensor(rows)] for saved in self.saved]
        part.seen, part.streak_state, part.streak_full, part.certified = (
            self.seen[rows], self.streak_state[rows], self.streak_full[rows], self.certified[rows])
        return part

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
        same = []
        for saved, tensor in zip(self.saved, self.runs.elements()):
            bits = _bits(tensor)[index]
            same.append((bits == saved[index]).numpy())
            saved[index] = bits
        state = np.logical_and.reduce(same[1:] or [np.ones(len(rows), bool)]) & self.seen[rows]
        self.seen[rows] = True
        self.streak_state[rows] = np.where(state, self.streak_state[rows] + 1, 0)
        self.streak_full[rows] = np.where(state & same[0], self.streak_full[rows] + 1, 0)
        self.certified[rows[self.streak_full[rows] >= self.repeats]] = self.t0 + k


def online_limits(spec, hyper, candidates, schedule="constant", K=REPEATS, max_steps=MAX_STEPS, patience=PATIENCE,
                  progress=None):
    """One ``engines.limits.Limit`` per online candidate, all run as one tensor (``batched._Runs``) that sheds the
    decided runs as it goes (``_Runs.take``).

    A run is certified once x and its per-element state have repeated over K consecutive periods (*periodic-K*).
    For a class whose update does not read x (``reads_x``), a run whose optimizer state has repeated over K periods
    has its push measured (``_pushes``); when the push is larger than the float32 rounding of a period's walk in F,
    x is sent to the end of F it points to (the map of one period is monotone, so x gets there from anywhere and
    the orbit from the end is the limit), and the orbit from there is certified as above (``sent_to``).

    Args:
        spec: a registry entry (``optim.registry``); its ``build`` makes the real optimizer.
        hyper: ``registry.Hyper``.
        candidates: ``families.Candidates`` of the online family, each with x* = −1.
        schedule: "constant"; under "sqrt" every candidate is undecided.
        K: the consecutive periods over which a candidate's state must repeat, at least 3.
        max_steps: no candidate runs past this step.
        patience: candidate r without a certificate after the burn-in and max(``MIN_PATIENCE``, patience·P_r)
            steps is undecided.
        progress: called as ``progress(steps_done, max_steps)`` after every block.
    """
    check_candidates(candidates, families.ONLINE)
    if K < 3:
        raise ValueError(f"K = {K}: a periodic-K certificate takes K >= 3 repeated periods")
    if schedule == "sqrt":
        return [undecided(SQRT_REASON)] * len(candidates)
    runs, period = _Runs(spec, hyper, candidates, schedule), candidates.period.astype(np.int64)
    limits = [None] * len(candidates)
    with _one_thread():
        runs.advance(1)  # builds the optimizer's state
        start = burn_in(runs.optimizer)
        if start + K * period.max() > max_steps:
            return [undecided(f"its burn-in ({start} steps) and {K} periods do not fit in {max_steps} steps")] * len(
                candidates)
        for _, n in chunks(max(start - 1, 0), BLOCK):
            runs.advance(n)
        why = settle_t(runs, int(min(period.max(), T_WINDOW)), max_steps)
        if why:
            return [undecided(why)] * len(candidates)
        start = runs.t
        x_free = not reads_x(spec, hyper, runs)
        deadline = np.minimum(max_steps, start + np.maximum(MIN_PATIENCE, patience * period))
        ids, watch, history = np.arange(len(candidates)), _Boundaries(runs, period, K), []
        push, rounding, sent = (np.full(len(candidates), np.nan) for _ in range(3))
        closed = np.zeros(len(ids), bool)  # decided runs still in a tensor that cannot be split (``divisible``)
        while not closed.all():
            n = min(BLOCK, int(deadline[ids[~closed]].max()) - runs.t)
            watch.block(runs.t + 1, n)
            history.append((runs.t + 1, *runs.advance(n, watch.step)))
            fresh = np.flatnonzero(x_free & ~closed & (watch.streak_state >= K) & np.isnan(push[ids]))
            if len(fresh):
                push[ids[fresh]], rounding[ids[fresh]] = _pushes(runs, fresh, period[ids[fresh]])
                send = fresh[(watch.certified[fresh] == 0) & (np.abs(push[ids[fresh]]) > rounding[ids[fresh]])]
                sent[ids[send]] = np.sign(push[ids[send]])
                runs.x.data[torch.from_numpy(send)] = torch.from_numpy(sent[ids[send]].astype(np.float32))
            done = (watch.certified > 0) & ~closed
            tail, regret = _period_means(history, watch.certified, period[ids], np.flatnonzero(done))
            for i in np.flatnonzero(done):
                r = ids[i]
                certificate = {"kind": "periodic-K", "t0": int(watch.certified[i] - K * period[r] + 1), "k": K,
                               "period": int(period[r]), "burn_in": start, "x_dependent": not x_free}
                if not np.isnan(sent[r]):
                    certificate.update(sent_to=float(sent[r]), push=float(push[r]), rounding=float(rounding[r]))
                steps = 2.0 / -push[r] if push[r] < 0 else math.inf if push[r] >= 0 else math.nan
                limits[r] = Limit(limit_outcome(tail[i]), tail[i], regret[i], float(push[r]), steps, certificate)
            late = ~done & ~closed & (runs.t >= deadline[ids])
            for i in np.flatnonzero(late):
                limits[ids[i]] = undecided(_why(ids[i], period, K, push, rounding, sent, runs.t, x_free,
                                                watch.streak_state[i] >= K), float(push[ids[i]]))
            closed |= done | late
            if closed.any() and runs.divisible():
                keep = np.flatnonzero(~closed)
                runs, watch, ids, closed = runs.take(keep), watch.take(keep), ids[keep], closed[keep]
                watch.runs = runs
                history = [(t0, a[:, keep], xs[:, keep]) for t0, a, xs in history]
            if len(ids):
                history = [block for block in history if block[0] + len(block[1]) > runs.t - period[ids].max()]
            if progress is not None:
                progress(runs.t, max_steps)
    return limits


def _why(r, period, K, push, rounding, sent, t, x_free, state_repeats):
    """Why candidate r has no certificate by step t."""
    if not np.isnan(sent[r]):
        return f"the orbit from x = {sent[r]:+.0f}, where its push sent it, did not repeat within {t} steps"
    if state_repeats and not x_free:
        return f"it reads x: its state repeats, but x did not repeat within {t} steps"
    if state_repeats:
        return (f"|c/P| = {abs(push[r]):.3g} is within the float32 rounding of the walk, {rounding[r]:.3g} per step, "
                f"and x did not repeat within {t} steps")
    return f"its state did not repeat over {K} consecutive periods of {period[r]} steps within {t} steps"


@torch.no_grad()
def _pushes(runs, rows, period):
    """(c, bound) of runs ``rows``, each float64 per step: c = −Σ u_t over one period from the present step (their
    state is periodic, so from any phase), divided by P, measured by a copy of those runs (``_Runs.take``) walking
    from x = 0 on the whole line, and the bound on the float32 rounding that separates c from the displacement of x
    in F (``engines.limits.walk_sums``: the walk's own rounding, and that of the same steps taken at |x| ≤ 1)."""
    whole = not runs.divisible()  # a copy of every run, of which ``rows`` are read
    walker = runs.take(np.arange(len(runs.x)) if whole else rows)
    walker.domain = None
    walker.x.data.zero_()
    xs = np.concatenate([walker.advance(n)[1] for _, n in chunks(int(period.max()), BLOCK)]
                        + [walker.x.detach().numpy()[None]])
    xs = xs[:, rows] if whole else xs
    c, bound = np.empty(len(rows)), np.empty(len(rows))
    for i, p in enumerate(period):
        end, half, inside = walk_sums(np.ascontiguousarray(xs[:p + 1, i][None], np.float32))
        c[i], bound[i] = end[0] / p, (half[0] + inside[0]) / p
    return c, bound


def _period_means(history, end, period, rows):
    """(mean x_t, mean a_t·x_t − x*·a_t) with x* = −1, each (R,) float64 (NaN outside ``rows``), over the period
    t = end − P + 1 .. end of each of ``rows``, from ``history``: (t0, a_t, x_t) blocks, (n, R) each."""
    tail, regret = np.full(len(end), np.nan), np.full(len(end), np.nan)
    if len(rows):
        first = history[0][0]
        a, xs = np.concatenate([block[1] for block in history]), np.concatenate([block[2] for block in history])
        for r in rows:
            steps = slice(end[r] - period[r] + 1 - first, end[r] + 1 - first)
            x, coef = xs[steps, r].astype(np.float64), a[steps, r].astype(np.float64)
            tail[r], regret[r] = x.mean(), (coef * x).mean() + coef.mean()
    return tail, regret


def stochastic_limits(spec, hyper, candidates, schedule="constant", steps=SEARCH_DRIFT_STEPS, blocks=DRIFT_BLOCKS):
    """One ``engines.limits.Limit`` per stochastic candidate, from the drift of x per step, as
    ``engines.limits.stochastic_limits`` measures it, for a class whose update does not read x (``reads_x``).

    After the burn-in (``burn_in``, SETTLE/(1 − β) for the largest β, and ``engines.limits.rare_burn_in`` for the
    rarest candidate), the run goes on on the whole line (no clamp), x set back to 0 every ``batched.BLOCK`` steps (the
    update does not read x; this keeps its float32 rounding small), for ``steps`` steps in ``blocks`` blocks. The
    blocks' drifts, regressed on their shares of rare
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
        settle = max([start] + [SETTLE / (1.0 - beta) for beta in _betas(runs.optimizer)])
        start = math.ceil(rare_burn_in(settle, candidates.p, steps).max())  # one tensor: the longest
        for _, n in chunks(max(start - 1, 0), BLOCK):
            runs.advance(n)
        why = settle_t(runs, min(length, T_WINDOW))
        if why:
            return [undecided(why)] * len(candidates)
        start = runs.t
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
                                                   "burn_in": start, "rounding": float(bound[r]), "x_dependent": False},
                        rare=round(rare[:, r].sum())) for r in range(len(candidates))]


def _betas(optimizer):
    """Every β in (0, 1) of ``optimizer``'s param groups (keys ``beta*``, ``betas``, ``momentum``, ``alpha``,
    ``rho``)."""
    found = []
    for group in optimizer.param_groups:
        for key, value in group.items():
            if key.startswith("beta") or key in ("momentum", "alpha", "rho"):
                found += [float(v) for v in np.ravel(value) if isinstance(v, (int, float, np.floating)) and 0 < v < 1]
    return found


def evaluate(spec, hyper, candidates, steps=math.inf, schedule="constant", progress=None,
             drift_steps=SEARCH_DRIFT_STEPS):
    """The T = ∞ counterpart of ``batched.evaluate`` for the break search, parallel to ``engines.limits.evaluate``:
    a ``runs.outcome.LimitOutcome`` of ``candidates`` (``online_limits``, or ``stochastic_limits`` over
    ``drift_steps``). ``steps`` is taken for the engines' common signature; there is no T."""
    if candidates.family.random:
        return LimitOutcome(stochastic_limits(spec, hyper, candidates, schedule, steps=drift_steps))
    return LimitOutcome(online_limits(spec, hyper, candidates, schedule, progress=progress))
