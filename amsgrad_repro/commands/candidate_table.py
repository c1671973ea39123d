"""Every candidate a ``break`` search evaluated, with its outcome, ranked worst first: ``break.csv`` and the text
table of the worst."""

import csv

import numpy as np

from ..runs.outcome import Outcome
from ..runs.verdict import break_record
from .search import worst_first

COLUMNS = ("family", "period", "p", "C", "scale", "steps", "tail_x", "final_x", "average_regret", "round")


class CandidateTable:
    """The rounds of one search (``search.Search.rounds``) as columns; ``order`` ranks the candidates worst
    first."""

    def __init__(self, rounds):
        self.candidates = [c for c, *_ in rounds]
        self.family = self.candidates[0].family
        self.round = np.concatenate([np.full(len(c), k) for k, c in enumerate(self.candidates)])
        self.columns = {name: np.concatenate([getattr(c, name) for c in self.candidates])
                        for name in ("period", "p", "C", "scale")}
        outcome = Outcome.concatenate([o for _, o, *_ in rounds])
        self.columns.update(tail_x=outcome.tail_x, final_x=outcome.final_x, average_regret=outcome.average_regret)
        self.rarity = np.concatenate([c.rarity for c in self.candidates])
        self.mean = np.concatenate([c.mean for c in self.candidates])
        self.tail_x = self.columns["tail_x"]
        self.order = worst_first(self.tail_x, self.mean)

    def candidate(self, i):
        """Candidate i alone, as ``families.Candidates`` of one."""
        k = int(self.round[i])
        j = i - int(np.searchsorted(self.round, k))
        return self.candidates[k].part(j, j + 1)

    def record(self, i, steps):
        """Candidate i as a dict of the CSV columns (the other family's parameter None), with ``mean_coefficient``
        and the verdict's ``breaks`` and ``stuck``."""
        values = {"period": None, "p": None,
                  self.family.parameter: self.family.values(self.candidate(i))[0].item()}
        return {"family": self.family.name, **values, "C": float(self.columns["C"][i]),
                "scale": float(self.columns["scale"][i]), "steps": steps,
                "final_x": float(self.columns["final_x"][i]),
                "average_regret": float(self.columns["average_regret"][i]), "round": int(self.round[i]),
                "mean_coefficient": float(self.mean[i] * self.columns["scale"][i]),
                **break_record(self.tail_x[i])}

    def write_csv(self, path, steps):
        with open(path, "w", newline="") as f:
            out = csv.writer(f)
            out.writerow(COLUMNS)
            for i in range(len(self.tail_x)):
                row = self.record(i, steps)
                out.writerow(["" if row[name] is None else row[name] for name in COLUMNS])

    def format_worst(self, k):
        """The ``k`` worst candidates as a text table."""
        lines = [f"{'#':>2} {self.family.symbol:>10} {'C':>12} {'mean/s':>9} {'tail x':>8} {'final x':>8} "
                 f"{'R_T/T':>9} {'round':>5}"]
        values = self.family.rarity_value(self.rarity)
        for rank, i in enumerate(self.order[:k], start=1):
            lines.append(f"{rank:>2} {self.family.show(values[i]):>10} {self.columns['C'][i]:>12.6g} "
                         f"{self.mean[i]:>9.4g} {self.tail_x[i]:>+8.4f} {self.columns['final_x'][i]:>+8.4f} "
                         f"{self.columns['average_regret'][i]:>9.4g} {self.round[i]:>5}")
        return "\n".join(lines)
