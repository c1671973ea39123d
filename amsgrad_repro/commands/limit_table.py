"""Every candidate of a ``break --steps inf`` search with its T = ∞ verdict, ranked worst first (by
``runs.outcome.LimitOutcome.badness``): ``break.csv`` and the text table of the worst."""

import csv

import numpy as np

from ..reports.limit_text import limit_record
from ..runs.outcome import LimitOutcome
from .search import worst_first

COLUMNS = ("family", "period", "p", "C", "scale", "mean_coefficient", "outcome", "push", "tail_x", "average_regret",
           "steps_to_optimum", "certificate", "t0", "k", "interval_low", "interval_high", "reason", "round")


class LimitTable:
    """The rounds of one T = ∞ search as columns; ``order`` ranks the candidates worst first."""

    def __init__(self, rounds):
        self.candidates = [c for c, *_ in rounds]
        self.family = self.candidates[0].family
        self.round = np.concatenate([np.full(len(c), k) for k, c in enumerate(self.candidates)])
        self.limits = LimitOutcome.concatenate([o for _, o, *_ in rounds])
        self.mean = np.concatenate([c.mean for c in self.candidates])
        self.rarity = np.concatenate([c.rarity for c in self.candidates])
        self.badness = self.limits.badness
        self.order = worst_first(self.badness, self.mean)

    def candidate(self, i):
        """Candidate i alone, as ``families.Candidates`` of one."""
        k = int(self.round[i])
        j = i - int(np.searchsorted(self.round, k))
        return self.candidates[k].part(j, j + 1)

    def record(self, i):
        """Candidate i: its problem (the other family's parameter None), ``mean_coefficient`` and ``limit``."""
        one = self.candidate(i)
        values = {"period": None, "p": None, self.family.parameter: self.family.values(one)[0].item()}
        return {"family": self.family.name, **values, "C": float(one.C[0]), "scale": float(one.scale[0]),
                "mean_coefficient": float(self.mean[i] * one.scale[0]), "round": int(self.round[i]),
                "limit": limit_record(self.limits.limits[i])}

    def row(self, i):
        """Candidate i as the CSV's columns."""
        record = self.record(i)
        limit, certificate = record["limit"], record["limit"]["certificate"]
        interval = certificate.get("interval") or (None, None)
        cells = {**record, "outcome": limit["outcome"], "push": limit["push"], "tail_x": limit["tail_x"],
                 "average_regret": limit["average_regret"], "steps_to_optimum": limit["steps"],
                 "certificate": certificate.get("kind"), "t0": certificate.get("t0"), "k": certificate.get("k"),
                 "interval_low": interval[0], "interval_high": interval[1], "reason": limit["reason"]}
        return ["" if cells[name] is None else cells[name] for name in COLUMNS]

    def write_csv(self, path):
        with open(path, "w", newline="") as f:
            out = csv.writer(f)
            out.writerow(COLUMNS)
            out.writerows(self.row(i) for i in range(len(self.badness)))

    def counts(self):
        """{outcome: how many candidates}."""
        outcomes = [limit.outcome for limit in self.limits.limits]
        return {outcome: outcomes.count(outcome) for outcome in dict.fromkeys(outcomes)}

    def format_worst(self, k):
        """The ``k`` worst candidates as a text table."""
        lines = [f"{'#':>2} {self.family.symbol:>10} {'C':>12} {'mean/s':>9} {'outcome':>10} {'push/step':>10} "
                 f"{'limit x':>8} {'certificate':>15}"]
        values = self.family.rarity_value(self.rarity)
        for rank, i in enumerate(self.order[:k], start=1):
            limit = self.limits.limits[i]
            lines.append(f"{rank:>2} {self.family.show(values[i]):>10} {self.candidate(i).C[0]:>12.6g} "
                         f"{self.mean[i]:>9.4g} {limit.outcome:>10} "
                         f"{f'{limit.push:+.3g}' if np.isfinite(limit.push) else '-':>10} "
                         f"{f'{limit.tail_x:+.4f}' if np.isfinite(limit.tail_x) else '-':>8} "
                         f"{limit.certificate.get('kind', '-'):>15}")
        return "\n".join(lines)
