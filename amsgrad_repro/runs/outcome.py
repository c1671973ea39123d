"""What an engine measured of R candidate problems (``families.Candidates``) run for T steps each."""

from dataclasses import dataclass, fields

import numpy as np


@dataclass
class Outcome:
    """Per candidate, each (R,) float64."""

    tail_x: np.ndarray  # ``runs.verdict.TailMean``: the mean of x_t over the logged t in the last 10 % of the steps
    final_x: np.ndarray  # x_{T+1}
    average_regret: np.ndarray  # R_T/T

    @classmethod
    def concatenate(cls, outcomes):
        """The outcomes of consecutive tiles of candidates, as one."""
        return cls(**{f.name: np.concatenate([getattr(o, f.name) for o in outcomes]) for f in fields(cls)})
