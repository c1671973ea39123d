"""``python -m amsgrad_repro compare``: a zoo of optimizers on one problem, ranked by average regret.

Each optimizer runs on the fused engine when it has a kernel for its options, else on torchbearer (``--engine auto``);
the leaderboard records which. Outputs go to a fresh ``<logdir>/compare-<problem>-<stamp>/``:

- ``leaderboard.csv`` and ``leaderboard.png``: one row per optimizer, sorted by R_T/T (``reports.leaderboard``);
- ``figure.png``: R_t/t and x_t per optimizer (``reports.figure1``), with a 10-90 % band over seeds, and the same
  band as TensorBoard runs ``<Model>_<optimizer>_{mean,p10,p90}`` (``reports.bands``);
- TensorBoard runs ``<Model>_<optimizer>[_seed<k>]/epoch-0`` with the shared tags of ``runs.layout.PROBLEM_TAGS``, so
  TensorBoard overlays every optimizer in one chart;
- ``summary.json``: the record of every problem command plus the leaderboard.
"""

import os

from ..cluster.executor import connect
from ..reports.bands import write_seed_bands
from ..reports.board import describe_trajectories
from ..reports.figure1 import figure1
from ..reports.leaderboard import format_leaderboard, leaderboard, leaderboard_chart, write_leaderboard
from ..reports.summary import problem_record, trajectory_record, write_summary
from ..reports.table import format_compiles
from .orchestration import choose_engines, finish, make_run_dir, problem_for, train_all


def main(command, settings):
    """Runs every optimizer (and seed) on ``--problem``; writes the leaderboard, figure and summary; exit status."""
    name = settings.problem
    overrides = settings.problem_overrides()
    reference = problem_for(name, settings.seed, settings.seeds, overrides)
    plans = choose_engines(settings.optimizers, settings.hyper(), settings.engine)
    engines = {p.spec.name: p.engine for p in plans}
    executor = connect(settings.ray)
    run_dir = make_run_dir(settings.logdir, f"compare-{name}")
    print(f"run directory: {run_dir}")
    trajectories, failures = train_all(executor, name, plans, settings, run_dir, overrides)
    write_seed_bands(run_dir, reference, trajectories)
    rows = leaderboard(reference, trajectories, engines, settings.seeds)
    write_leaderboard(os.path.join(run_dir, "leaderboard.csv"), rows, settings.seeds)
    files = ["leaderboard.csv", "leaderboard.png", "summary.json", "figure.png"]
    write_summary(run_dir, command, settings, files, engine=engines, problem=problem_record(reference),
                  runs=[trajectory_record(tr, reference, run_dir) for tr in trajectories], failed=failures,
                  leaderboard=rows)
    betas = f"betas={settings.betas[0]:g},{settings.betas[1]:g}"
    seeds = f", mean of {settings.seeds} seeds" if settings.seeds > 1 else ""
    title = f"{name}: T = {settings.steps:,}, lr = {settings.lr:g} ({settings.schedule}), {betas}{seeds}"
    # Worst first, so the best-ranked curves are drawn on top of the wide oscillations of SGD-like optimizers.
    drawing_order = [tr for row in reversed(rows) for tr in trajectories if tr.optimizer == row["optimizer"]]
    figure1(reference, drawing_order, os.path.join(run_dir, "figure.png"), title)
    leaderboard_chart(reference, rows, os.path.join(run_dir, "leaderboard.png"), title)
    table = format_leaderboard(reference, rows, settings.seeds)
    describe_trajectories(run_dir, name, reference, settings, trajectories, engines, table,
                          {tag: os.path.join(run_dir, f"{tag}.png") for tag in ("figure", "leaderboard")})
    print("\n".join([*format_compiles(trajectories), table]))
    return finish(run_dir, settings.logdir, files, failures)
