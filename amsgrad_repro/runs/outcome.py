"""What an engine measured of R candidate problems (``families.Candidates``): run for T steps each (``Outcome``), or
judged at T = ∞ (``LimitOutcome``). Each says how badly each candidate fails (``badness``, higher is worse), which
the break search ranks by."""

import math
from dataclasses import dataclass, fields

import numpy as np

from .verdict import LIMIT_SEVERITY


@dataclass
class Outcome:
    """Per candidate, each (R,) float64."""

    tail_x: np.ndarray  # ``runs.verdict.TailMean``: the mean of x_t over the logged t in the last 10 % of the steps
    final_x: np.ndarray  # x_{T+1}
    average_regret: np.ndarray  # R_T/T

    @property
    def badness(self):
        """The tail x."""
        return self.tail_x

    @classmethod
    def concatenate(cls, outcomes):
        """The outcomes of consecutive tiles of candidates, as one."""
        return cls(**{f.name: np.concatenate([getattr(o, f.name) for o in outcomes]) for f in fields(cls)})


PUSH_SCALE = 1e-4  # per step: pushes well below this are told apart, those above it crowd near the top


@dataclass
class LimitOutcome:
    """Per candidate, its T = ∞ verdict (``engines.limits.Limit``)."""

    limits: list

    def column(self, name):
        return np.array([getattr(limit, name) for limit in self.limits], np.float64)

    @property
    def badness(self):
        """The outcome's severity (stuck > breaks > misses > undecided > converges), then the push: within one
        outcome, the harder x is pushed up the worse (no push: the least)."""
        push = np.nan_to_num(self.column("push"), nan=-math.inf)
        severity = np.array([LIMIT_SEVERITY[limit.outcome] for limit in self.limits], np.float64)
        return severity + 0.5 + np.arctan(push / PUSH_SCALE) / math.pi

    @classmethod
    def concatenate(cls, outcomes):
        return cls([limit for outcome in outcomes for limit in outcome.limits])
