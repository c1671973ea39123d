"""``CensusPlan``: how hard the census searches each class, written to ``summary.json``."""

from dataclasses import dataclass


@dataclass(frozen=True)
class CensusPlan:
    """The search each (class, family) gets, and the limits that keep one class from taking the census down.

    Every row is one ``python -m amsgrad_repro break --steps inf`` with these flags; what the plan cannot see is
    said in README ("The census").
    """

    families: tuple = ("online", "stochastic")  # the families searched, one row each
    lr: float = 1e-3  # α for every class, whatever its own default
    max_period: int = 100  # the largest P (or 1/p); break's own default on the batched torch engine is 10^4
    grid: str = "12x12"  # break's coarse grid (its default, 40x64, costs 50 to 120 µs a torch step on that engine)
    rounds: int = 1  # break's refinement rounds after it (its default: 2)
    drift_steps: int = 1 << 16  # stochastic: the steps of each candidate's drift (break's default: 2^18)
    margin: float = 0.01  # least mean coefficient, in units of s (``break --margin``)
    seconds: float = 600.0  # wall-clock limit of one row; then the row is refused as timed out
    memory_gb: float = 8.0  # address-space limit (RLIMIT_AS) of one row's process
    seed: int = 0  # ``break --seed``: its refinement draws and the stochastic family's draws

    def break_flags(self, family):
        """``break``'s flags for one row, but ``--optimizer`` and ``--out``."""
        return ["--family", family, "--steps", "inf", "--lr", repr(self.lr), "--max-period", str(self.max_period),
                "--grid", self.grid, "--rounds", str(self.rounds), "--drift-steps", str(self.drift_steps),
                "--margin", repr(self.margin), "--seed", str(self.seed)]
