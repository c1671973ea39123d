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
  float32 rounding of the walk (``_pushes``; a push below ``LEAST_ROUNDING`` per step is within it without the
  walk being bounded). The period map of the walk is monotone in x, so x ends on the orbit
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

import concurrent.futures
import math
from dataclasses import dataclass, field

import numba
import numpy as np
import scipy.stats

from .. import families
from ..runs.outcome import LimitOutcome
from ..runs.verdict import limit_outcome
from . import fused

CYCLES = 16  # the longest cycle looked for, in periods
MAX_STEPS = 1 << 24  # online: the steps after which a candidate without a certificate is undecided
SETTLE = 17  # burn-in in units of 1/(1 − β): β^17/(1−β) is below float32's 2^−24 (``REFERENCE.md``-style estimate)
WALK = 1 << 14  # steps of one walk from x = 0 (``_pushes``, ``stochastic_limits``)
PATIENCE = 1 << 20  # online: steps a push may take to cross F before the run is sent to the end it points to
CONFIDENCE = 0.99
LEAST_ROUNDING = 2.0**-24  # per step: the walk in F rounds x_t − u_t near |x| = 1 by up to half an ulp of 1 + |u_t|
DRIFT_BLOCKS = 32  # stochastic: the blocks a drift measurement is cut into
MIN_RARE = 8  # stochastic: the fewest rare gradients a drift measurement must draw to decide


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


def certifies(spec):
    """Whether the fused engine can give ``spec``'s kernel a T = ∞ certificate: not when it reads t (its update map
    never repeats); ``break`` and the problem commands then judge the real class on the batched torch engine."""
    return "t" not in spec.kernel.also_reads


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
    if not certifies(spec):
        return [undecided(f"the {spec.kernel.name} kernel reads t: its update map never repeats")] * len(candidates)
    groups = _side_by_side(candidates, candidates.period)  # candidates that share P share period boundaries
    cores = 1 if len(groups) > 1 else None

    def judge(group):
        return _online_group(spec.kernel, [rows[r] for r in group], candidates.take(group), schedule, max_steps,
                             cycles, patience, cores)

    limits = [None] * len(candidates)
    with concurrent.futures.ThreadPoolExecutor(numba.get_num_threads(), thread_name_prefix="limits") as pool:
        for group, found in zip(groups, pool.map(judge, groups)):
            for r, limit in zip(group, found):
                limits[r] = limit
    return limits


def _online_group(kernel, rows, candidates, schedule, max_steps, cycles, patience, cores=None):
    """``online_limits`` of candidates that share one period P. A run leaves the batch (``fused.Batch.take``) as soon
    as it is decided, so that it costs nothing after that."""
    runs, period, sqrt = len(candidates), int(candidates.period[0]), schedule == "sqrt"
    start = max(settled_from(kernel, row) for row in rows)
    if not math.isfinite(start):
        return [undecided("its bias corrections never settle")] * runs
    batch = fused.Batch(kernel, rows, [candidates.problem(r) for r in range(runs)], schedule, every=fused.NEVER,
                        cores=cores)
    big, small = batch.problems.big.astype(np.float64), batch.problems.small.astype(np.float64)
    mean_a = (big + (period - 1) * small) / period
    limits, ids = [None] * runs, np.arange(runs)  # ids: the candidate of each run of the batch
    push, rounding = np.full(runs, np.nan), np.full(runs, np.nan)
    state_cycle = {}  # candidate -> (t0, k) of its optimizer state, for a run sent to an end of F
    x_free, repeats = "x" not in kernel.also_reads, np.zeros(runs, bool)
    # From t = start on, the map of P steps is the same from any step: a window of P steps may start at any phase.
    _advance(batch, start - 1)
    gap = cycles * period
    while len(ids) and batch.t < max_steps:
        t0, saved, window = batch.t + 1, batch.snapshot(), _Window(batch, period, cycles, sqrt)
        k_state, k_full = window.k_state, window.k_full
        repeats[ids] |= k_state > 0
        fresh = (k_state > 0) & np.isnan(push[ids]) & x_free
        if fresh.any():  # the push of every run, roughly: it ranks the orbits and tells the slow runs
            push[ids[fresh]] = _pushes(batch, saved, np.flatnonzero(fresh), k_state[fresh], path=False)[0]
        done = (k_full > 0) & (not sqrt)
        tail, regret = window.means(np.maximum(k_full, 1), big[ids], small[ids])
        for i in np.flatnonzero(done):
            r = ids[i]
            steps = 2.0 / -push[r] if push[r] < 0 else math.inf if push[r] >= 0 else math.nan
            certificate = {"kind": "periodic-orbit", "t0": t0, "k": int(k_full[i])}
            if r in state_cycle:
                certificate = {"kind": "periodic-state", **state_cycle[r], "push": push[r], "rounding": rounding[r],
                               "orbit": certificate}
            limits[r] = Limit(limit_outcome(tail[i]), tail[i], regret[i] + mean_a[r], push[r], steps, certificate)
        sent = False
        slow = ~done & (k_state > 0) & x_free & np.isnan(rounding[ids])
        slow[slow] = sqrt or (np.abs(push[ids[slow]]) < 2.0 / patience)  # crosses F in more than patience steps
        flat = slow & (np.abs(push[ids]) <= LEAST_ROUNDING)  # within any walk's rounding: no need to bound it
        rounding[ids[flat]], slow[flat] = LEAST_ROUNDING, False
        if slow.any():  # the runs decided by their push: measured again, with the bound on its rounding
            push[ids[slow]], rounding[ids[slow]] = _pushes(batch, saved, np.flatnonzero(slow), k_state[slow])
        for i in np.flatnonzero(~done & (k_state > 0) & x_free & ~np.isnan(rounding[ids])):
            r = ids[i]
            if r in state_cycle:
                continue
            if abs(push[r]) <= rounding[r]:
                limits[r] = undecided(f"|c/P| = {abs(push[r]):.3g} is within the float32 rounding of the walk, "
                                       f"{rounding[r]:.3g} per step", push[r])
                done[i] = True
                continue
            cycle = {"t0": t0, "k": int(k_state[i])}
            if sqrt:
                end_x = math.copysign(1.0, push[r])
                steps = push[r] ** -2 if push[r] < 0 else math.inf
                limits[r] = Limit(limit_outcome(end_x), end_x, mean_a[r] * (end_x + 1.0), push[r], steps,
                                  {"kind": "periodic-state", **cycle, "push": push[r], "rounding": rounding[r]})
                done[i] = True
            else:
                state_cycle[r], sent = cycle, True
                batch.runs.x[i] = batch.domain[1] if push[r] > 0 else batch.domain[0]
        if done.any():
            keep = np.flatnonzero(~done)
            batch, ids = batch.take(keep), ids[keep]
        if not sent and len(ids):
            _advance(batch, gap)
            gap = -(-max(gap, batch.t - start) // period) * period  # attempts at ~t, 2t, 4t ...: whole periods
    for r in ids:
        if r in state_cycle:
            why = f"the orbit from the end of F did not repeat within {max_steps} steps"
        elif repeats[r] and not x_free:
            why = f"it reads x: its state repeats, but x did not repeat within {max_steps} steps"
        else:
            why = f"its state did not repeat (cycles up to {cycles} periods) within {max_steps} steps"
        limits[r] = undecided(why, push[r])
    return limits


class _Window:
    """Up to ``cycles`` periods of ``batch`` from its present step t0, with the first k at which each run's state
    (``k_state``: the optimizer's) or whole state (``k_full``: x too) is back, bit for bit, where it was at t0. It
    stops early once every run has what it needs (its whole state; its optimizer state under α/√t).

    On the way it keeps, per period, x at the period's big step and the sum Σ a_t·x_t that the kernel accumulates,
    so that the means of a cycle cost no second pass (``means``)."""

    def __init__(self, batch, period, cycles, sqrt):
        runs = len(batch.x)
        before, self.loss0 = batch.bits(), batch.runs.loss.copy()
        self.k_state, self.k_full = np.zeros(runs, np.int64), np.zeros(runs, np.int64)
        self.big_x, self.loss, self.period = [], [], period
        to_big = (period - int(batch.runs.phase[0])) % period  # every run of the batch shares P and t: one phase
        for j in range(1, cycles + 1):
            _advance(batch, to_big)
            self.big_x.append(batch.x.astype(np.float64))
            _advance(batch, period - to_big)
            self.loss.append(batch.runs.loss.copy())
            same = batch.bits() == before
            state_same = same[:-1].all(axis=0)
            self.k_state[(self.k_state == 0) & state_same] = j
            self.k_full[(self.k_full == 0) & state_same & same[-1]] = j
            if not ((self.k_state == 0) if sqrt else (self.k_full == 0)).any():
                break

    def means(self, k, big, small):
        """(mean x_t, mean a_t·x_t), each (R,), over the first k[r] periods of the window, in float64: the big
        step's x is known, the other P − 1 steps' a_t·x_t sum to Σ a_t·x_t less the big step's, and share a_t."""
        rows = np.arange(len(k))
        big_x = np.cumsum(self.big_x, axis=0)[k - 1, rows]
        ax = np.stack(self.loss)[k - 1, rows] - self.loss0
        steps = k * self.period
        return (big_x + (ax - big * big_x) / small) / steps, ax / steps


def _pushes(batch, saved, runs, k, path=True):
    """(c, bound), each float64 per step, of ``runs`` of ``batch`` from its snapshot ``saved`` (the batch itself is
    left as it is): c = −Σ u_t over the k[i] periods from there, divided by k[i]·P, and the bound on the float32
    rounding that separates c from the displacement of x in F (NaN without the ``path``).

    c is measured as walks from x = 0 (``fused.Batch.walk``), restarted every ``WALK`` steps so that x stays small,
    whose rounding is at most half an ulp of x per step; the walk inside F rounds x_t − u_t, at most half an ulp of
    1 + |u_t|, plus an ulp of u_t for the FMA kernels (they round x_t − u_t once from an exact product, where the
    walk from 0 rounded u_t). Without the path, each walk logs nothing and costs what as many steps cost."""
    end = batch.snapshot()
    batch.restore(saved)
    walker = batch.take(runs)
    batch.restore(end)
    c, bound, period = np.zeros(len(k)), np.zeros(len(k)), walker.problems.period[0]
    for j in range(int(k.max())):
        use = k > j
        for _, m in fused.chunks(period, WALK):
            last, half, inside = walk_sums(walker.walk(m, path))
            c += np.where(use, last, 0.0)
            bound += np.where(use, half + inside, 0.0)
    steps = k * period
    return c / steps, bound / steps if path else np.full(len(k), np.nan)


@numba.njit(error_model="numpy", nogil=True, cache=True)
def walk_sums(path):
    """(end, half, inside), each (R,) float64, of float32 walks from x = 0, (R, n + 1): the last x; Σ_t half an
    ulp of the larger of |x_t|, |x_{t+1}| (a bound on the rounding of x_{t+1} = x_t − u_t; the ulp at a power of two
    is the one above it); and Σ_t half an ulp of 1 + |u_t| plus an ulp of |u_t|, u_t the path's steps (the
    rounding of the same steps taken at |x| ≤ 1). Ulps come from the float32 exponent bits (``ULPS``)."""
    runs, n = path.shape[0], path.shape[1] - 1
    end, half, inside = np.empty(runs), np.zeros(runs), np.zeros(runs)
    bits = path.view(np.uint32)
    value = np.empty(2, np.float32)  # |u_t| and 1 + |u_t| in float32, read back as bits
    value_bits = value.view(np.uint32)
    for r in range(runs):
        end[r] = path[r, n]
        for t in range(n):
            larger = max(bits[r, t] & 0x7FFFFFFF, bits[r, t + 1] & 0x7FFFFFFF)
            value[0] = abs(np.float64(path[r, t + 1]) - np.float64(path[r, t]))
            value[1] = np.float32(1.0) + value[0]
            half[r] += 0.5 * ULPS[larger >> 23]
            inside[r] += 0.5 * ULPS[value_bits[1] >> 23] + ULPS[value_bits[0] >> 23]
    return end, half, inside


# np.spacing of a float32 by its biased exponent e (bits 23–30): 2^(e − 150), and 2^−149 for e = 0 (subnormals);
# e = 255 (inf, NaN) gives inf, as np.spacing does.
ULPS = np.array([2.0**-149] + [2.0 ** (e - 150) for e in range(1, 255)] + [np.inf])


def half_ulps(path):
    """(R,) float64: the ``half`` sum of ``walk_sums`` of float32 paths (R, n + 1)."""
    return walk_sums(np.ascontiguousarray(path, np.float32))[1]


def stochastic_limits(spec, rows, candidates, schedule="constant", steps=1 << 24, blocks=DRIFT_BLOCKS, burn_in=None,
                      walk=WALK):
    """One ``Limit`` per stochastic candidate, from the drift of x (kernels that read neither x nor t).

    Args:
        spec, rows, schedule: as for ``online_limits``; under α/√t the drift is measured at α.
        candidates: ``families.Candidates`` of the stochastic family, each with x* = −1.
        steps: the steps measured, after the burn-in, in ``blocks`` blocks.
        burn_in: the steps before, one number or one per candidate; None: past the settling of the bias
            corrections and SETTLE/(1 − β) for the largest β the kernel reads, and ``rare_burn_in``.
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
        settle = max([settled_from(kernel, row) for row in rows] + [SETTLE / (1.0 - b) for b in betas if b < 1])
        burn_in = rare_burn_in(settle, candidates.p, steps)
    burn_in, length = np.ceil(np.broadcast_to(burn_in, runs)).astype(np.int64), steps // blocks
    groups = _side_by_side(candidates, burn_in)
    cores = 1 if len(groups) > 1 else None

    def measure(group):
        return _stochastic_walks(kernel, [rows[r] for r in group], candidates.take(group), schedule,
                                 int(burn_in[group[0]]), length, blocks, walk, cores)

    drift, bound, rare = np.zeros((blocks, runs)), np.zeros((blocks, runs)), np.zeros((blocks, runs))
    with concurrent.futures.ThreadPoolExecutor(numba.get_num_threads(), thread_name_prefix="limits") as pool:
        for group, found in zip(groups, pool.map(measure, groups)):
            for whole, part in zip((drift, bound, rare), found):
                whole[:, group] = part
    mean, half = regression_estimate(drift / length, rare / length, candidates.p)
    bound = bound.max(axis=0) / length
    low, high = mean - half - bound, mean + half + bound
    return [drift_limit(mean[r], low[r], high[r], {"kind": "drift-interval", "blocks": blocks, "steps": length * blocks,
                                                   "burn_in": int(burn_in[r]), "rounding": float(bound[r])},
                        schedule == "sqrt", round(rare[:, r].sum())) for r in range(runs)]


def rare_burn_in(settle, p, steps):
    """The burn-in of a drift measurement at rare-gradient probability ``p`` (an array): ``settle`` steps, and long
    enough to hold ``MIN_RARE`` rare gradients on average, at most the ``steps`` measured. A state that keeps a
    running maximum (AMSGrad's v̂) is far from its stationary law until it has seen a few rare gradients: measured
    from before the first, its drift holds a transient up-push that the interval mistakes for a drift."""
    return np.maximum(settle, np.minimum(MIN_RARE / np.asarray(p, np.float64), steps))


def _stochastic_walks(kernel, rows, candidates, schedule, burn_in, length, blocks, walk, cores):
    """(drift, bound, rare), each (blocks, R): per block of ``length`` steps after the burn-in, the displacement of
    the walks (``walk_sums``), their rounding bound and the number of rare steps."""
    runs = len(candidates)
    batch = fused.Batch(kernel, rows, [candidates.problem(r) for r in range(runs)], schedule, every=fused.NEVER,
                        cores=cores)
    _advance(batch, burn_in)
    big, small = batch.problems.big.astype(np.float64), batch.problems.small.astype(np.float64)
    drift, bound, rare = np.zeros((blocks, runs)), np.zeros((blocks, runs)), np.zeros((blocks, runs))
    for b in range(blocks):
        coef = batch.runs.coef.copy()
        for _, m in fused.chunks(length, walk):
            end, half, _ = walk_sums(batch.walk(m))
            drift[b] += end
            bound[b] += half
        rare[b] = (batch.runs.coef - coef - length * small) / (big - small)  # Σ a_t = N·big + (L − N)·small
    return drift, bound, rare


def _side_by_side(candidates, key):
    """The candidates in groups of equal ``key`` and at most one SIMD block (``fused.LANE_BLOCK``) each: batches
    that run side by side, one core each, since a core steps 64 runs in one block faster than two cores step 32
    each."""
    return [part for value in np.unique(key)
            for part in np.array_split(np.flatnonzero(key == value), -(-np.sum(key == value) // fused.LANE_BLOCK))]


def drift_limit(mean, low, high, certificate, sqrt=False, rare=None):
    """The ``Limit`` of a drift ``mean`` per step with its interval [low, high]: breaks when the interval lies above
    0, converges when below (from +1 to x* in 2/|drift| steps, 1/drift² under α/√t), else undecided; undecided
    too when the measurement drew fewer than ``MIN_RARE`` rare gradients (``rare``: how many it drew; None: not
    counted), since the blocks then agree for want of the steps that matter and the interval means nothing."""
    certificate = {**certificate, "interval": (float(low), float(high))}
    if rare is not None:
        certificate["rare_steps"] = int(rare)
        if rare < MIN_RARE:
            return Limit("undecided", math.nan, math.nan, float(mean), math.nan, certificate,
                         f"its {certificate['steps']:,} steps drew {int(rare)} rare gradients (fewer than "
                         f"{MIN_RARE}): too few to measure the drift")
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


SEARCH_DRIFT_STEPS = 1 << 18  # stochastic: the steps of a search's drift estimate (a replay takes the default 2^24)


def evaluate(spec, hyper, candidates, steps=math.inf, schedule="constant", progress=None,
             drift_steps=SEARCH_DRIFT_STEPS):
    """The T = ∞ counterpart of ``fused.evaluate`` for the break search: a ``runs.outcome.LimitOutcome`` of
    ``candidates`` (``online_limits``, or ``stochastic_limits`` over ``drift_steps``). ``steps`` and ``progress``
    are taken for the engines' common signature; there is no T."""
    row = fused.hyperparameters(spec, hyper)
    if candidates.family.random:
        return LimitOutcome(stochastic_limits(spec, row, candidates, schedule, steps=drift_steps))
    return LimitOutcome(online_limits(spec, row, candidates, schedule))
