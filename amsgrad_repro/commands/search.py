"""The search space of ``break`` and its rounds: a coarse log grid, then refinement around the worst candidates.

Both families have x* = −1 on [−1, 1] and are searched on the same two log axes:
- the rarity of the big gradient: the period P (online), or 1/p (stochastic), from 2 to T/100, so that every
  candidate sees its rare gradient about 100 times or more;
- the mean coefficient μ/s, (C − (P − 1))/P (online) or p·C − (1 − p) (stochastic), from the margin δ up to the
  ratio C/(P − 1) (or p·C/(1 − p), the same ratio for the stochastic family) = ``RATIO_MAX``.
μ ≥ δ keeps the optimum strict: near μ = 0 every method moves slowly, and a finite-T search would mistake "slow" for
"broken". For the stochastic family the margin is also required of the T draws the run actually sees: with 100
rare gradients expected, their count varies by ±10 %, enough to turn a small μ negative on the sample, where
x → +1 would be right.

Everything that differs between the two families (the rarity's parameter, the realised margin) is asked of the
``families.Family``. A round is a ``families.Candidates`` batch; evaluating it is the caller's (any engine, any
tiling). Rounds are deterministic for a given seed: the refinement draws from
``numpy.random.default_rng((seed, round))``.
"""

from dataclasses import dataclass

import numpy as np

from .. import families
from ..families import Candidates, rare_coefficient

RATIO_MAX = 100.0  # C/(P − 1) at most: the rare gradient at most 100 times the balance between the two
MIN_PERIODS = 100  # P ≤ T/100 (p ≥ 100/T): at least 100 rare gradients in a run


@dataclass(frozen=True)
class Budget:
    """How many candidates a search evaluates: a coarse grid of ``rarity`` × ``mean`` points (one round), then
    ``rounds`` rounds of about ``per_round`` candidates, drawn around the ``top`` worst so far."""

    rarity: int = 40
    mean: int = 64
    rounds: int = 2
    per_round: int = 1024
    top: int = 16
    rarity_levels: int = 0  # > 0: refinement rounds snap u to this many levels, so that their P repeat (T = ∞)


class Space:
    """The candidates of one family at one horizon and margin, in coordinates (u, w) ∈ [0, 1]²: u spaces log P (or
    log 1/p) evenly from 2 to T/100 (to ``rarity_max`` at T = ∞), w spaces log μ evenly between its bounds at that P.

    Args:
        family: a ``families.Family`` or its name.
        steps: T (inf: T = ∞, where the stochastic margin is the margin itself, with no T draws to meet it on).
        margin: δ, the least mean coefficient, in units of s.
        scale: s.
        seed: the stochastic family's draws (``experiment.Stochastic(seed)``).
        rarity_max: the largest P (or 1/p) at T = ∞.
    """

    def __init__(self, family, steps, margin, scale, seed, rarity_max=None):
        self.family, self.steps, self.margin, self.scale, self.seed = families.get(family), steps, margin, scale, seed
        self.rarity = (2.0, float(rarity_max) if rarity_max else steps / MIN_PERIODS)

    def _mean_bounds(self, rarity):
        """(lowest, highest) μ/s at rarity ρ = P (or 1/p); lowest > highest where the margin cannot be met."""
        lowest = self.family.least_mean(rarity, self.margin, self.steps, self.seed)
        return lowest, (rarity - 1.0) / rarity * (RATIO_MAX - 1.0)  # μ/s = C/ρ − (ρ − 1)/ρ at C = RATIO_MAX·(ρ − 1)

    def rarity_of(self, u):
        """The rarity ρ (P, rounded to an integer, or 1/p) at coordinate u."""
        rarity = np.exp(np.log(self.rarity[0]) + u * np.log(self.rarity[1] / self.rarity[0]))
        return self.family.round_rarity(rarity)

    def candidates(self, u, w):
        """``families.Candidates`` at coordinates (u, w), and a mask of those whose μ range is not empty."""
        rarity = self.rarity_of(np.asarray(u, np.float64))
        lowest, highest = self._mean_bounds(rarity)
        feasible = lowest <= highest
        mean = np.exp(np.log(lowest) + np.asarray(w) * (np.log(highest) - np.log(lowest)))
        C = rare_coefficient(rarity, mean)
        return Candidates.at(self.family, rarity, C, np.full(len(rarity), float(self.scale)), self.seed), feasible

    @staticmethod
    def coordinates(candidates):
        """(ρ, μ/s) of ``candidates``: P (or 1/p) and the mean coefficient in units of s."""
        return candidates.rarity, candidates.mean

    def feasible(self):
        """Whether some rarity in range admits a mean coefficient between the margin and the ratio bound."""
        lowest, highest = self._mean_bounds(self.rarity_of(np.linspace(0.0, 1.0, 257)))
        return bool(np.any(lowest <= highest))


class Search:
    """The rounds of one search. ``propose()`` gives the next round's candidates (None when done); ``record``
    takes their outcome. Round 0 is the coarse grid; round r ≥ 1 draws ``per_round // top`` points in a box around
    each of the ``top`` worst candidates so far (the worst of each coarse cell), its half-widths one grid spacing
    times 2^(1 − r). Points outside the space, repeated or infeasible are dropped, so a round may be smaller."""

    def __init__(self, space, budget, seed):
        self.space, self.budget, self.seed = space, budget, seed
        self.rounds = []  # (candidates, outcome, u, w) per finished round

    def propose(self):
        r = len(self.rounds)
        if r > self.budget.rounds:
            return None
        if r == 0:
            u, w = np.meshgrid(np.linspace(0, 1, self.budget.rarity), np.linspace(0, 1, self.budget.mean),
                               indexing="ij")
            u, w = u.ravel(), w.ravel()
        else:
            rng = np.random.default_rng((self.seed, r))
            all_u, all_w = (np.concatenate([round_[i] for round_ in self.rounds]) for i in (2, 3))
            worst = self._worst_cells(all_u, all_w)
            draws = (len(worst), max(1, self.budget.per_round // self.budget.top))
            half = 2.0 ** (1 - r)
            u = (all_u[worst, None] + half / (self.budget.rarity - 1) * rng.uniform(-1, 1, draws)).ravel()
            if self.budget.rarity_levels:
                u = np.rint(u * (self.budget.rarity_levels - 1)) / (self.budget.rarity_levels - 1)
            w = (all_w[worst, None] + half / (self.budget.mean - 1) * rng.uniform(-1, 1, draws)).ravel()
            inside = (u >= 0) & (u <= 1) & (w >= 0) & (w <= 1)
            u, w = u[inside], w[inside]
        candidates, feasible = self.space.candidates(u, w)
        keep = np.flatnonzero(feasible & self._new(candidates))
        self._pending = (candidates.take(keep), u[keep], w[keep])
        return self._pending[0]

    def _worst_cells(self, u, w):
        """Indices of the ``top`` worst candidates so far (``worst_first``), at most one per cell of the coarse grid,
        so that the refinement spreads over every region that fails rather than polishing one point."""
        tails = np.concatenate([outcome.badness for _, outcome, *_ in self.rounds])
        means = np.concatenate([self.space.coordinates(candidates)[1] for candidates, *_ in self.rounds])
        cells = np.rint(u * (self.budget.rarity - 1)) * self.budget.mean + np.rint(w * (self.budget.mean - 1))
        order = worst_first(tails, means)
        _, first = np.unique(cells[order], return_index=True)
        return order[np.sort(first)][:self.budget.top]

    def _new(self, candidates):
        """A mask of candidates not evaluated before and not repeated within ``candidates`` (online P is rounded)."""
        seen = {key for round_ in self.rounds for key in _keys(round_[0])}
        mask = np.zeros(len(candidates), bool)
        for i, key in enumerate(_keys(candidates)):
            if key not in seen:
                seen.add(key)
                mask[i] = True
        return mask

    def record(self, outcome):
        """The outcome of the candidates ``propose`` gave last."""
        candidates, u, w = self._pending
        self.rounds.append((candidates, outcome, u, w))


def worst_first(tail_x, mean):
    """Candidate indices from the highest tail x (or other badness) down; among equal ones (many stick at exactly
    +1) the larger mean coefficient first, the counterexample whose optimum is the clearest."""
    return np.lexsort((-mean, -tail_x))


def _keys(candidates):
    return zip(candidates.family.values(candidates).tolist(), candidates.C.tolist())
