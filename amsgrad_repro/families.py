"""The families of the paper's counterexamples, one ``Family`` object each: ``online`` and ``stochastic``.

A family is everything that differs between the two: its model (``experiment.Online`` or ``experiment.Stochastic``),
the parameter that makes its big gradient rare (the period P, or the probability p), the search's coordinates and
bounds over that parameter, the labels of tables and figures, and the flags that replay one of its problems. Every
other module asks the family object; none compares a family by its name (``tests/test_families.py`` checks that).
Adding a family is one ``Family`` subclass here, one entry of ``FAMILIES``, and its tests.

Both families share the mean coefficient's form. With the rarity ρ = P (online) or 1/p (stochastic), the mean
coefficient in units of s is μ/s = C/ρ − (ρ − 1)/ρ: (C − (P − 1))/P online, p·C − (1 − p) stochastic.
"""

import functools
import importlib
from dataclasses import dataclass, replace

import numpy as np

from . import presets


def _experiment():
    """``amsgrad_repro.experiment``, imported on first use: it imports torch, and the CLI's parser reads the
    families' names without it."""
    return importlib.import_module(".experiment", __package__)


class Family:
    """One family of problems f_t(x) = a_t·x with a_t = s·C (rare) or −s (common), x* = −1 on [−1, 1].

    Attributes:
        name: the family's name on the command line and in files.
        model_name: its ``experiment`` model class's name (``model`` is the class).
        parameter: the model's (and the problem command's flag's) name of the rarity parameter.
        symbol: that parameter's symbol in tables.
        random: whether its coefficients come from the uniform stream (``experiment.Stochastic.draws``).
        rarity_label: the failure map's axis label of the parameter.
        mean_label: the failure map's axis label of the mean coefficient.
        preset: the problem command (``presets.PRESETS``) that runs one of its problems, given s, C and the
            parameter as flags: a candidate's replay.
    """

    name = model_name = parameter = symbol = rarity_label = mean_label = preset = None
    random = False

    @property
    def model(self):
        return getattr(_experiment(), self.model_name)

    def rarity_value(self, rarity):
        """The parameter (P or p) at rarity ρ."""
        raise NotImplementedError

    def rarity(self, value):
        """The rarity ρ of a parameter value (P, or 1/p)."""
        raise NotImplementedError

    def round_rarity(self, rarity):
        """The rarities a problem can have, nearest to ``rarity`` (the online family's periods are integers)."""
        return rarity

    def problem(self, scale, C, value, seed=0):
        """The model with s = ``scale``, ``C``, and the parameter ``value`` (P or p)."""
        raise NotImplementedError

    def stream(self, seed):
        """The source of the family's random draws for ``seed`` (``experiment.Stochastic.draws``), or None."""
        return None

    def coefficients(self, candidates, stream, t0, n):
        """(n, R) float32: row k holds a_{t0+k} of every candidate, from ``experiment``'s definition of the family;
        ``stream`` is ``stream(candidates.seed)``, read in step order."""
        raise NotImplementedError

    def values(self, candidates):
        """The parameter (P or p) of each of ``candidates``."""
        return getattr(candidates, self.parameter)

    def axis(self, rarity):
        """The failure map's horizontal coordinate at rarity ρ: the parameter itself."""
        return self.rarity_value(rarity)

    def show(self, value):
        """The parameter's value as text: ``125``, or ``0.0012``."""
        raise NotImplementedError

    def format_value(self, value):
        """The parameter as text, e.g. ``P=125`` or ``p=0.0012``."""
        return f"{self.symbol}={self.show(value)}"

    def least_mean(self, rarity, margin, steps, seed):
        """The least mean coefficient μ/s a search accepts at rarity ρ over T = ``steps``: the margin δ."""
        return np.full(np.shape(rarity), float(margin))

    def __repr__(self):
        return f"<family {self.name}>"


def mean_coefficient(rarity, C):
    """μ/s = C/ρ − (ρ − 1)/ρ (see the module's docstring)."""
    return (C - (rarity - 1.0)) / rarity


def rare_coefficient(rarity, mean):
    """C at rarity ρ and mean coefficient μ/s: the inverse of ``mean_coefficient``."""
    return mean * rarity + (rarity - 1.0)


class OnlineFamily(Family):
    """f_t = s·C·x when t mod P = 1, else −s·x (Reddi et al., Section 3): deterministic, with period P."""

    name, model_name, parameter, symbol, random, preset = "online", "Online", "period", "P", False, "online"
    rarity_label = "period $P$ (a big gradient every $P$ steps)"
    mean_label = r"mean coefficient $\mu/s = (C - (P-1))/P$"

    def rarity_value(self, rarity):
        return np.rint(rarity).astype(np.int64)

    def rarity(self, value):
        return np.asarray(value, np.float64)

    def round_rarity(self, rarity):
        return np.rint(rarity)

    def problem(self, scale, C, value, seed=0):
        return self.model(scale=scale, C=C, period=int(value))

    def coefficients(self, candidates, stream, t0, n):
        t = np.arange(t0, t0 + n, dtype=np.int64)[:, None]
        period = candidates.period.astype(np.int64)
        return _experiment().online_coefficients(t, candidates.scale, candidates.C, period)

    def show(self, value):
        return f"{int(value)}"


class StochasticFamily(Family):
    """f_t = s·C·x with probability p, else −s·x (Reddi et al., Section 5 and Theorem 3), every problem of a seed
    reading the uniform stream of ``experiment.Stochastic(seed=seed)``."""

    name, model_name, parameter, symbol, random, preset = "stochastic", "Stochastic", "p", "p", True, "stochastic"
    rarity_label = "probability $p$ of the big gradient"
    mean_label = r"mean coefficient $\mu/s = pC - (1-p)$"

    def rarity_value(self, rarity):
        return 1.0 / np.asarray(rarity, np.float64)

    def rarity(self, value):
        return 1.0 / np.asarray(value, np.float64)

    def problem(self, scale, C, value, seed=0):
        return self.model(scale=scale, C=C, p=float(value), seed=seed)

    def stream(self, seed):
        return self.model(seed=seed)

    def coefficients(self, candidates, stream, t0, n):
        """Candidate r has its rare gradient at step t when u_t < p_r, as ``Stochastic(p=p_r, seed=seed)`` alone
        would."""
        return _experiment().stochastic_coefficients(stream.draws(t0, n)[:, None], candidates.scale, candidates.C,
                                                  candidates.p)

    def show(self, value):
        return f"{value:.4g}"

    def least_mean(self, rarity, margin, steps, seed):
        """The margin δ, required also of the T draws a run sees: with about 100 rare gradients their count varies
        by ±10 %, enough to turn a small μ negative on the sample, where x → +1 would be right.

        With N rare gradients among the T draws the sample mean is (C·N − (T − N))/T ≥ δ when
        C ≥ ((1 + δ)·T − N)/N.
        """
        if not np.isfinite(steps):  # T = ∞: the drift is judged at p itself
            return super().least_mean(rarity, margin, steps, seed)
        p = 1.0 / np.asarray(rarity, np.float64)
        count = np.searchsorted(_sorted_draws(seed, steps), p)  # N = #{t ≤ T : u_t < p}
        least_C = ((1.0 + margin) * steps - count) / np.maximum(count, 1)
        realised = np.where(count > 0, p * least_C - (1.0 - p), np.inf)
        return np.maximum(super().least_mean(rarity, margin, steps, seed), realised)


@functools.lru_cache(maxsize=4)
def _sorted_draws(seed, steps):
    return np.sort(STOCHASTIC.stream(seed).draws(1, steps))


ONLINE, STOCHASTIC = OnlineFamily(), StochasticFamily()
FAMILIES = {family.name: family for family in (ONLINE, STOCHASTIC)}


def get(name):
    """The family called ``name``; a ``Family`` is returned as it is.

    Raises:
        ValueError: an unknown name, with the known ones.
    """
    if isinstance(name, Family):
        return name
    try:
        return FAMILIES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown problem family {name!r}; the families are {', '.join(FAMILIES)}") from None


def of(problem):
    """The family of an ``experiment`` model."""
    for family in FAMILIES.values():
        if isinstance(problem, family.model):
            return family
    raise ValueError(f"{type(problem).__name__} is not a model of any family ({', '.join(FAMILIES)})")


def make_problem(name, seed=0, **overrides):
    """A fresh problem from a preset (``presets.PRESETS``), with ``overrides`` (scale, C, period or p) replacing its
    values; ``seed`` seeds the stochastic family's draws."""
    family, params = presets.resolve(name, **overrides)
    family = get(family)
    return family.problem(params["scale"], params["C"], params[family.parameter], seed)


@dataclass(frozen=True)
class Candidates:
    """R problems of one family, one per run: s·C·x when rare, else −s·x, rare with ``period`` (online) or ``p``
    (stochastic, every candidate reading the uniform stream of ``experiment.Stochastic(seed=seed)``). The other
    family's parameter is unused (zeros or NaN).

    ``family`` may be given by name; it is stored as the ``Family``.
    """

    family: Family
    period: np.ndarray  # (R,) int64
    C: np.ndarray  # (R,) float64
    scale: np.ndarray  # (R,) float64
    p: np.ndarray  # (R,) float64
    seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "family", get(self.family))

    @classmethod
    def at(cls, family, rarity, C, scale, seed=0):
        """Candidates of ``family`` at rarities ρ (rounded to the family's parameter) with the given C and s."""
        family = get(family)
        values = family.rarity_value(rarity)
        runs = len(values)
        fields = {"period": np.zeros(runs, np.int64), "p": np.full(runs, np.nan), family.parameter: values}
        return cls(family, C=np.asarray(C, np.float64), scale=np.asarray(scale, np.float64), seed=seed, **fields)

    def __len__(self):
        return len(self.C)

    def part(self, start, stop):
        """Candidates ``start`` .. ``stop − 1``, for a tile of a round."""
        return self.take(slice(start, stop))

    def take(self, rows):
        """The candidates at index ``rows`` (a slice or indices), same family and seed."""
        return replace(self, **{name: getattr(self, name)[rows] for name in ("period", "C", "scale", "p")})

    @property
    def rarity(self):
        """ρ of each candidate: P, or 1/p."""
        return self.family.rarity(self.family.values(self))

    @property
    def mean(self):
        """μ/s of each candidate (``mean_coefficient``)."""
        return mean_coefficient(self.rarity, self.C)

    def problem(self, r):
        """The ``experiment`` model of candidate r, for replays and tests."""
        return self.family.problem(self.scale[r], self.C[r], self.family.values(self)[r], self.seed)
