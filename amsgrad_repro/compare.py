"""``python -m amsgrad_repro compare``: a zoo of optimizers on one problem, ranked by average regret.

Each optimizer runs on the fused engine when it has a kernel for its options, else on torchbearer (``--engine auto``);
the leaderboard records which. Outputs go to a fresh ``<out>/compare-<problem>-<stamp>/``:

- ``leaderboard.csv``: one row per optimizer, sorted by R_T/T (columns in ``COLUMNS``; with ``--seeds K > 1`` the
  value columns are means over the seeds and ``SPREAD_COLUMNS`` are added). ``final_x`` is x_{T+1}, the iterate
  after the last update; ``converged`` is ``runs.converged``, the verdict on ``tail_x`` (mean x_t over the last
  10 %), and with several seeds it holds only when every seed converged;
- ``figure.png``: R_t/t and x_t per optimizer (``plots.figure1``), with a 10-90 % band over seeds, and the same
  band as TensorBoard runs ``<Model>_<optimizer>_{mean,p10,p90}`` (``runs.write_seed_bands``);
- ``leaderboard.png``: the leaderboard as bars of tail x and R_T/T (``plots.leaderboard_chart``);
- TensorBoard runs ``<Model>_<optimizer>[_seed<k>]/epoch-0`` with the shared tags of ``runs.TAGS``, so TensorBoard
  overlays every optimizer in one chart;
- ``summary.json``: ``runs.write_summary``'s record plus the leaderboard.
"""

import argparse
import csv
import os
import sys
from dataclasses import dataclass

import numpy as np

from . import experiment, optimizers, runs
from .settings import (
    RUN_HELP, RunSettings, beta_pair, choice, non_negative_int, optimizer_list, positive_float, positive_int, setting,
)

ZOO = ("adam", "amsgrad", "amsgrad-paper", "adamnc", "yogi", "adabound", "sgd", "adagrad")

COLUMNS = ("optimizer", "engine", "final_x", "distance_to_optimum", "average_regret", "converged", "tail_x")
SPREAD_COLUMNS = ("seeds", "converged_seeds", "final_x_p10", "final_x_p90", "average_regret_p10",
                  "average_regret_p90")




@dataclass(frozen=True)
class CompareSettings:
    """One invocation of ``python -m amsgrad_repro compare``."""

    problem: str = setting("online", choice(*experiment.PRESETS), f"problem: {', '.join(experiment.PRESETS)}")
    optimizers: tuple = setting(ZOO, optimizer_list, "comma list of registry names or module:Class")
    steps: int = setting(100_000, positive_int, "number of steps T (t = 1..T)")
    # 0.02: on online at T = 1e5 the smallest round lr at which amsgrad's tail reaches x* (adam's stays near +1)
    lr: float = setting(0.02, positive_float, "learning rate alpha, the same for every optimizer")
    betas: tuple = setting((0.9, 0.99), beta_pair, "beta1,beta2, each in [0, 1), for the optimizers that read them")
    schedule: str = setting("constant", choice("constant", "sqrt"), RUN_HELP["schedule"])
    seed: int = setting(0, non_negative_int, "seed of the stochastic problem's generator (the first, with --seeds)")
    seeds: int = setting(1, positive_int, "seeds seed..seed+K-1 (stochastic problems); >1 adds 10-90%% columns")
    out: str = setting("logs", str, "directory in which a fresh compare-<problem>-<time> run directory is made")
    log_every: int = setting(0, non_negative_int, RUN_HELP["log_every"])
    engine: str = setting("auto", choice("auto", "fused", "torchbearer"),
                          "auto = per optimizer, fused when it has a kernel for its options, else torchbearer")

    def run_settings(self):
        """The ``RunSettings`` that ``fused.run`` and ``trial.run`` read (steps, schedule, logging interval)."""
        return RunSettings(
            steps=self.steps, lr=self.lr, betas=self.betas, schedule=self.schedule, optimizers=self.optimizers,
            seed=self.seed, seeds=self.seeds, logdir=self.out, log_every=self.log_every, engine=self.engine,
        )


def leaderboard(problem, trajectories, engines, seeds):
    """One dict per optimizer (values averaged over its seeds), sorted by average regret, NaN last."""
    groups = {}
    for tr in trajectories:
        groups.setdefault(tr.optimizer, []).append(tr)
    rows = []
    for name, group in groups.items():
        x = np.array([tr.final_x for tr in group])
        regret = np.array([tr.final_average_regret for tr in group])
        hits = [runs.converged(tr, problem.optimum) for tr in group]
        row = {
            "optimizer": name,
            "engine": engines[name],
            "final_x": float(x.mean()),
            "distance_to_optimum": float(np.abs(x - problem.optimum).mean()),
            "average_regret": float(regret.mean()),
            "converged": all(hits),
            "tail_x": float(np.mean([runs.tail_x(tr) for tr in group])),
            "steps_per_s": float(np.mean([tr.steps_per_s for tr in group])),
        }
        if seeds > 1:
            row.update(seeds=len(group), converged_seeds=sum(hits))
            row["final_x_p10"], row["final_x_p90"] = map(float, np.percentile(x, [10, 90]))
            row["average_regret_p10"], row["average_regret_p90"] = map(float, np.percentile(regret, [10, 90]))
        rows.append(row)
    return sorted(rows, key=lambda r: (np.isnan(r["average_regret"]), r["average_regret"]))


def write_leaderboard(path, rows, seeds):
    columns = COLUMNS + (SPREAD_COLUMNS if seeds > 1 else ())
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def format_leaderboard(problem, rows, seeds):
    """The stdout table: rank, optimizer, engine, final x, |x - x*|, tail x, R_T/T, the verdict and speed."""
    spread = seeds > 1
    head = f"{'#':>2}  {'optimizer':<16}{'engine':<13}{'final x':>9}{'|x-x*|':>9}{'tail x':>9}{'R_T/T':>10}"
    if spread:
        head += f"{'x p10..p90':>18}{'R_T/T p10..p90':>20}"
    lines = [head + f"{'steps/s':>13}  verdict (tail x = mean x_t over the last 10 %)"]
    for rank, r in enumerate(rows, start=1):
        line = (f"{rank:>2}  {r['optimizer']:<16}{r['engine']:<13}{r['final_x']:>+9.4f}"
                f"{r['distance_to_optimum']:>9.4f}{r['tail_x']:>+9.4f}{r['average_regret']:>10.4f}")
        if spread:
            line += (f"{r['final_x_p10']:>+9.3f}..{r['final_x_p90']:<+7.3f}"
                     f"{r['average_regret_p10']:>11.4f}..{r['average_regret_p90']:<7.4f}")
        if spread:
            verdict = f"reached x* in {r['converged_seeds']}/{r['seeds']} seeds"
        else:
            verdict = "reached x*" if r["converged"] else f"missed x* = {problem.optimum:+g}"
        lines.append(line + f"{r['steps_per_s']:>13,.0f}  {verdict}")
    return "\n".join(lines)


def run_compare(command, settings):
    """Runs every optimizer (and seed) on ``--problem``; writes the leaderboard, figure and summary; exit status."""
    from . import cli, plots

    name = settings.problem
    reference = cli.problem_for(name, settings.seed, settings.seeds)
    hyper = optimizers.Hyper(lr=settings.lr, beta1=settings.betas[0], beta2=settings.betas[1])
    cli.check_optimizers(settings.optimizers, hyper)
    specs = [optimizers.get(n) for n in settings.optimizers]
    engines = {spec.name: cli.engine_for(spec, hyper, settings.engine) for spec in specs}
    run_dir = cli.make_run_dir(settings.out, f"compare-{name}", "--out")
    print(f"run directory: {run_dir}")
    trajectories, interrupted = cli.train_all(name, specs, engines, settings.run_settings(), run_dir)
    runs.write_seed_bands(run_dir, reference, trajectories)
    rows = leaderboard(reference, trajectories, engines, settings.seeds)
    write_leaderboard(os.path.join(run_dir, "leaderboard.csv"), rows, settings.seeds)
    runs.write_summary(run_dir, settings, engines, reference, trajectories, interrupted, leaderboard=rows)
    betas = f"betas={settings.betas[0]:g},{settings.betas[1]:g}"
    seeds = f", mean of {settings.seeds} seeds" if settings.seeds > 1 else ""
    title = f"{name}: T = {settings.steps:,}, lr = {settings.lr:g} ({settings.schedule}), {betas}{seeds}"
    # Worst first, so the best-ranked curves are drawn on top of the wide oscillations of SGD-like optimizers.
    drawing_order = [tr for row in reversed(rows) for tr in trajectories if tr.optimizer == row["optimizer"]]
    plots.figure1(reference, drawing_order, os.path.join(run_dir, "figure.png"), title)
    plots.leaderboard_chart(reference, rows, os.path.join(run_dir, "leaderboard.png"), title)
    print(format_leaderboard(reference, rows, settings.seeds))
    if interrupted:
        print(f"interrupted: partial leaderboard.csv/png, summary.json and figure.png are in {run_dir}",
              file=sys.stderr)
        return 130
    print(f"wrote {run_dir}/leaderboard.csv, leaderboard.png, summary.json and figure.png; "
          f"view with: tensorboard --logdir {settings.out}")
    return 0


def register(commands):
    """Adds the ``compare`` subcommand to the CLI's subparsers."""
    from . import cli

    sub = commands.add_parser(
        "compare",
        help="run a zoo of optimizers on one problem and rank them by average regret",
        description="Run each optimizer (and seed) on one problem, each on the fused engine when it has a kernel, "
        "else on torchbearer; write leaderboard.csv and .png, figure.png, summary.json and overlaid TensorBoard runs into "
        "a fresh compare-<problem>-<time> directory under --out, and print the leaderboard.",
        epilog=cli.optimizer_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cli.add_settings(sub, CompareSettings)
    sub.set_defaults(handler=run_compare, settings_cls=CompareSettings)
