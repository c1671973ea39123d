"""T = ∞ verdicts of the fused engine, each with a certificate, for optimizers whose update reads no x.

On the families' losses f_t(x) = a_t·x, a kernel that reads neither x nor t (``optim.registry.Kernel.also_reads``)
makes updates u_t that x does not change once its bias corrections have settled (1 − β^t is 1.0 in float64 from
β^t < 2^−54 on, or torch's step counter has stopped): x_{t+1} = clamp(x_t − u_t) is a clamped walk driven by a
sequence of its own.

Online family (``online_limits``), candidates with equal P run as one ``fused.Batch``, so that they share period
boundaries:
- *periodic-orbit*: the whole float32 state, x included (``fused.Batch.bits``), at a period boundary equals, bit
  for bit, the state k periods later. The run repeats for ever: the limit tail x is the mean of x_t over the cycle
  and R_T/T the cycle's mean of a_t·x_t − x*·a_t, exactly as the package computes them.
- *periodic-state*: the optimizer state repeats after k periods, x not (yet). The push c = −Σ u_t per period (over
  the k periods, divided by k) moves x up when c > 0 and down when c < 0, anywhere inside F, once |c| exceeds the
  float32 rounding of the walk (``_pushes``). The period map of the walk is monotone in x, so x ends on the orbit
  that starts at the end of F that c pushes towards; that orbit is run until it repeats, and gives the limit.
  Under α/√t, x cannot repeat: x → +1 when c > 0 (Reddi et al., Section 3: the mechanism of Theorem 1) and → −1 when
  c < 0, in real arithmetic (in float32, x freezes once α/√t·|u_t| is below half an ulp of x).
A kernel that reads x (AdamW) has only the first certificate; one that reads t has neither.

Stochastic family (``stochastic_limits``): after a burn-in, the drift E[−u_t] per step, from the displacement of x in
B blocks of a run on the whole line, with a 99 % batch-means interval widened by the float32 rounding of the walk. The
blocks' drifts are regressed on their shares of rare steps, whose mean p is known (a control variate): the estimate
is the line at p, with Student t on B − 2 degrees of freedom.

Predicted steps from +1 to x* = −1: 2/|push| for a constant α, 1/push² under α/√t (Σ_{t≤T} 1/√t ≈ 2√T).
"""

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.stats

from .. import families
from ..runs.outcome import LimitOutcome
from ..runs.verdict import limit_outcome
from . import fused

NEVER = 1 << 62  # a logging interval that logs nothing
CYCLES = 16  # the longest cycle looked for, in periods
MAX_STEPS = 1 << 24  # online: the steps after which a candidate without a certificate is undecided
SETTLE = 17  # burn-in in units of 1/(1 − β): β^17/(1−β) is below float32's 2^−24 (``REFERENCE.md``-style estimate)
WALK = 1 << 14  # steps of one walk from x = 0 (``_pushes``, ``stochastic_limits``)
PATIENCE = 1 << 20  # online: steps a push may take to cross F before the run is sent to the end it points to
CONFIDENCE = 0.99


@dataclass
class Limit:
    """The T = ∞ verdict of one candidate (x* = −1)."""

    outcome: str  # ``runs.verdict.LIMIT_OUTCOMES``
    tail_x: float  # the limit of the tail x (NaN: not known)
    average_regret: float  # the limit of R_T/T (NaN: not known)
    push: float  # x's drift per step at α, c/P online, E[−u_t] stochastic; > 0 pushes x up (NaN: not measured)
    steps: float  # predicted steps from +1 to x* (inf: never)
    certificate: dict = field(default_factory=dict)  # {kind, t0, k, ...}; {} when undecided
    reason: str = ""  # why it is undecided


def undecided(reason, push=math.nan):
    """A ``Limit`` without a certificate, and why."""
    return Limit("undecided", math.nan, math.nan, push, math.nan, {}, reason)


def settled_from(kernel, row):
    """The first step from which the bias corrections of ``kernel`` with hyperparameters ``row`` stay constant, as
    ``engines.kernels.bias_tables`` computes them: 1 − β^t is 1.0, or t has reached the step limit (inf: never)."""
    start = 1
    for name in kernel.bias:
        if name is not None:
            start = max(start, min(one_from(row[name]), kernel.step_limit))
    return start


def one_from(beta):
    """The least t with 1.0 − β^t == 1.0 in float64."""
    if beta <= 0.0:
        return 1
    if beta >= 1.0:
        return math.inf
    t = max(1, int(-54.0 * math.log(2.0) / math.log(beta)) - 2)  # β^t < 2^−54 from about here
    while 1.0 - math.pow(beta, t) != 1.0:
        t += 1
    return t


def _rows(spec, rows, runs):
    if spec.kernel is None:
        raise fused.Unsupported(f"optimizer {spec.name!r} has no fused kernel")
    rows = list(rows) if isinstance(rows, (list, tuple)) else [rows] * runs
    if len(rows) != runs:
        raise ValueError(f"{len(rows)} hyperparameter rows for {runs} candidates")
    return rows


def check_candidates(candidates, family):
    if candidates.family is not family:
        raise ValueError(f"these are {candidates.family.name} candidates; expected {family.name}")
    if np.any(candidates.mean <= 0):
        raise ValueError("T = ∞ verdicts take candidates with x* = −1 (mean coefficient > 0)")


def _advance(batch, n):
    for _, m in fused.chunks(n):
        batch.step(m)


def online_limits(spec, rows, candidates, schedule="constant", max_steps=MAX_STEPS, cycles=CYCLES,
                  patience=PATIENCE):
    """One ``Limit`` per online candidate.

    Args:
        spec: a registry entry with a kernel.
        rows: ``fused.hyperparameters`` rows, one for all candidates or one each.
        candidates: ``families.Candidates`` of the online family, each with x* = −1.
        schedule: "constant" or "sqrt" (α_t = α/√t).
        max_steps: a candidate without a certificate by then is undecided.
        cycles: the longest cycle looked for, in periods.
        patience: a run whose state repeats is left to find its own orbit (periodic-orbit) when the push crosses
            F in at most this many steps; a slower one is sent to the end of F that its push points to
            (periodic-state).
    """
    rows = _rows(spec, rows, len(candidates))
    check_candidates(candidates, families.ONLINE)
    if "t" in spec.kernel.also_reads:
        return [undecided(f"the {spec.kernel.name} kernel reads t: its update map never repeats")] * len(candidates)
    limits = [None] * len(candidates)
    for period in np.unique(candidates.period):
        group = np.flatnonzero(candidates.period == period)
        found = _online_group(spec.kernel, [rows[r] for r in group], candidates.take(group), schedule, max_steps,
                              cycles, patience)
        for r, limit in zip(group, found):
            limits[r] = limit
    return limits


def _online_group(kernel, rows, candidates, schedule, max_steps, cycles, patience):
    """``online_limits`` of candidates that share one period P."""
    runs, period, sqrt = len(candidates), int(candidates.period[0]), schedule == "sqrt"
    start = max(settled_from(kernel, row) for row in rows)
    if not math.isfinite(start):
        return [undecided("its bias corrections never settle")] * runs
    batch = fused.Batch(kernel, rows, [candidates.problem(r) for r in range(runs)], schedule, every=NEVER)
    big, small = batch.problems.big.astype(np.float64), batch.problems.small.astype(np.float64)
    mean_a = (big + (period - 1) * small) / period
    limits, pending = [None] * runs, np.ones(runs, bool)
    push, rounding = np.full(runs, np.nan), np.full(runs, np.nan)
    state_cycle = {}  # run -> (t0, k) of its optimizer state, for a run sent to an end of F
    x_free, repeats = "x" not in kernel.also_reads, np.zeros(runs, bool)
    _advance(batch, -(-(start - 1) // period) * period)  # to the first boundary from which the map is stationary
    gap = cycles * period
    while pending.any() and batch.t < max_steps:
        t0, saved, before = batch.t + 1, batch.snapshot(), batch.bits()
        k_state, k_full = np.zeros(runs, np.int64), np.zeros(runs, np.int64)
        for j in range(1, cycles + 1):
            _advance(batch, period)
            same = batch.bits() == before
            state_same = same[:-1].all(axis=0)
            k_state[(k_state == 0) & state_same] = j
            k_full[(k_full == 0) & state_same & same[-1]] = j
            if not (pending & ((k_state == 0) if sqrt else (k_full == 0))).any():
                break
        end, repeats = batch.snapshot(), repeats | (k_state > 0)
        fresh = pending & (k_state > 0) & np.isnan(push) & x_free
        if fresh.any():
            batch.restore(saved)
            c, bound = _pushes(batch, period, k_state, fresh)
            push[fresh], rounding[fresh] = c[fresh] / period, bound[fresh] / period
        orbit = pending & (k_full > 0) & (not sqrt)
        if orbit.any():
            batch.restore(saved)
            tail, regret = _cycle_means(batch, period, k_full, orbit, big, small, mean_a)
            for r in np.flatnonzero(orbit):
                steps = 2.0 / -push[r] if push[r] < 0 else math.inf if push[r] >= 0 else math.nan
                certificate = {"kind": "periodic-orbit", "t0": t0, "k": int(k_full[r])}
                if r in state_cycle:
                    certificate = {"kind": "periodic-state", **state_cycle[r], "push": push[r],
                                   "rounding": rounding[r], "orbit": certificate}
                limits[r] = Limit(limit_outcome(tail[r]), tail[r], regret[r], push[r], steps, certificate)
            pending &= ~orbit
        batch.restore(end)
        sent = False
        for r in np.flatnonzero(pending & (k_state > 0) & x_free & ~np.isnan(push)):
            if r in state_cycle:
                continue
            if abs(push[r]) <= rounding[r]:
                limits[r] = undecided(f"|c/P| = {abs(push[r]):.3g} is within the float32 rounding of the walk, "
                                       f"{rounding[r]:.3g} per step", push[r])
                pending[r] = False
                continue
            cycle = {"t0": t0, "k": int(k_state[r])}
            if not sqrt and 2.0 / abs(push[r]) <= patience:
                continue
            if sqrt:
                end_x = math.copysign(1.0, push[r])
                steps = push[r] ** -2 if push[r] < 0 else math.inf
                limits[r] = Limit(limit_outcome(end_x), end_x, mean_a[r] * (end_x + 1.0), push[r], steps,
                                  {"kind": "periodic-state", **cycle, "push": push[r], "rounding": rounding[r]})
                pending[r] = False
            else:
                state_cycle[r], sent = cycle, True
                batch.runs.x[r] = batch.domain[1] if push[r] > 0 else batch.domain[0]
        if not sent:
            _advance(batch, gap)
            gap = -(-max(gap, batch.t - start) // period) * period  # attempts at ~t, 2t, 4t ...: whole periods
    for r in np.flatnonzero(pending):
        if r in state_cycle:
            why = f"the orbit from the end of F did not repeat within {max_steps} steps"
        elif repeats[r] and not x_free:
            why = f"it reads x: its state repeats, but x did not repeat within {max_steps} steps"
        else:
            why = f"its state did not repeat (cycles up to {cycles} periods) within {max_steps} steps"
        limits[r] = undecided(why, push[r])
    return limits


def _pushes(batch, period, k, runs):
    """(c, bound), each (R,) float64 per period: c = −Σ u_t over the k periods from here, divided by k, for
    ``runs``, and the bound on the float32 rounding that separates c from the displacement of x in F.

    c is measured as walks from x = 0 (``fused.Batch.walk``), restarted every ``WALK`` steps so that memory stays
    bounded and x small, whose rounding is at most half an ulp of x per step;
    the walk inside F rounds x_t − u_t, at most half an ulp of 1 + |u_t|, plus an ulp of u_t for the FMA kernels
    (they round x_t − u_t once from an exact product, where the walk from 0 rounded u_t). The batch is left k
    periods on."""
    c, bound = np.zeros(len(k)), np.zeros(len(k))
    for j in range(int(k[runs].max())):
        use = runs & (k > j)
        for _, m in fused.chunks(period, WALK):
            path = batch.walk(m)
            step = np.abs(np.diff(path.astype(np.float64), axis=1)).astype(np.float32)
            inside = (np.spacing(np.float32(1) + step) / 2 + np.spacing(step)).sum(axis=1, dtype=np.float64)
            c += np.where(use, path[:, -1].astype(np.float64), 0.0)
            bound += np.where(use, half_ulps(path) + inside, 0.0)
    return c / np.maximum(k, 1), bound / np.maximum(k, 1)


def half_ulps(path):
    """(R,) float64: Σ_t half an ulp of the larger of |x_t|, |x_{t+1}| along float32 paths (R, n + 1), a bound on
    the rounding of x_{t+1} = x_t − u_t (the ulp at a power of two is the one above it)."""
    return (np.spacing(np.maximum(np.abs(path[:, :-1]), np.abs(path[:, 1:]))) / 2).sum(axis=1, dtype=np.float64)


def _cycle_means(batch, period, k, runs, big, small, mean_a):
    """(tail x, R_T/T), each (R,): the means of x_t and of a_t·x_t − x*·a_t (x* = −1) over the k periods from
    here, for ``runs``; the batch is left as many periods on as the longest cycle."""
    sum_x, sum_ax = np.zeros(len(k)), np.zeros(len(k))
    size = max(1, fused.TABLE_ENTRIES // len(k))
    for j in range(int(k[runs].max())):
        use = runs & (k > j)
        for offset, m in fused.chunks(period, size):
            _, log_x, _ = batch.step(m, every=1)
            x = log_x.astype(np.float64)
            a = np.where(np.arange(offset - 1, offset - 1 + m) == 0, big[:, None], small[:, None])
            sum_x += np.where(use, x.sum(axis=1), 0.0)
            sum_ax += np.where(use, (a * x).sum(axis=1), 0.0)
    steps = np.maximum(k, 1) * period
    return sum_x / steps, sum_ax / steps + mean_a


def stochastic_limits(spec, rows, candidates, schedule="constant", steps=1 << 24, blocks=32, burn_in=None,
                      walk=WALK):
    """One ``Limit`` per stochastic candidate, from the drift of x (kernels that read neither x nor t).

    Args:
        spec, rows, schedule: as for ``online_limits``; under α/√t the drift is measured at α.
        candidates: ``families.Candidates`` of the stochastic family, each with x* = −1.
        steps: the steps measured, after the burn-in, in ``blocks`` blocks.
        burn_in: the steps before; None: past the settling of the bias corrections and SETTLE/(1 − β) for the
            largest β the kernel reads.
        walk: x restarts at 0 every ``walk`` steps, which keeps its float32 rounding small.
    """
    rows = _rows(spec, rows, len(candidates))
    check_candidates(candidates, families.STOCHASTIC)
    kernel, runs = spec.kernel, len(candidates)
    if kernel.also_reads:
        return [undecided(f"the {kernel.name} kernel reads {' and '.join(kernel.also_reads)}: x is not a walk of "
                           f"its own")] * runs
    if burn_in is None:
        betas = [row[key] for row in rows for key in ("beta1", "beta2", "alpha", "momentum") if key in row]
        burn_in = max([settled_from(kernel, row) for row in rows] + [SETTLE / (1.0 - b) for b in betas if b < 1])
    burn_in, length = int(math.ceil(burn_in)), steps // blocks
    batch = fused.Batch(kernel, rows, [candidates.problem(r) for r in range(runs)], schedule, every=NEVER)
    _advance(batch, burn_in)
    big, small = batch.problems.big.astype(np.float64), batch.problems.small.astype(np.float64)
    drift, bound, rare = np.zeros((blocks, runs)), np.zeros((blocks, runs)), np.zeros((blocks, runs))
    for b in range(blocks):
        coef = batch.runs.coef.copy()
        for _, m in fused.chunks(length, walk):
            path = batch.walk(m)
            drift[b] += path[:, -1]
            bound[b] += half_ulps(path)
        rare[b] = (batch.runs.coef - coef - length * small) / (big - small)  # Σ a_t = N·big + (L − N)·small
    mean, half = regression_estimate(drift / length, rare / length, candidates.p)
    bound = bound.max(axis=0) / length
    low, high = mean - half - bound, mean + half + bound
    return [drift_limit(mean[r], low[r], high[r], {"kind": "drift-interval", "blocks": blocks, "steps": length * blocks,
                                                   "burn_in": burn_in, "rounding": float(bound[r])},
                        schedule == "sqrt") for r in range(runs)]


def drift_limit(mean, low, high, certificate, sqrt=False):
    """The ``Limit`` of a drift ``mean`` per step with its interval [low, high]: breaks when the interval lies above
    0, converges when below (from +1 to x* in 2/|drift| steps, 1/drift² under α/√t), else undecided."""
    certificate = {**certificate, "interval": (float(low), float(high))}
    if low > 0:
        return Limit("breaks", math.nan, math.nan, float(mean), math.inf, certificate)
    if high < 0:
        return Limit("converges", math.nan, math.nan, float(mean), mean**-2 if sqrt else 2.0 / -mean, certificate)
    return Limit("undecided", math.nan, math.nan, float(mean), math.nan, certificate,
                 f"the {CONFIDENCE:.0%} interval of the drift holds 0")


def regression_estimate(drift, share, p):
    """(mean, half-width), each (R,): the drift per step at the share p of rare steps, from B blocks' drifts and
    shares of rare steps, (B, R) each, with its ``CONFIDENCE`` interval.

    Most of a block's drift comes from how many rare gradients it drew; the regression of the drift on that share
    (a control variate: its mean p is known) removes that part. The estimate is the fitted line at p, its interval
    the line's prediction interval for the mean (Student t, B − 2 degrees of freedom).
    """
    blocks = len(drift)
    centred = share - share.mean(axis=0)
    spread = (centred**2).sum(axis=0)
    slope = np.where(spread > 0, (centred * (drift - drift.mean(axis=0))).sum(axis=0) / np.maximum(spread, 1e-300),
                     0.0)
    offset = p - share.mean(axis=0)
    mean = drift.mean(axis=0) + slope * offset
    residual = drift - drift.mean(axis=0) - slope * centred
    variance = (residual**2).sum(axis=0) / (blocks - 2)
    error = np.sqrt(variance * (1.0 / blocks + np.where(spread > 0, offset**2 / np.maximum(spread, 1e-300), 0.0)))
    return mean, scipy.stats.t.ppf(0.5 + CONFIDENCE / 2, blocks - 2) * error


SEARCH_DRIFT_STEPS = 1 << 20  # stochastic: the steps of a search's drift estimate (a replay takes the default 2^24)


def evaluate(spec, hyper, candidates, steps=math.inf, schedule="constant", progress=None):
    """The T = ∞ counterpart of ``fused.evaluate`` for the break search: a ``runs.outcome.LimitOutcome`` of
    ``candidates`` (``online_limits`` or, with ``SEARCH_DRIFT_STEPS``, ``stochastic_limits``). ``steps`` and
    ``progress`` are taken for the engines' common signature; there is no T."""
    row = fused.hyperparameters(spec, hyper)
    if candidates.family.random:
        return LimitOutcome(stochastic_limits(spec, row, candidates, schedule, steps=SEARCH_DRIFT_STEPS))
    return LimitOutcome(online_limits(spec, row, candidates, schedule))
